package imapbox_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/imapbox"
	"mailconnector/shared/mailbox/mailauth"
	"mailconnector/shared/mailbox/mailboxtest"
	"mailconnector/shared/secrets"
	"mailconnector/shared/testkit/dovecottest"
)

// authServers are Dovecots that also offer NTLM (SPA) and OAuth2.
type authServers struct {
	oauth          *dovecottest.OAuthServer
	tls, plainText *dovecottest.Server
}

func startAuthServers(t *testing.T) *authServers {
	t.Helper()
	a := &authServers{oauth: dovecottest.StartOAuth(t)}
	opts := dovecottest.Options{TLS: true, NTLM: true, OAuth2IntrospectionURL: a.oauth.IntrospectionURL()}
	a.tls = dovecottest.Start(t, &opts)
	opts.TLS = false
	a.plainText = dovecottest.Start(t, &opts)
	return a
}

// authHarness runs the suite with one way to sign in.
type authHarness struct {
	a        *authServers
	security job.Security
	auth     job.Auth
}

func (h authHarness) Name() string {
	return string(h.security) + "/" + string(h.auth.Method) + "-" + h.auth.Mechanism
}

func (h authHarness) Capabilities() mailboxtest.Caps {
	return mailboxtest.Caps{MarkRead: true, Delete: true, Move: true, Purge: true, Cursor: true, ValidityReset: true, Folders: true, DisposeBetweenFetches: true}
}

func (h authHarness) server() *dovecottest.Server {
	if h.security == job.SecuritySTARTTLSIfAvailable {
		return h.a.plainText
	}
	return h.a.tls
}

func (h authHarness) New(t *testing.T) mailboxtest.Box {
	srv := h.server()
	b := &mailboxtest.DovecotBox{Srv: srv, User: fmt.Sprintf("a%d", userSeq.Add(1)), Password: fmt.Sprintf("pw-%d-%d", time.Now().UnixNano(), userSeq.Load()),
		Protocol: job.IMAP, Security: h.security, Auth: h.auth}
	if err := srv.AddUser(b.User, b.Password); err != nil {
		t.Fatal(err)
	}
	h.a.oauth.AddClient("app-"+b.User, b.Password, b.User)
	return b
}

// Open: for OAuth2 the suite's password is the client secret of a client
// whose client_credentials tokens sign in as the box's user.
func (h authHarness) Open(ctx context.Context, srv job.Server, creds secrets.Credentials) (mailbox.Session, error) {
	if srv.Auth.Method == job.AuthOAuth2 {
		creds = secrets.Credentials{Username: creds.Username, ClientID: "app-" + creds.Username, ClientSecret: creds.Password, TokenURL: h.a.oauth.TokenURL()}
	}
	s, err := imapbox.Open(ctx, imapbox.Config{Server: srv, Credentials: creds})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (h authHarness) TLS(t *testing.T, b mailboxtest.Box) (job.Server, string, bool) {
	return b.(*mailboxtest.DovecotBox).TLSServer(t, h.a.tls)
}

func (h authHarness) NoTLS(t *testing.T) (job.Server, bool) {
	return mailboxtest.DovecotServer(h.a.plainText, job.IMAP, job.SecuritySTARTTLS, h.auth), true
}

var authWays = []job.Auth{
	{Method: job.AuthPassword, Mechanism: "login"},
	{Method: job.AuthPassword, Mechanism: "plain"},
	{Method: job.AuthSPA},
	{Method: job.AuthOAuth2, Mechanism: "xoauth2"},
	{Method: job.AuthOAuth2, Mechanism: "oauthbearer"},
}

// TestAuthMethods runs the conformance suite with SPA (NTLM) and both
// OAuth2 mechanisms, and opens a session in every security mode with
// every way to sign in.
func TestAuthMethods(t *testing.T) {
	a := startAuthServers(t)
	t.Run("conformance", func(t *testing.T) {
		for _, au := range authWays[2:] {
			h := authHarness{a: a, security: job.SecurityTLS, auth: au}
			t.Run(h.Name(), func(t *testing.T) { mailboxtest.Run(t, h) })
		}
	})
	t.Run("every combination", func(t *testing.T) {
		for _, sec := range []job.Security{job.SecurityNone, job.SecuritySTARTTLSIfAvailable, job.SecuritySTARTTLS, job.SecurityTLS} {
			for _, au := range authWays {
				h := authHarness{a: a, security: sec, auth: au}
				t.Run(h.Name(), func(t *testing.T) {
					t.Parallel()
					mailboxtest.OpenOne(t, h, sec)
				})
			}
		}
	})
	t.Run("refusals name the reason without a secret", func(t *testing.T) {
		user, pw := "refused", "pw-refused"
		if err := a.plainText.AddUser(user, pw); err != nil {
			t.Fatal(err)
		}
		a.oauth.AddClient("app-refused", pw, user)
		tests := []struct {
			name   string
			auth   job.Auth
			creds  secrets.Credentials
			saying string
		}{
			{"ntlm wrong password", job.Auth{Method: job.AuthSPA}, secrets.Credentials{Username: user, Password: "Wr0ng-Secret-Value-42"}, "AUTHENTICATE NTLM"},
			{"forged token", job.Auth{Method: job.AuthOAuth2}, secrets.Credentials{Username: user, AccessToken: "at-Wr0ng-Secret-Value-42"}, "the server refused the token"},
			{"expired refresh token", job.Auth{Method: job.AuthOAuth2, Mechanism: "oauthbearer"}, secrets.Credentials{Username: user, ClientID: "app-refused", ClientSecret: pw, RefreshToken: "rt-Wr0ng-Secret-Value-42", TokenURL: a.oauth.TokenURL()}, "invalid_grant"},
			{"no token source", job.Auth{Method: job.AuthOAuth2}, secrets.Credentials{Username: user, Password: pw}, "neither refreshToken"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := imapbox.Open(context.Background(), imapbox.Config{
					Server: job.Server{Protocol: job.IMAP, Host: "127.0.0.1", Port: a.plainText.Port(dovecottest.IMAP),
						Security: job.SecurityNone, Auth: tt.auth, Timeout: job.Duration(5 * time.Second)},
					Credentials: tt.creds,
				})
				var ce *mailbox.ConnectError
				if !errors.As(err, &ce) || ce.Step != mailbox.StepAuth || !strings.Contains(err.Error(), tt.saying) {
					t.Fatalf("got %v, want step authentication saying %q", err, tt.saying)
				}
				if strings.Contains(err.Error(), "Wr0ng-Secret") || strings.Contains(err.Error(), pw) {
					t.Errorf("the error shows a secret: %v", err)
				}
				if tt.auth.Method == job.AuthOAuth2 && tt.saying != "the server refused the token" && !errors.Is(err, mailauth.ErrToken) {
					t.Errorf("got %v, want it to wrap mailauth.ErrToken", err)
				}
			})
		}
	})
}
