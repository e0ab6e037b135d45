package bounce

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseDSN(t *testing.T) {
	ds := "Reporting-MTA: dns; mx.example.com\n\nFinal-Recipient: rfc822; ok@example.org\nAction: delivered\nStatus: 2.0.0\n\n" +
		"Final-Recipient: rfc822;Gone@Example.org\nAction: failed\nStatus: 5.0.0\nDiagnostic-Code: smtp; 550 5.1.1 <gone@example.org>:\n Recipient address rejected: User unknown\n"
	got := Parse(&Input{DeliveryStatus: []byte(ds), OriginalHeaders: []byte("From: a@example.com\nMessage-ID: <orig-1@example.com>\n")})
	want := &Report{Recipient: "gone@example.org", Status: "5.1.1", Reason: UserUnknown,
		Diagnostic: "550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown", OriginalMessageID: "orig-1@example.com"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
}

func TestParseText(t *testing.T) {
	tests := []struct {
		name, text string
		want       Report
	}{
		{"postfix", "This is the mail system at host mx.example.com.\n\n<full@example.org>: host mx.example.org[192.0.2.1] said: 552 5.2.2 Mailbox full\n    (in reply to RCPT TO command)\n\n--- Original message follows.\n\nFrom: s@example.com\nMessage-ID: <m1@example.com>\n",
			Report{Recipient: "full@example.org", Status: "5.2.2", Reason: MailboxFull, Diagnostic: "host mx.example.org[192.0.2.1] said: 552 5.2.2 Mailbox full (in reply to RCPT TO command)", OriginalMessageID: "m1@example.com"}},
		{"office365", "Your message to big@example.org couldn't be delivered.\n\nRemote Server returned '552 5.3.4 Message size exceeds fixed maximum message size'\n",
			Report{Recipient: "big@example.org", Status: "5.3.4", Reason: MesgTooBig, Diagnostic: "Remote Server returned '552 5.3.4 Message size exceeds fixed maximum message size'"}},
		{"no code", "Delivery to the following recipients failed.\n\n   nohost@example.invalid\n\nHost or domain name not found.\n",
			Report{Recipient: "nohost@example.invalid", Reason: HostUnknown, Diagnostic: "Host or domain name not found."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse(&Input{Text: tt.text, Sender: "mailer-daemon@example.com", Recipients: []string{"s@example.com"}})
			if diff := cmp.Diff(&tt.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct{ status, text, want string }{
		{"5.1.1", "whatever", UserUnknown},
		{"5.0.0", "550 Requested action not taken: mailbox unavailable", UserUnknown},
		{"5.7.1", "Message rejected as spam", SpamDetected},
		{"5.7.1", "Relaying denied", Policy},
		{"4.4.7", "", Expired},
		{"", "Mailbox full", MailboxFull},
		{"5.5.0", "", Undefined},
		{"4.4.1", "", NetworkError},
		{"4.2.0", "", Delayed},
	}
	for _, tt := range tests {
		if got := Classify(tt.status, tt.text); got != tt.want {
			t.Errorf("Classify(%q, %q): got %q, want %q", tt.status, tt.text, got, tt.want)
		}
	}
}

func TestSESAndFeedback(t *testing.T) {
	js := `{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"MailboxFull","bouncedRecipients":[{"emailAddress":"a@example.org","status":"5.2.2","diagnosticCode":"smtp; 552 full"}]},"mail":{"commonHeaders":{"messageId":"<x@example.com>"}}}`
	if got := SES(js); got != "Bounce" {
		t.Fatalf("SES: got %q, want Bounce", got)
	}
	got := Parse(&Input{Text: js})
	want := &Report{Recipient: "a@example.org", Status: "5.2.2", Reason: MailboxFull, Diagnostic: "552 full", OriginalMessageID: "x@example.com"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse SES (-want +got):\n%s", diff)
	}
	fb := ParseFeedback(&Input{FeedbackReport: []byte("Feedback-Type: abuse\nUser-Agent: FBL/1\nVersion: 1\nOriginal-Rcpt-To: <R@example.org>\n"),
		OriginalHeaders: []byte("Message-ID: <y@example.com>\n")})
	wantFB := &Report{Recipient: "r@example.org", Reason: Feedback, FeedbackType: "abuse", Diagnostic: "reported by FBL/1", OriginalMessageID: "y@example.com"}
	if diff := cmp.Diff(wantFB, fb); diff != "" {
		t.Errorf("ParseFeedback (-want +got):\n%s", diff)
	}
	if !IsFeedbackText("Feedback-Type: abuse\nUser-Agent: x\nVersion: 1\n") || IsFeedbackText("Feedback-Type: great product!\n") {
		t.Error("IsFeedbackText")
	}
	if !IsDSNText("Final-Recipient: rfc822; a@example.org\nAction: failed\n") || IsDSNText("Final-Recipient is a word\n") {
		t.Error("IsDSNText")
	}
}
