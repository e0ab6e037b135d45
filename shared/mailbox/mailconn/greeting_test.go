package mailconn_test

import (
	"strings"
	"testing"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox/mailconn"
)

// TestCheckGreeting: a greeting of another protocol is named; the
// protocol's own greeting, and a line of no known protocol (left to the
// adapter's parser), pass.
func TestCheckGreeting(t *testing.T) {
	tests := []struct {
		want   job.Protocol
		line   string
		saying string // "" for no error
	}{
		{job.IMAP, "* OK [CAPABILITY IMAP4rev1] ready\r\n", ""},
		{job.IMAP, "* PREAUTH welcome\r\n", ""},
		{job.POP3, "+OK Dovecot ready.\r\n", ""},
		{job.IMAP, "+OK Dovecot ready.\r\n", `the server greeted with "+OK Dovecot ready.": this is a POP3 port, not an IMAP one`},
		{job.IMAP, "-ERR too many connections\r\n", "this is a POP3 port, not an IMAP one"},
		{job.POP3, "* OK ready\r\n", `the server greeted with "* OK ready": this is an IMAP port, not a POP3 one`},
		{job.POP3, "220 mx.example.com ESMTP\r\n", "this is an SMTP port, not a POP3 one"},
		{job.IMAP, "220-mx.example.com ESMTP\r\n", "this is an SMTP port, not an IMAP one"},
		{job.IMAP, "hello\r\n", ""},
	}
	for _, tt := range tests {
		err := mailconn.CheckGreeting(tt.want, tt.line)
		switch {
		case tt.saying == "" && err != nil:
			t.Errorf("%s on %q: got %v, want nil", tt.want, tt.line, err)
		case tt.saying != "" && (err == nil || !strings.Contains(err.Error(), tt.saying)):
			t.Errorf("%s on %q: got %v, want an error saying %q", tt.want, tt.line, err, tt.saying)
		}
	}
	long := "+OK " + strings.Repeat("x", 200)
	if err := mailconn.CheckGreeting(job.IMAP, long); err == nil || len(err.Error()) > 200 {
		t.Errorf("a long greeting: got %v, want it shortened", err)
	}
}
