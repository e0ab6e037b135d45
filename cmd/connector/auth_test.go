package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mailconnector/shared/mailbox/mailauth"
	"mailconnector/shared/mailbox/mailboxtest"
	"mailconnector/shared/secrets"
	"mailconnector/shared/secrets/localsecrets"
	"mailconnector/shared/testkit/dovecottest"
)

// authServers are Dovecots offering POP3, NTLM (SPA) and OAuth2, with
// and without TLS, and the OAuth2 server that issues and checks tokens.
func authServers(t *testing.T) (o *dovecottest.OAuthServer, tlsSrv, plainSrv *dovecottest.Server) {
	t.Helper()
	o = dovecottest.StartOAuth(t)
	opts := dovecottest.Options{TLS: true, NTLM: true, OAuth2IntrospectionURL: o.IntrospectionURL()}
	tlsSrv = dovecottest.Start(t, &opts)
	opts.TLS = false
	plainSrv = dovecottest.Start(t, &opts)
	return o, tlsSrv, plainSrv
}

// setSecret puts credentials in the environment variable of ref.
func setSecret(t *testing.T, ref string, c secrets.Credentials) {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(localsecrets.EnvName(ref), string(b))
}

// TestTestConnectionPOP3SPAAndOAuth runs `connector test` for POP3 in
// every security mode, SPA and OAuth2 on both protocols, and each failure
// step, and checks the one line an administrator reads.
func TestTestConnectionPOP3SPAAndOAuth(t *testing.T) {
	o, tlsSrv, plainSrv := authServers(t)
	for _, s := range []*dovecottest.Server{tlsSrv, plainSrv} {
		if err := s.AddUser("agent", "pw-agent"); err != nil {
			t.Fatal(err)
		}
		if err := s.Deliver("agent", "INBOX", mailboxtest.Message("pop-one@example.com", 100)); err != nil {
			t.Fatal(err)
		}
	}
	o.AddClient("app", "app-secret", "agent")
	setSecret(t, "pw", secrets.Credentials{Username: "agent", Password: "pw-agent"})
	setSecret(t, "wrongpw", secrets.Credentials{Username: "agent", Password: "pw-Wr0ng"})
	setSecret(t, "app", secrets.Credentials{Username: "agent", ClientID: "app", ClientSecret: "app-secret", TokenURL: o.TokenURL()})
	setSecret(t, "badapp", secrets.Credentials{Username: "agent", ClientID: "app", ClientSecret: "pw-Wr0ng", TokenURL: o.TokenURL()})
	setSecret(t, "forged", secrets.Credentials{Username: "agent", AccessToken: "pw-Wr0ng-token"})

	h := tlsSrv.Host
	server := func(proto string, srv *dovecottest.Server, kind dovecottest.Kind, security, extra, auth string) string {
		return fmt.Sprintf("{protocol: %s, host: %s, port: %d, security: %s%s, auth: %s}", proto, h, srv.Port(kind), security, extra, auth)
	}
	ca := ", caFile: " + tlsSrv.CAFile()
	tests := []struct {
		name   string
		server string
		code   int
		want   []string
	}{
		{"pop3 none", server("pop3", tlsSrv, dovecottest.POP3, "none", "", "{secret: pw}"), 0, []string{"connection OK", "pop3, security none", "messages:     1", "UIDL"}},
		{"pop3 starttls-if-available falls back", server("pop3", plainSrv, dovecottest.POP3, "starttls-if-available", "", "{secret: pw}"), 0, []string{"connection OK", "security none", "note:", "does not offer STLS"}},
		{"pop3 starttls", server("pop3", tlsSrv, dovecottest.POP3, "starttls", ca, "{secret: pw}"), 0, []string{"connection OK", "security starttls"}},
		{"pop3 tls", server("pop3", tlsSrv, dovecottest.POP3S, "tls", ca, "{secret: pw}"), 0, []string{"connection OK", "security tls"}},
		{"pop3 sasl plain", server("pop3", tlsSrv, dovecottest.POP3S, "tls", ca, "{method: password, mechanism: plain, secret: pw}"), 0, []string{"connection OK"}},
		{"pop3 spa", server("pop3", tlsSrv, dovecottest.POP3S, "tls", ca, "{method: spa, secret: pw}"), 0, []string{"connection OK"}},
		{"imap spa", server("imap", tlsSrv, dovecottest.IMAPS, "tls", ca, "{method: spa, secret: pw}"), 0, []string{"connection OK"}},
		{"pop3 oauth2 xoauth2", server("pop3", tlsSrv, dovecottest.POP3S, "tls", ca, "{method: oauth2, secret: app}"), 0, []string{"connection OK"}},
		{"imap oauth2 oauthbearer", server("imap", tlsSrv, dovecottest.IMAP, "starttls", ca, "{method: oauth2, mechanism: oauthbearer, secret: app}"), 0, []string{"connection OK"}},
		{"pop3 authentication", server("pop3", plainSrv, dovecottest.POP3, "none", "", "{secret: wrongpw}"), 1, []string{"authentication failed", "USER/PASS as \"agent\" refused"}},
		{"pop3 spa authentication", server("pop3", plainSrv, dovecottest.POP3, "none", "", "{method: spa, secret: wrongpw}"), 1, []string{"authentication failed", "AUTH NTLM"}},
		{"oauth2 token endpoint refuses", server("imap", plainSrv, dovecottest.IMAP, "none", "", "{method: oauth2, secret: badapp}"), 1, []string{"authentication failed", "invalid_client", "clientSecret"}},
		{"oauth2 server refuses the token", server("pop3", plainSrv, dovecottest.POP3, "none", "", "{method: oauth2, secret: forged}"), 1, []string{"authentication failed", "refused the token"}},
		{"pop3 tcp", fmt.Sprintf("{protocol: pop3, host: %s, port: 1, security: none, auth: {secret: pw}}", h), 1, []string{"TCP failed"}},
		{"pop3 dns", "{protocol: pop3, host: no-such-host.invalid, port: 110, security: none, auth: {secret: pw}}", 1, []string{"DNS failed"}},
		{"pop3 starttls missing", server("pop3", plainSrv, dovecottest.POP3, "starttls", "", "{secret: pw}"), 1, []string{"STARTTLS failed", "does not offer STLS"}},
		{"pop3 certificate", server("pop3", tlsSrv, dovecottest.POP3S, "tls", "", "{secret: pw}"), 1, []string{"certificate failed", "unknown authority"}},
		{"pop3 tls against the plain port", server("pop3", plainSrv, dovecottest.POP3, "tls", "", "{secret: pw}"), 1, []string{"TLS failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code, msg := testConnection(t, tt.server, "--state", t.TempDir())
			t.Logf("%s%s", out, msg)
			if code != tt.code {
				t.Fatalf("got exit %d (%s), want %d\n%s", code, msg, tt.code, out)
			}
			for _, w := range tt.want {
				if got := out + msg; !strings.Contains(got, w) {
					t.Errorf("got %q, want it to contain %q", got, w)
				}
			}
			if tt.code != 0 {
				if strings.Count(msg, "\n") != 0 || !strings.HasPrefix(msg, "job support: ") {
					t.Errorf("got %q, want one line naming the job", msg)
				}
			}
			if strings.Contains(out+msg, "pw-") || strings.Contains(out+msg, "app-secret") {
				t.Errorf("the output shows a secret: %q", out+msg)
			}
		})
	}
}

