package connect_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/connect"
	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/secrets"
	"mailconnector/shared/testkit/dovecottest"
)

// TestWrongPortFailsFastSayingWhatItFound points each protocol and
// security mode at the ports of the other protocol and at the ports of
// the wrong security: each attempt fails within one timeout (bounded at
// twice the timeout here, a bound on a hang) with an error that says
// what was found and what to change.
func TestWrongPortFailsFastSayingWhatItFound(t *testing.T) {
	srv := dovecottest.Start(t, &dovecottest.Options{TLS: true})
	sec := &memSecrets{m: map[string]secrets.Credentials{"s": {Username: "nobody", Password: "unused"}}}
	opener := connect.Opener{Secrets: sec}
	const timeout = 2 * time.Second

	implicitTLS := "(no greeting: is this an implicit TLS port? use security tls)"
	plainText := "the server answered in plain text"
	isPOP3 := "this is a POP3 port, not an IMAP one"
	isIMAP := "this is an IMAP port, not a POP3 one"
	tests := []struct {
		proto    job.Protocol
		security job.Security
		port     dovecottest.Kind
		step     mailbox.Step
		saying   string
	}{
		{job.IMAP, job.SecurityNone, dovecottest.IMAPS, mailbox.StepProtocol, implicitTLS},
		{job.IMAP, job.SecuritySTARTTLS, dovecottest.IMAPS, mailbox.StepProtocol, implicitTLS},
		{job.IMAP, job.SecuritySTARTTLSIfAvailable, dovecottest.IMAPS, mailbox.StepProtocol, implicitTLS},
		{job.IMAP, job.SecurityNone, dovecottest.POP3S, mailbox.StepProtocol, implicitTLS},
		{job.IMAP, job.SecurityTLS, dovecottest.IMAP, mailbox.StepTLS, plainText},
		{job.IMAP, job.SecurityNone, dovecottest.POP3, mailbox.StepProtocol, isPOP3},
		{job.IMAP, job.SecuritySTARTTLS, dovecottest.POP3, mailbox.StepProtocol, isPOP3},
		{job.IMAP, job.SecuritySTARTTLSIfAvailable, dovecottest.POP3, mailbox.StepProtocol, isPOP3},
		{job.IMAP, job.SecurityTLS, dovecottest.POP3S, mailbox.StepProtocol, isPOP3},
		{job.IMAP, job.SecurityTLS, dovecottest.POP3, mailbox.StepTLS, plainText},
		{job.POP3, job.SecurityNone, dovecottest.POP3S, mailbox.StepProtocol, implicitTLS},
		{job.POP3, job.SecuritySTARTTLS, dovecottest.POP3S, mailbox.StepProtocol, implicitTLS},
		{job.POP3, job.SecuritySTARTTLSIfAvailable, dovecottest.POP3S, mailbox.StepProtocol, implicitTLS},
		{job.POP3, job.SecurityNone, dovecottest.IMAPS, mailbox.StepProtocol, implicitTLS},
		{job.POP3, job.SecurityTLS, dovecottest.POP3, mailbox.StepTLS, plainText},
		{job.POP3, job.SecurityNone, dovecottest.IMAP, mailbox.StepProtocol, isIMAP},
		{job.POP3, job.SecuritySTARTTLS, dovecottest.IMAP, mailbox.StepProtocol, isIMAP},
		{job.POP3, job.SecuritySTARTTLSIfAvailable, dovecottest.IMAP, mailbox.StepProtocol, isIMAP},
		{job.POP3, job.SecurityTLS, dovecottest.IMAPS, mailbox.StepProtocol, isIMAP},
		{job.POP3, job.SecurityTLS, dovecottest.IMAP, mailbox.StepTLS, plainText},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s/on-%s", tt.proto, tt.security, tt.port), func(t *testing.T) {
			t.Parallel()
			s := job.Server{Protocol: tt.proto, Host: srv.Host, Port: srv.Port(tt.port), Security: tt.security,
				CAFile: srv.CAFile(), Auth: job.Auth{Method: job.AuthPassword, Secret: "s"}, Timeout: job.Duration(timeout)}
			start := time.Now()
			sess, err := opener.Open(context.Background(), &job.Job{ID: "wrong-port", Server: s})
			elapsed := time.Since(start)
			if err == nil {
				sess.Close()
				t.Fatalf("open: got a session, want step %s saying %q", tt.step, tt.saying)
			}
			t.Logf("%v (after %v)", err, elapsed.Round(time.Millisecond))
			var ce *mailbox.ConnectError
			if !errors.As(err, &ce) || ce.Step != tt.step || !strings.Contains(err.Error(), tt.saying) {
				t.Errorf("got %v, want step %s saying %q", err, tt.step, tt.saying)
			}
			if elapsed >= 2*timeout {
				t.Errorf("failed after %v, want within the timeout (%v)", elapsed, timeout)
			}
		})
	}
}
