package preprocess

import (
	"testing"

	"mailconnector/shared/message"
)

// hasControl returns the first control, escape or bidi character in s.
func hasControl(s string) (rune, bool) {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
			return r, true
		}
	}
	return 0, false
}

// TestHeaderFieldsAreControlFree sends terminal escapes and CR/LF in
// every header-derived field, raw and as RFC 2047/2231 encoded words
// (which survive header folding), and checks the normalized message.
func TestHeaderFieldsAreControlFree(t *testing.T) {
	for _, tt := range []struct {
		name, header string
		subject      string
		from         message.Address
	}{
		{name: "raw escapes in subject", header: "Subject: hi \x1b]0;title\x07\x1b[2Jthere\r\nFrom: a@example.org\r\n",
			subject: "hi there", from: message.Address{Address: "a@example.org"}},
		{name: "encoded escapes in subject", header: "Subject: =?utf-8?q?hi_=1B]0;title=07=1B[2Jthere?=\r\nFrom: a@example.org\r\n",
			subject: "hi there", from: message.Address{Address: "a@example.org"}},
		{name: "CRLF in encoded name", header: "Subject: s\r\nFrom: =?utf-8?q?Evil=0D=0ABcc:_x@y?= <evil@example.org>\r\n",
			subject: "s", from: message.Address{Name: "Evil Bcc: x@y", Address: "evil@example.org"}},
		{name: "CRLF in base64 name", header: "Subject: s\r\nFrom: =?utf-8?b?RXZpbA0KQmNjOiB4QHk=?= <evil@example.org>\r\n",
			subject: "s", from: message.Address{Name: "Evil Bcc: x@y", Address: "evil@example.org"}},
		{name: "bidi and C1 in name", header: "Subject: =?utf-8?q?invoice=E2=80=AEfdp.exe?=\r\nFrom: =?utf-8?q?A=C2=9B2Jnn?= <a@example.org>\r\n",
			subject: "invoicefdp.exe", from: message.Address{Name: "A2Jnn", Address: "a@example.org"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			raw := tt.header + "To: =?utf-8?q?Desk=1B[31m?= <desk@example.org>\r\nCc: =?utf-8?q?C=0Dc?= <c@example.org>\r\n" +
				"X-Customer: =?utf-8?q?ACME=0D=0AX-Evil:_1?=\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
				"--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename*=utf-8''a%1B%5B2Jb%0D%0A.pdf\r\n\r\n%PDF-1.4\r\n--b--\r\n"
			m := processString(t, raw, nil)
			if m.Subject != tt.subject {
				t.Errorf("Subject: got %q, want %q", m.Subject, tt.subject)
			}
			if m.From != tt.from {
				t.Errorf("From: got %+v, want %+v", m.From, tt.from)
			}
			fields := map[string]string{"subject": m.Subject, "from name": m.From.Name, "from address": m.From.Address}
			for _, a := range append(append([]message.Address{}, m.To...), m.Cc...) {
				fields["recipient "+a.Address] = a.Name + a.Address
			}
			for _, a := range m.Attachments {
				fields["attachment"] = a.Filename
				fields["attachment safe name"] = a.SafeName
			}
			for k, vs := range m.Headers {
				for _, v := range vs {
					fields["header "+k] = v
				}
			}
			if len(m.Attachments) != 1 {
				t.Errorf("attachments: got %d, want 1", len(m.Attachments))
			}
			for name, v := range fields {
				if r, bad := hasControl(v); bad {
					t.Errorf("%s: got %q with %U, want no control character", name, v, r)
				}
			}
			if got := m.Headers["X-Customer"]; len(got) != 1 || got[0] != "ACME X-Evil: 1" {
				t.Errorf("X-Customer: got %q, want [\"ACME X-Evil: 1\"]", got)
			}
		})
	}
}
