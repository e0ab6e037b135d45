package mailconn

import (
	"strings"
	"testing"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox/mailtrace"
)

const canary = "Canary-Secret-4242"

// step is one chunk of a conversation: from the client or the server.
type step struct {
	client bool
	data   string
}

func traceOf(proto job.Protocol, steps []step) string {
	rec := mailtrace.New(0)
	tap := NewTap(rec, proto)
	for _, s := range steps {
		// Byte by byte, as the worst split a connection can make.
		for i := range len(s.data) {
			tap.feed(s.client, []byte{s.data[i]})
		}
	}
	return rec.String()
}

func TestTapLeavesSecretsOut(t *testing.T) {
	b64 := "AGRlc2sAQ2FuYXJ5LVNlY3JldC00MjQy" // \0desk\0Canary-Secret-4242
	tests := []struct {
		name  string
		proto job.Protocol
		steps []step
		want  []string
	}{
		{"imap login quoted", job.IMAP, []step{
			{false, "* OK ready\r\n"}, {true, `A1 LOGIN "desk" "` + canary + "\"\r\n"}, {false, "A1 OK done\r\n"},
		}, []string{"imap C: A1 LOGIN [user name and password not recorded]", "imap S: A1 OK done"}},
		{"imap login literals", job.IMAP, []step{
			{true, "A1 LOGIN {4}\r\n"}, {false, "+ go\r\n"}, {true, "desk {18}\r\n"}, {false, "+ go\r\n"}, {true, canary + "\r\n"},
			{false, "A1 OK done\r\n"}, {true, "A2 NOOP\r\n"},
		}, []string{"A1 LOGIN [user name and password not recorded]", "imap C: A2 NOOP"}},
		{"imap authenticate", job.IMAP, []step{
			{true, "A1 AUTHENTICATE PLAIN " + b64 + "\r\n"}, {false, "+ " + b64 + "\r\n"}, {true, b64 + "\r\n"}, {false, "A1 OK signed in\r\n"},
		}, []string{"A1 AUTHENTICATE PLAIN [initial response not recorded]", "+ [SASL challenge not recorded]", "[SASL response not recorded]", "A1 OK signed in"}},
		{"imap fetch literal", job.IMAP, []step{
			{true, "A3 UID FETCH 1 (BODY.PEEK[])\r\n"}, {false, "* 1 FETCH (UID 1 BODY[] {25}\r\n" + canary + " body\r\n)\r\nA3 OK\r\n"},
		}, []string{"* 1 FETCH (UID 1 BODY[] {25}", "[literal of 25 bytes not recorded]", "imap S: )", "imap S: A3 OK"}},
		{"pop3 pass and retr", job.POP3, []step{
			{false, "+OK ready\r\n"}, {true, "USER desk\r\n"}, {false, "+OK\r\n"}, {true, "PASS " + canary + "\r\n"}, {false, "+OK in\r\n"},
			{true, "RETR 1\r\n"}, {false, "+OK 30 octets\r\nSubject: x\r\n\r\n" + canary + "\r\n.\r\n"}, {true, "QUIT\r\n"},
		}, []string{"pop3 C: USER desk", "PASS [password not recorded]", "[message data of 3 lines", "pop3 C: QUIT"}},
		{"pop3 auth", job.POP3, []step{
			{true, "AUTH PLAIN\r\n"}, {false, "+ \r\n"}, {true, b64 + "\r\n"}, {false, "+OK in\r\n"}, {true, "STAT\r\n"},
		}, []string{"pop3 C: AUTH PLAIN", "+ [SASL challenge not recorded]", "[SASL response not recorded]", "pop3 C: STAT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := traceOf(tt.proto, tt.steps)
			if strings.Contains(got, canary) || strings.Contains(got, b64) {
				t.Errorf("the trace holds the secret:\n%s", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("the trace lacks %q:\n%s", w, got)
				}
			}
		})
	}
}

func TestBodyOutlines(t *testing.T) {
	soap := `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:GetItemResponse><m:ResponseMessages>
<m:GetItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Items><t:Message><t:MimeContent CharacterSet="UTF-8">` + canary + `</t:MimeContent>
<t:Subject>` + canary + `</t:Subject></t:Message></m:Items></m:GetItemResponseMessage></m:ResponseMessages></m:GetItemResponse></s:Body></s:Envelope>`
	x := xmlOutline([]byte(soap))
	if strings.Contains(x, canary) || !strings.Contains(x, `ResponseClass="Success"`) || !strings.Contains(x, "<ResponseCode>NoError</ResponseCode>") || !strings.Contains(x, "<MimeContent>") {
		t.Errorf("xml outline: got %s", x)
	}
	js := `{"token_type":"Bearer","access_token":"` + canary + `","expires_in":3599,"value":[{"subject":"` + canary + `","isRead":false}],"error":{"code":"ErrorItemNotFound","message":"gone"}}`
	j := jsonOutline([]byte(js))
	if strings.Contains(j, canary) || !strings.Contains(j, `"expires_in":3599`) || !strings.Contains(j, `"code":"ErrorItemNotFound"`) || !strings.Contains(j, `"isRead":false`) {
		t.Errorf("json outline: got %s", j)
	}
}
