package pop3box_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/mailboxtest"
	"mailconnector/shared/mailbox/pop3box"
	"mailconnector/shared/secrets"
	"mailconnector/shared/testkit/dovecottest"
)

var (
	oauth      *dovecottest.OAuthServer
	withTLS    *dovecottest.Server // STLS and pop3s, NTLM, OAuth2
	withoutTLS *dovecottest.Server // ssl = no, NTLM, OAuth2
	userSeq    atomic.Int64
)

// serverConfig: POP3 has no flags, so whether a server marks retrieved
// mail \Seen in its IMAP view at QUIT is the server's own setting
// (Dovecot's pop3_no_flag_updates); with it the suite's "fetch leaves
// mail unseen" check sees only what the adapter did.
const serverConfig = "pop3_no_flag_updates = yes"

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pop3box tests:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	var err error
	if oauth, err = dovecottest.StartOAuthProcess(); err != nil {
		return 1, err
	}
	defer oauth.Close()
	opts := dovecottest.Options{TLS: true, NTLM: true, OAuth2IntrospectionURL: oauth.IntrospectionURL(), Config: serverConfig}
	if withTLS, err = dovecottest.StartProcess(&opts); err != nil {
		return 1, err
	}
	defer withTLS.Stop()
	opts.TLS = false
	if withoutTLS, err = dovecottest.StartProcess(&opts); err != nil {
		return 1, err
	}
	defer withoutTLS.Stop()
	return m.Run(), nil
}

// auths are the ways to sign in: method and mechanism.
var auths = []job.Auth{
	{Method: job.AuthPassword, Mechanism: "login"}, // USER/PASS
	{Method: job.AuthPassword, Mechanism: "plain"},
	{Method: job.AuthSPA, Mechanism: "ntlm"},
	{Method: job.AuthOAuth2, Mechanism: "xoauth2"},
	{Method: job.AuthOAuth2, Mechanism: "oauthbearer"},
}

var securities = []job.Security{job.SecurityNone, job.SecuritySTARTTLSIfAvailable, job.SecuritySTARTTLS, job.SecurityTLS}

// harness runs the suite in one security mode with one way to sign in.
type harness struct {
	security job.Security
	auth     job.Auth
}

func (h harness) Name() string {
	return string(h.security) + "/" + string(h.auth.Method) + "-" + h.auth.Mechanism
}

// Capabilities: POP3 has one folder, no flags, no renumbering, and
// deletes at QUIT.
func (h harness) Capabilities() mailboxtest.Caps {
	return mailboxtest.Caps{Cursor: true, DeleteOnClose: true}
}

// server is where the mode's boxes live: starttls-if-available runs
// against the server without TLS, to cover the fallback.
func (h harness) server() *dovecottest.Server {
	if h.security == job.SecuritySTARTTLSIfAvailable {
		return withoutTLS
	}
	return withTLS
}

// newUser adds a user to srv and, for OAuth2, a client whose
// client_credentials tokens sign in as that user.
func newUser(t testing.TB, srv *dovecottest.Server) (user, password string) {
	t.Helper()
	n := userSeq.Add(1)
	user, password = fmt.Sprintf("p%d", n), fmt.Sprintf("pw-%d-%d", time.Now().UnixNano(), n)
	if err := srv.AddUser(user, password); err != nil {
		t.Fatal(err)
	}
	oauth.AddClient("app-"+user, password, user)
	return user, password
}

func (h harness) New(t *testing.T) mailboxtest.Box {
	srv := h.server()
	b := &mailboxtest.DovecotBox{Srv: srv, Protocol: job.POP3, Security: h.security, Auth: h.auth}
	b.User, b.Password = newUser(t, srv)
	return b
}

// Open opens the adapter. For OAuth2 the suite's password is the
// client secret (so "wrong password" is a wrong client secret, refused
// by the token endpoint), and the token comes by client credentials.
func (h harness) Open(ctx context.Context, srv job.Server, creds secrets.Credentials) (mailbox.Session, error) {
	if srv.Auth.Method == job.AuthOAuth2 {
		creds = secrets.Credentials{Username: creds.Username, ClientID: "app-" + creds.Username, ClientSecret: creds.Password, TokenURL: oauth.TokenURL()}
	}
	s, err := pop3box.Open(ctx, pop3box.Config{Server: srv, Credentials: creds})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (h harness) TLS(t *testing.T, b mailboxtest.Box) (job.Server, string, bool) {
	return b.(*mailboxtest.DovecotBox).TLSServer(t, withTLS)
}

func (h harness) NoTLS(t *testing.T) (job.Server, bool) {
	return mailboxtest.DovecotServer(withoutTLS, job.POP3, job.SecuritySTARTTLS, h.auth), true
}

// TestConformance runs the suite in every security mode (USER/PASS), and
// with every way to sign in (over TLS).
func TestConformance(t *testing.T) {
	for _, sec := range securities {
		h := harness{security: sec, auth: auths[0]}
		t.Run(h.Name(), func(t *testing.T) { mailboxtest.Run(t, h) })
	}
	for _, a := range auths[1:] {
		h := harness{security: job.SecurityTLS, auth: a}
		t.Run(h.Name(), func(t *testing.T) { mailboxtest.Run(t, h) })
	}
}

// TestEveryCombination opens, lists and fetches in every security mode
// with every way to sign in, and checks what Info reports.
func TestEveryCombination(t *testing.T) {
	for _, sec := range securities {
		for _, a := range auths {
			h := harness{security: sec, auth: a}
			t.Run(h.Name(), func(t *testing.T) {
				t.Parallel()
				info := mailboxtest.OpenOne(t, h, sec)
				want := map[job.Security]string{job.SecurityNone: "none", job.SecuritySTARTTLSIfAvailable: "none", job.SecuritySTARTTLS: "starttls", job.SecurityTLS: "tls"}[sec]
				if info.Protocol != "pop3" || info.Security != want || info.Messages != 1 || info.Folder != "INBOX" {
					t.Errorf("got %+v, want pop3, security %s, 1 message in INBOX", info, want)
				}
			})
		}
	}
}
