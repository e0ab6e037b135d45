package imapbox_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/imapbox"
	"mailconnector/shared/mailbox/mailboxtest"
	"mailconnector/shared/secrets"
	"mailconnector/shared/testkit/dovecottest"
)

var (
	withTLS    *dovecottest.Server // offers STARTTLS and imaps
	withoutTLS *dovecottest.Server // ssl = no
	legacy     *dovecottest.Server // announces neither MOVE nor UIDPLUS
	userSeq    atomic.Int64
)

// legacyCaps is Dovecot's capability list without MOVE, UIDPLUS and
// IMAP4rev2, so the adapter takes its COPY + \Deleted fallback.
const legacyCaps = "imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ ESEARCH"

func TestMain(m *testing.M) {
	var err error
	withTLS, err = dovecottest.StartProcess(&dovecottest.Options{TLS: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "imapbox tests:", err)
		os.Exit(1)
	}
	withoutTLS, err = dovecottest.StartProcess(nil)
	if err != nil {
		withTLS.Stop()
		fmt.Fprintln(os.Stderr, "imapbox tests:", err)
		os.Exit(1)
	}
	legacy, err = dovecottest.StartProcess(&dovecottest.Options{Config: legacyCaps})
	if err != nil {
		withTLS.Stop()
		withoutTLS.Stop()
		fmt.Fprintln(os.Stderr, "imapbox tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	withTLS.Stop()
	withoutTLS.Stop()
	legacy.Stop()
	os.Exit(code)
}

// harness runs the suite in one security mode with one mechanism.
type harness struct {
	security  job.Security
	mechanism string
	srv       *dovecottest.Server // nil: chosen by security
}

func (h harness) Name() string { return string(h.security) + "/" + h.mechanism }

func (h harness) Capabilities() mailboxtest.Caps {
	return mailboxtest.Caps{MarkRead: true, Delete: true, Move: true, Purge: true, Cursor: true, ValidityReset: true, Folders: true, Restore: true, DisposeBetweenFetches: true}
}

// server is where the mode's boxes live: starttls-if-available runs
// against the server without TLS, to cover the fallback.
func (h harness) server() *dovecottest.Server {
	if h.srv != nil {
		return h.srv
	}
	if h.security == job.SecuritySTARTTLSIfAvailable {
		return withoutTLS
	}
	return withTLS
}

func (h harness) New(t *testing.T) mailboxtest.Box {
	srv := h.server()
	b := &mailboxtest.DovecotBox{Srv: srv, User: fmt.Sprintf("u%d", userSeq.Add(1)), Password: fmt.Sprintf("pw-%d-%d", time.Now().UnixNano(), userSeq.Load()),
		Protocol: job.IMAP, Security: h.security, Auth: job.Auth{Method: job.AuthPassword, Mechanism: h.mechanism}}
	if err := srv.AddUser(b.User, b.Password); err != nil {
		t.Fatal(err)
	}
	return b
}

func (h harness) Open(ctx context.Context, srv job.Server, creds secrets.Credentials) (mailbox.Session, error) {
	s, err := imapbox.Open(ctx, imapbox.Config{Server: srv, Credentials: creds})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (h harness) TLS(t *testing.T, b mailboxtest.Box) (job.Server, string, bool) {
	return b.(*mailboxtest.DovecotBox).TLSServer(t, withTLS)
}

func (h harness) NoTLS(t *testing.T) (job.Server, bool) {
	return mailboxtest.DovecotServer(withoutTLS, job.IMAP, job.SecuritySTARTTLS, job.Auth{Method: job.AuthPassword, Mechanism: h.mechanism}), true
}

func TestConformance(t *testing.T) {
	for _, sec := range []job.Security{job.SecurityNone, job.SecuritySTARTTLSIfAvailable, job.SecuritySTARTTLS, job.SecurityTLS} {
		for _, mech := range []string{"login", "plain"} {
			h := harness{security: sec, mechanism: mech}
			t.Run(h.Name(), func(t *testing.T) { mailboxtest.Run(t, h) })
		}
	}
}

// TestConformanceWithoutMove runs the suite against a server that
// announces neither MOVE nor UIDPLUS: moves are COPY + \Deleted, expunged
// by Purge.
func TestConformanceWithoutMove(t *testing.T) {
	if err := legacy.AddUser("legacycheck", "pw"); err != nil {
		t.Fatal(err)
	}
	s, err := imapbox.Open(context.Background(), imapbox.Config{
		Server: job.Server{Protocol: job.IMAP, Host: "127.0.0.1", Port: legacy.Port(dovecottest.IMAP),
			Security: job.SecurityNone, Timeout: job.Duration(5 * time.Second)},
		Credentials: secrets.Credentials{Username: "legacycheck", Password: "pw"},
	})
	if err != nil {
		t.Fatal(err)
	}
	caps := s.Info().Capabilities
	s.Close()
	if contains(caps, "MOVE") || contains(caps, "UIDPLUS") || contains(caps, "IMAP4rev2") {
		t.Fatalf("got capabilities %v, want neither MOVE nor UIDPLUS", caps)
	}
	mailboxtest.Run(t, harness{security: job.SecurityNone, mechanism: "login", srv: legacy})
}

func TestInfo(t *testing.T) {
	cases := []struct {
		name     string
		srv      *dovecottest.Server
		security job.Security
		kind     dovecottest.Kind
		want     string
		note     bool
	}{
		{"none", withTLS, job.SecurityNone, dovecottest.IMAP, "none", false},
		{"starttls offered", withTLS, job.SecuritySTARTTLSIfAvailable, dovecottest.IMAP, "starttls", false},
		{"starttls not offered", withoutTLS, job.SecuritySTARTTLSIfAvailable, dovecottest.IMAP, "none", true},
		{"starttls", withTLS, job.SecuritySTARTTLS, dovecottest.IMAP, "starttls", false},
		{"tls", withTLS, job.SecurityTLS, dovecottest.IMAPS, "tls", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			user := fmt.Sprintf("info%d", userSeq.Add(1))
			if err := c.srv.AddUser(user, "pw-info"); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 3; i++ {
				if err := c.srv.Deliver(user, "INBOX/Support", mailboxtest.Message(fmt.Sprintf("%s-%d@x", user, i), 100)); err != nil {
					t.Fatal(err)
				}
			}
			s, err := imapbox.Open(context.Background(), imapbox.Config{
				Server: job.Server{Protocol: job.IMAP, Host: "127.0.0.1", Port: c.srv.Port(c.kind), Security: c.security,
					CAFile: c.srv.CAFile(), Folder: "inbox/Support", Timeout: job.Duration(5 * time.Second)},
				Credentials: secrets.Credentials{Username: user, Password: "pw-info"},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			info := s.Info()
			if info.Protocol != "imap" || info.Security != c.want || info.Folder != "INBOX.Support" || info.Delimiter != "." ||
				info.Messages != 3 || info.Unseen != 3 || info.Validity == 0 || info.Server != c.srv.Addr(c.kind) {
				t.Errorf("got %+v, want imap, security %s, folder INBOX.Support, delimiter '.', 3 messages, 3 unseen, a validity, server %s", info, c.want, c.srv.Addr(c.kind))
			}
			if got := len(info.Notes) > 0; got != c.note {
				t.Errorf("got notes %q, want notes %v", info.Notes, c.note)
			}
			if !contains(info.Capabilities, "IMAP4rev1") {
				t.Errorf("got capabilities %v, want IMAP4rev1 among them", info.Capabilities)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// TestUnsupportedAuth: a method or mechanism the adapter does not speak
// fails at step authentication with ErrUnsupportedAuth (spa and oauth2 are
// covered by auth_test.go).
func TestUnsupportedAuth(t *testing.T) {
	for _, a := range []job.Auth{{Method: "kerberos"}, {Method: job.AuthPassword, Mechanism: "cram-md5"}, {Method: job.AuthOAuth2, Mechanism: "scram"}} {
		t.Run(string(a.Method)+"/"+a.Mechanism, func(t *testing.T) {
			_, err := imapbox.Open(context.Background(), imapbox.Config{
				Server: job.Server{Protocol: job.IMAP, Host: "127.0.0.1", Port: withoutTLS.Port(dovecottest.IMAP),
					Security: job.SecurityNone, Auth: a, Timeout: job.Duration(5 * time.Second)},
				Credentials: secrets.Credentials{Username: "x", Password: "y"},
			})
			var ce *mailbox.ConnectError
			if !errors.As(err, &ce) || ce.Step != mailbox.StepAuth || !errors.Is(err, imapbox.ErrUnsupportedAuth) {
				t.Errorf("got %v, want a ConnectError at step authentication wrapping ErrUnsupportedAuth", err)
			}
		})
	}
}
