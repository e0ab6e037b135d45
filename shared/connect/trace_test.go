package connect_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/connect"
	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/mailauth"
	"mailconnector/shared/mailbox/mailtrace"
	"mailconnector/shared/secrets"
	"mailconnector/shared/testkit/dovecottest"
	"mailconnector/shared/testkit/ewstest"
	"mailconnector/shared/testkit/graphtest"
)

// Canaries: none of them may ever appear in a trace.
const (
	canaryPassword = "Canary-Passw0rd-7731"
	canaryBody     = "CANARY-BODY-LINE-5521"
	canarySubject  = "Canary subject"
)

func canaryMessage() []byte {
	return []byte("From: a@example.com\r\nTo: desk@example.com\r\nSubject: " + canarySubject + "\r\nMessage-ID: <canary@example.com>\r\nDate: Mon, 1 Dec 2026 10:00:00 +0000\r\n\r\n" + canaryBody + "\r\n")
}

// readAll opens the job with a trace, reads every message and closes.
func readAll(t *testing.T, o connect.Opener, j *job.Job) string {
	t.Helper()
	rec := mailtrace.New(0)
	s, err := o.Open(mailtrace.With(context.Background(), rec), j)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	sc, err := s.Scan(context.Background(), "")
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	if len(sc.Items) == 0 {
		t.Fatal("scan: no message")
	}
	err = s.Fetch(context.Background(), sc.Items, func(_ mailbox.Item, r io.Reader) error {
		b, err := io.ReadAll(r)
		if err == nil && !strings.Contains(string(b), canaryBody) {
			err = fmt.Errorf("the fetched message lacks its body")
		}
		return err
	})
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	s.Close()
	return rec.String()
}

func assertClean(t *testing.T, trace string, secrets ...string) {
	t.Helper()
	for _, s := range append(secrets, canaryPassword, canaryBody) {
		if s != "" && strings.Contains(trace, s) {
			t.Errorf("the trace holds %q:\n%s", s, trace)
		}
	}
}

// TestTraceIMAPAndPOP3 records sessions of every security and sign-in
// method against Dovecot: the commands and responses are there, the
// password, the SASL payloads, the OAuth2 tokens and the message body
// are not.
func TestTraceIMAPAndPOP3(t *testing.T) {
	o := dovecottest.StartOAuth(t)
	srv := dovecottest.Start(t, &dovecottest.Options{TLS: true, OAuth2IntrospectionURL: o.IntrospectionURL()})
	if err := srv.AddUser("desk", canaryPassword); err != nil {
		t.Fatal(err)
	}
	o.AddClient("app", "Canary-Client-Secret-3319", "desk")
	rt := o.IssueRefreshToken("app", "desk")
	at := o.IssueAccessToken("desk", time.Hour)
	sec := &memSecrets{m: map[string]secrets.Credentials{
		"pw":     {Username: "desk", Password: canaryPassword},
		"oauth":  {Username: "desk", ClientID: "app", ClientSecret: "Canary-Client-Secret-3319", TokenURL: o.TokenURL(), RefreshToken: rt},
		"static": {Username: "desk", AccessToken: at},
	}}
	opener := connect.Opener{Secrets: sec, Tokens: &mailauth.Tokens{}}
	kinds := map[job.Protocol]map[job.Security]dovecottest.Kind{
		job.IMAP: {job.SecurityNone: dovecottest.IMAP, job.SecuritySTARTTLS: dovecottest.IMAP, job.SecurityTLS: dovecottest.IMAPS},
		job.POP3: {job.SecurityNone: dovecottest.POP3, job.SecuritySTARTTLS: dovecottest.POP3, job.SecurityTLS: dovecottest.POP3S},
	}
	auths := []struct {
		name string
		auth job.Auth
		want map[job.Protocol]string
	}{
		{"login", job.Auth{Secret: "pw"}, map[job.Protocol]string{job.IMAP: "LOGIN [user name and password not recorded]", job.POP3: "PASS [password not recorded]"}},
		{"plain", job.Auth{Secret: "pw", Mechanism: "plain"}, map[job.Protocol]string{job.IMAP: "AUTHENTICATE PLAIN", job.POP3: "AUTH PLAIN"}},
		{"xoauth2 refresh token", job.Auth{Method: job.AuthOAuth2, Secret: "oauth"}, map[job.Protocol]string{job.IMAP: "AUTHENTICATE XOAUTH2", job.POP3: "AUTH XOAUTH2"}},
		{"oauthbearer access token", job.Auth{Method: job.AuthOAuth2, Mechanism: "oauthbearer", Secret: "static"}, map[job.Protocol]string{job.IMAP: "AUTHENTICATE OAUTHBEARER", job.POP3: "AUTH OAUTHBEARER"}},
	}
	for _, proto := range []job.Protocol{job.IMAP, job.POP3} {
		for _, security := range []job.Security{job.SecurityNone, job.SecuritySTARTTLS, job.SecurityTLS} {
			for _, a := range auths {
				t.Run(fmt.Sprintf("%s/%s/%s", proto, security, a.name), func(t *testing.T) {
					if err := srv.Deliver("desk", "INBOX", canaryMessage()); err != nil {
						t.Fatal(err)
					}
					j := &job.Job{ID: "support", Server: job.Server{Protocol: proto, Host: "127.0.0.1", Port: srv.Port(kinds[proto][security]),
						Security: security, CAFile: srv.CAFile(), Auth: a.auth, Timeout: job.Duration(10 * time.Second)}}
					trace := readAll(t, opener, j)
					var fetched, signedIn bool
					for _, l := range strings.Split(trace, "\n") {
						fetched = fetched || strings.Contains(l, "bytes not recorded]")
						signedIn = signedIn || strings.Contains(l, a.want[proto])
					}
					if !signedIn || !fetched {
						t.Errorf("the trace lacks the sign-in (%q) or the fetch:\n%s", a.want[proto], trace)
					}
					if security != job.SecurityNone && !strings.Contains(trace, "TLS established") {
						t.Errorf("the trace does not say TLS was established:\n%s", trace)
					}
					assertClean(t, trace, rt, at, "Canary-Client-Secret-3319")
				})
			}
		}
	}
}

