package mailboxtest

import (
	"strings"
	"testing"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/secrets"
	"mailconnector/shared/testkit/dovecottest"
)

// DovecotBox is a Box on a private Dovecot (dovecottest): one user's
// mailbox, reached by IMAP or POP3 in one security mode with one way to
// sign in. The IMAP and POP3 adapters' harnesses use it as their Box.
type DovecotBox struct {
	Srv            *dovecottest.Server
	User, Password string
	Protocol       job.Protocol // job.IMAP or job.POP3
	Security       job.Security
	Auth           job.Auth // its Secret is set to "test"
}

// DovecotServer reaches srv by proto in one security mode: the implicit
// TLS port for security tls, the plain port otherwise. IMAP names the
// INBOX; POP3 has no folders.
func DovecotServer(srv *dovecottest.Server, proto job.Protocol, security job.Security, auth job.Auth) job.Server {
	plain, implicit := dovecottest.IMAP, dovecottest.IMAPS
	if proto == job.POP3 {
		plain, implicit = dovecottest.POP3, dovecottest.POP3S
	}
	s := job.Server{Protocol: proto, Host: "127.0.0.1", Port: srv.Port(plain), Security: security, Auth: auth,
		Timeout: job.Duration(10 * time.Second)}
	if security == job.SecurityTLS {
		s.Port = srv.Port(implicit)
	}
	if proto == job.IMAP {
		s.Folder = "INBOX"
	}
	return s
}

// Server reaches the box's INBOX, trusting the server's CA.
func (b *DovecotBox) Server() job.Server {
	s := DovecotServer(b.Srv, b.Protocol, b.Security, b.Auth)
	s.Auth.Secret = "test"
	if b.Srv.TLS() {
		s.CAFile = b.Srv.CAFile()
	}
	return s
}

// TLSServer is Harness.TLS for the box: the same user on tlsSrv (added
// there when the box lives elsewhere), by implicit TLS, with no CAFile.
func (b *DovecotBox) TLSServer(t *testing.T, tlsSrv *dovecottest.Server) (job.Server, string, bool) {
	t.Helper()
	if b.Srv != tlsSrv {
		if err := tlsSrv.AddUser(b.User, b.Password); err != nil {
			t.Fatal(err)
		}
	}
	return DovecotServer(tlsSrv, b.Protocol, job.SecurityTLS, b.Auth), tlsSrv.CAFile(), true
}

// Credentials sign in as the box's user.
func (b *DovecotBox) Credentials() secrets.Credentials {
	return secrets.Credentials{Username: b.User, Password: b.Password}
}

// Deliver writes raw into the user's maildir.
func (b *DovecotBox) Deliver(t testing.TB, folder string, raw []byte) {
	t.Helper()
	if err := b.Srv.Deliver(b.User, folder, raw); err != nil {
		t.Fatal(err)
	}
}

// State reads the user's maildir.
func (b *DovecotBox) State(t testing.TB) []MessageState {
	t.Helper()
	msgs, err := b.Srv.Messages(b.User)
	if err != nil {
		t.Fatal(err)
	}
	var out []MessageState
	for _, m := range msgs {
		out = append(out, MessageState{
			MessageID: strings.Trim(m.MessageID, "<>"),
			Folder:    strings.ReplaceAll(m.Folder, ".", "/"),
			Seen:      m.Seen,
			Deleted:   m.Deleted,
		})
	}
	return out
}

// ResetValidity gives the INBOX a new UIDVALIDITY (IMAP).
func (b *DovecotBox) ResetValidity(t testing.TB) {
	t.Helper()
	if b.Protocol == job.POP3 {
		t.Fatal("POP3 has no UIDVALIDITY")
	}
	v, err := b.Srv.UIDValidity(b.User, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Srv.SetUIDValidity(b.User, "INBOX", v+1000); err != nil {
		t.Fatal(err)
	}
}