// TestOAuthRotatedRefreshTokenIsWrittenBack: a job whose secret (in the
// state directory's secrets.yaml) holds a refresh token connects, the
// provider rotates the token, and the new one is in secrets.yaml, the
// other secrets untouched; the old one no longer works.
func TestOAuthRotatedRefreshTokenIsWrittenBack(t *testing.T) {
	o, _, plainSrv := authServers(t)
	o.SetRotate(true)
	if err := plainSrv.AddUser("rotating", "pw-rotating"); err != nil {
		t.Fatal(err)
	}
	o.AddClient("desk", "desk-secret", "rotating")
	oldRT := o.IssueRefreshToken("desk", "rotating")
	state := t.TempDir()
	file := filepath.Join(state, localsecrets.FileName)
	yaml := fmt.Sprintf("keep-me:\n  username: other\n  password: pw-other\nmail/rotating:\n  username: rotating\n  clientId: desk\n  clientSecret: desk-secret\n  tokenUrl: %s\n  refreshToken: %s\n  scopes: [\"https://outlook.office365.com/POP.AccessAsUser.All\", offline_access]\n", o.TokenURL(), oldRT)
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	jobs := writeJobsServer(t, fmt.Sprintf("{protocol: pop3, host: %s, port: %d, security: none, auth: {method: oauth2, secret: mail/rotating}}", plainSrv.Host, plainSrv.Port(dovecottest.POP3)), "")
	out, _, err := cli(t, "test", "support", "--jobs", jobs, "--state", state)
	if err != nil {
		t.Fatalf("test: %v\n%s", err, out)
	}
	if !strings.Contains(out, "note:") || !strings.Contains(out, "written back to secret \"mail/rotating\"") {
		t.Errorf("got %q, want a note that the rotated refresh token was written back", out)
	}
	res := localsecrets.New(state)
	got, err := res.Resolve(t.Context(), "mail/rotating")
	if err != nil {
		t.Fatal(err)
	}
	if got.RefreshToken == oldRT || got.RefreshToken == "" || got.ClientSecret != "desk-secret" || len(got.Scopes) != 2 {
		t.Fatalf("got %v with a new refresh token %v, want the rotated token written back and the rest kept", got, got.RefreshToken != oldRT)
	}
	if other, err := res.Resolve(t.Context(), "keep-me"); err != nil || other.Password != "pw-other" {
		t.Errorf("the other secret: got %v, want it kept", err)
	}
	// A new process reads the written-back token and it works; the old
	// one is revoked.
	for _, c := range []struct {
		rt string
		ok bool
	}{{got.RefreshToken, true}, {oldRT, false}} {
		creds := got
		creds.RefreshToken = c.rt
		src, err := (&mailauth.Tokens{}).Source("mail/rotating", creds, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := src.Token(); (err == nil) != c.ok {
			t.Errorf("refresh token (new %v): got %v, want ok %v", c.ok, err, c.ok)
		}
	}
}

// TestSamplePOP3ChangesNothing: `connector sample` over POP3 shows the
// oldest message and deletes nothing.
func TestSamplePOP3ChangesNothing(t *testing.T) {
	u := userWith(t, mailboxtest.Message("pop-first@example.com", 200), mailboxtest.Message("pop-second@example.com", 200))
	jobs := writeJobsServer(t, plainServer(plain, dovecottest.POP3, u), "")
	var got struct {
		MessageID string `json:"messageId"`
		Source    string `json:"source"`
	}
	readSample(t, jobs, &got, "--state", t.TempDir())
	if got.MessageID != "pop-first@example.com" || !strings.Contains(got.Source, "INBOX") {
		t.Errorf("got %+v, want the first message", got)
	}
	msgs, err := plain.Messages(u)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 {
		t.Errorf("got %d messages after sample, want both kept", len(msgs))
	}
}

// TestSamplePOP3PreviewsWithTOP: over POP3 `connector sample` reads the
// header and the first lines (TOP), says so when the message is longer,
// and a short message is shown whole without that warning.
func TestSamplePOP3PreviewsWithTOP(t *testing.T) {
	var long strings.Builder
	long.WriteString("From: a@example.com\r\nTo: desk@example.com\r\nSubject: long\r\nMessage-ID: <long@example.com>\r\nDate: Mon, 2 Jan 2006 15:04:05 +0000\r\n\r\n")
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&long, "line %d of the body\r\n", i)
	}
	long.WriteString("FINAL-LINE-MARKER\r\n")
	short := "From: a@example.com\r\nTo: desk@example.com\r\nSubject: short\r\nMessage-ID: <short@example.com>\r\nDate: Mon, 2 Jan 2006 15:04:05 +0000\r\n\r\nonly line\r\n"
	tests := []struct {
		name        string
		raw         string
		wantText    string
		notText     string
		wantWarning bool
	}{
		{"long", long.String(), "line 10 of the body", "FINAL-LINE-MARKER", true},
		{"short", short, "only line", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := userWith(t, []byte(tt.raw))
			jobs := writeJobsServer(t, plainServer(plain, dovecottest.POP3, u), "")
			var got struct {
				Text     string   `json:"text"`
				Warnings []string `json:"warnings"`
			}
			readSample(t, jobs, &got, "--state", t.TempDir())
			if !strings.Contains(got.Text, tt.wantText) || (tt.notText != "" && strings.Contains(got.Text, tt.notText)) {
				t.Errorf("got text %.200q…, want it to contain %q and not %q", got.Text, tt.wantText, tt.notText)
			}
			warned := strings.Contains(strings.Join(got.Warnings, "\n"), "POP3 TOP")
			if warned != tt.wantWarning {
				t.Errorf("got warnings %q, want the preview warning: %v", got.Warnings, tt.wantWarning)
			}
		})
	}
}