// TestTraceGraph records a Graph session: requests and responses with
// their headers, the token and the message content left out.
func TestTraceGraph(t *testing.T) {
	g := graphtest.Start(t)
	g.AddMailbox("desk@contoso.example")
	g.AddApp("contoso", "connector", "app-secret")
	g.Deliver("desk@contoso.example", "Inbox", canaryMessage())
	tok := g.IssueAccessToken("contoso", "connector", "", time.Hour)
	hp := strings.TrimSuffix(strings.TrimPrefix(g.URL(), "http://127.0.0.1:"), "/v1.0")
	var port int
	fmt.Sscan(hp, &port)
	sec := &memSecrets{m: map[string]secrets.Credentials{"graph": {AccessToken: tok}}}
	opener := connect.Opener{Secrets: sec, Tokens: &mailauth.Tokens{}}
	j := &job.Job{ID: "support", Server: job.Server{Protocol: job.Graph, Host: "127.0.0.1", Port: port, Security: job.SecurityNone,
		Mailbox: "desk@contoso.example", Cloud: job.CloudGlobal, Folder: "Inbox", Auth: job.Auth{Method: job.AuthOAuth2, Secret: "graph"},
		Timeout: job.Duration(10 * time.Second)}}
	trace := readAll(t, opener, j)
	for _, want := range []string{"http C: GET http://127.0.0.1", "Authorization: [not recorded]", "http S: HTTP/1.1 200 OK"} {
		if !strings.Contains(trace, want) {
			t.Errorf("the trace lacks %q:\n%s", want, trace)
		}
	}
	assertClean(t, trace, tok, canarySubject)
}

// TestTraceEWS records an EWS session signed in with Basic: the SOAP
// operations are outlined, the password and the MimeContent are not.
func TestTraceEWS(t *testing.T) {
	srv := ewstest.Start(t)
	srv.AddUser("desk@contoso.example", canaryPassword, "desk@contoso.example")
	srv.Deliver("desk@contoso.example", "INBOX", canaryMessage())
	opener := connect.Opener{Secrets: &memSecrets{m: map[string]secrets.Credentials{"ews": {Username: "desk@contoso.example", Password: canaryPassword}}}, Tokens: &mailauth.Tokens{}}
	j := &job.Job{ID: "support", Server: job.Server{Protocol: job.EWS, EWS: &job.EWSSettings{URL: srv.URL() + "/EWS/Exchange.asmx"},
		Folder: "INBOX", Auth: job.Auth{Secret: "ews"}, Timeout: job.Duration(10 * time.Second)}}
	trace := readAll(t, opener, j)
	for _, want := range []string{"http C: POST http://127.0.0.1", "Authorization: [not recorded]", "<MimeContent>", `ResponseClass="Success"`} {
		if !strings.Contains(trace, want) {
			t.Errorf("the trace lacks %q:\n%s", want, trace)
		}
	}
	assertClean(t, trace, base64.StdEncoding.EncodeToString([]byte("desk@contoso.example:"+canaryPassword)), canarySubject)
}
