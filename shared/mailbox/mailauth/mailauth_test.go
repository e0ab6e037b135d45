package mailauth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox/mailauth"
	"mailconnector/shared/secrets"
	"mailconnector/shared/testkit/dovecottest"
)

func TestMechanism(t *testing.T) {
	tests := []struct {
		name string
		auth job.Auth
		want string
		err  bool
	}{
		{"password default", job.Auth{Method: job.AuthPassword}, "", false},
		{"password login", job.Auth{Method: job.AuthPassword, Mechanism: "LOGIN"}, "", false},
		{"password plain", job.Auth{Method: job.AuthPassword, Mechanism: "plain"}, mailauth.Plain, false},
		{"spa", job.Auth{Method: job.AuthSPA}, mailauth.NTLM, false},
		{"spa ntlm", job.Auth{Method: job.AuthSPA, Mechanism: "ntlm"}, mailauth.NTLM, false},
		{"oauth2 default", job.Auth{Method: job.AuthOAuth2}, mailauth.XOAuth2, false},
		{"oauth2 oauthbearer", job.Auth{Method: job.AuthOAuth2, Mechanism: "OAuthBearer"}, mailauth.OAuthBearer, false},
		{"password cram-md5", job.Auth{Method: job.AuthPassword, Mechanism: "cram-md5"}, "", true},
		{"unknown method", job.Auth{Method: "kerberos"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mailauth.Mechanism(tt.auth)
			if (err != nil) != tt.err || got != tt.want {
				t.Errorf("got %q %v, want %q error %v", got, err, tt.want, tt.err)
			}
			if err != nil && !errors.Is(err, mailauth.ErrUnsupported) {
				t.Errorf("got %v, want it to wrap ErrUnsupported", err)
			}
		})
	}
}

// TestSASLBytes checks the exact initial responses: XOAUTH2 as Google and
// Microsoft document it, OAUTHBEARER as RFC 7628 section 3.1 does.
func TestSASLBytes(t *testing.T) {
	creds := secrets.Credentials{Username: "support@example.com"}
	tests := []struct {
		mech, want, answer string
	}{
		{mailauth.XOAuth2, "user=support@example.com\x01auth=Bearer tok123\x01\x01", ""},
		{mailauth.OAuthBearer, "n,a=support@example.com,\x01host=mail.example.com\x01port=993\x01auth=Bearer tok123\x01\x01", "\x01"},
	}
	for _, tt := range tests {
		t.Run(tt.mech, func(t *testing.T) {
			c, err := mailauth.Client(tt.mech, creds, mailauth.Options{Token: "tok123", Host: "mail.example.com", Port: 993})
			if err != nil {
				t.Fatal(err)
			}
			mech, ir, err := c.Start()
			if err != nil || mech != tt.mech || string(ir) != tt.want {
				t.Fatalf("got %s %q %v, want %s %q", mech, ir, err, tt.mech, tt.want)
			}
			// The error challenge is answered, not failed, so the server
			// can end the exchange; what it said is kept.
			resp, err := c.Next([]byte(`{"status":"invalid_token","scope":"https://mail.google.com/"}`))
			if err != nil || string(resp) != tt.answer {
				t.Errorf("answer to the error challenge: got %q %v, want %q", resp, err, tt.answer)
			}
			if d := mailauth.Detail(c); !strings.Contains(d, "invalid_token") || !strings.Contains(d, "https://mail.google.com/") || strings.Contains(d, "tok123") {
				t.Errorf("got detail %q, want the status and scope, no token", d)
			}
		})
	}
	if _, err := mailauth.Client(mailauth.XOAuth2, creds, mailauth.Options{}); err == nil {
		t.Errorf("XOAUTH2 without a token: got nil error, want one")
	}
	if _, err := mailauth.Client(mailauth.Plain, secrets.Credentials{}, mailauth.Options{}); err == nil {
		t.Errorf("PLAIN without a username: got nil error, want one")
	}
}

func TestGrantFor(t *testing.T) {
	tests := []struct {
		name  string
		creds secrets.Credentials
		want  mailauth.Grant
	}{
		{"refresh token", secrets.Credentials{ClientID: "c", RefreshToken: "r", ClientSecret: "s"}, mailauth.GrantRefreshToken},
		{"client credentials", secrets.Credentials{ClientID: "c", ClientSecret: "s", TenantID: "t"}, mailauth.GrantClientCredentials},
		{"access token", secrets.Credentials{AccessToken: "a"}, mailauth.GrantStatic},
		{"nothing", secrets.Credentials{Username: "u", Password: "p"}, ""},
		{"refresh token without client", secrets.Credentials{RefreshToken: "r"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mailauth.GrantFor(tt.creds)
			if got != tt.want || (tt.want == "") != (err != nil) {
				t.Errorf("got %q %v, want %q", got, err, tt.want)
			}
		})
	}
	if u, _ := mailauth.TokenURL(secrets.Credentials{TenantID: "contoso.onmicrosoft.com"}); u != "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token" {
		t.Errorf("got token URL %s, want Microsoft's for the tenant", u)
	}
}

// fakeWriter records write-backs.
type fakeWriter struct {
	mu     sync.Mutex
	writes []secrets.Credentials
	err    error
}

func (w *fakeWriter) WriteBack(_ context.Context, ref string, c secrets.Credentials) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return false, w.err
	}
	w.writes = append(w.writes, c)
	return true, nil
}

func TestTokens(t *testing.T) {
	o := dovecottest.StartOAuth(t)
	o.AddClient("app", "app-secret", "support")

	t.Run("client credentials, reused until near expiry", func(t *testing.T) {
		tokens := &mailauth.Tokens{}
		creds := secrets.Credentials{Username: "support", ClientID: "app", ClientSecret: "app-secret", TokenURL: o.TokenURL(), Scopes: []string{"https://outlook.office365.com/.default"}}
		before := len(o.Requests())
		for i := 0; i < 3; i++ {
			src, err := tokens.Source("mail/support", creds, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tok, err := src.Token(); err != nil || tok.AccessToken == "" {
				t.Fatalf("token: %v", err)
			}
		}
		reqs := o.Requests()[before:]
		if len(reqs) != 1 || reqs[0].GrantType != "client_credentials" || reqs[0].Scope != "https://outlook.office365.com/.default" {
			t.Errorf("got requests %+v, want one client_credentials request with the scope", reqs)
		}
	})

	t.Run("refreshed before expiry", func(t *testing.T) {
		o.SetTTL(2 * time.Minute) // inside the five-minute early expiry
		defer o.SetTTL(time.Hour)
		tokens := &mailauth.Tokens{}
		creds := secrets.Credentials{ClientID: "app", ClientSecret: "app-secret", TokenURL: o.TokenURL()}
		src, err := tokens.Source("x", creds, nil)
		if err != nil {
			t.Fatal(err)
		}
		before := len(o.Requests())
		src.Token()
		src.Token()
		if got := len(o.Requests()) - before; got != 2 {
			t.Errorf("got %d token requests, want 2 (a token expiring within 5 minutes is refreshed)", got)
		}
	})

	t.Run("rotated refresh token written back", func(t *testing.T) {
		o.SetRotate(true)
		defer o.SetRotate(false)
		rt := o.IssueRefreshToken("app", "support")
		creds := secrets.Credentials{Username: "support", ClientID: "app", ClientSecret: "app-secret", TokenURL: o.TokenURL(), RefreshToken: rt, Scopes: []string{"https://outlook.office365.com/IMAP.AccessAsUser.All", "offline_access"}}
		tokens := &mailauth.Tokens{}
		w := &fakeWriter{}
		src, err := tokens.Source("mail/support", creds, w)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := src.Token(); err != nil {
			t.Fatal(err)
		}
		if len(w.writes) != 1 || w.writes[0].RefreshToken == rt || w.writes[0].RefreshToken == "" || w.writes[0].ClientSecret != "app-secret" || w.writes[0].Username != "support" {
			t.Fatalf("got %d write-backs, want one with a new refresh token and the other fields kept", len(w.writes))
		}
		if notes := src.Notes(); len(notes) != 1 || !strings.Contains(notes[0], "written back") {
			t.Errorf("got notes %q, want one saying the token was written back", notes)
		}
		last := o.Requests()[len(o.Requests())-1]
		if last.GrantType != "refresh_token" || last.Scope != "https://outlook.office365.com/IMAP.AccessAsUser.All offline_access" {
			t.Errorf("got request %+v, want refresh_token with the scopes", last)
		}
		// The rotated secret, read again, finds the same cached source.
		again, err := tokens.Source("mail/support", w.writes[0], w)
		if err != nil || again != src {
			t.Errorf("got another source (%v) for the rotated credentials, want the cached one", err)
		}
		// The old refresh token no longer works: without the write-back
		// the next cold start would fail.
		cold := &mailauth.Tokens{}
		old, _ := cold.Source("mail/support", creds, nil)
		if _, err := old.Token(); err == nil || !strings.Contains(err.Error(), "invalid_grant") || strings.Contains(err.Error(), rt) {
			t.Errorf("the rotated-away refresh token: got %v, want invalid_grant without the token", err)
		}
	})

	t.Run("a write-back that fails is noted", func(t *testing.T) {
		o.SetRotate(true)
		defer o.SetRotate(false)
		creds := secrets.Credentials{ClientID: "app", ClientSecret: "app-secret", TokenURL: o.TokenURL(), RefreshToken: o.IssueRefreshToken("app", "support")}
		src, _ := (&mailauth.Tokens{}).Source("env-secret", creds, &fakeWriter{err: secrets.ErrReadOnly})
		if _, err := src.Token(); err != nil {
			t.Fatal(err)
		}
		if notes := src.Notes(); len(notes) != 1 || !strings.Contains(notes[0], "could not be written back") {
			t.Errorf("got notes %q, want one saying the write-back failed", notes)
		}
	})

	t.Run("a fixed access token", func(t *testing.T) {
		src, err := (&mailauth.Tokens{}).Source("x", secrets.Credentials{AccessToken: "at-fixed"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tok, err := src.Token(); err != nil || tok.AccessToken != "at-fixed" {
			t.Errorf("got %v %v, want at-fixed", tok, err)
		}
	})

	t.Run("a wrong client secret", func(t *testing.T) {
		src, _ := (&mailauth.Tokens{}).Source("x", secrets.Credentials{ClientID: "app", ClientSecret: "Wr0ng-Secret", TokenURL: o.TokenURL()}, nil)
		_, err := src.Token()
		if !errors.Is(err, mailauth.ErrToken) || !strings.Contains(err.Error(), "invalid_client") || strings.Contains(err.Error(), "Wr0ng-Secret") || strings.Contains(err.Error(), "\n") {
			t.Errorf("got %v, want one line wrapping ErrToken naming invalid_client without the secret", err)
		}
	})
}
