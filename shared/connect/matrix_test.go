package connect_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mailconnector/shared/connect"
	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/mailauth"
	"mailconnector/shared/secrets"
	"mailconnector/shared/testkit/dovecottest"
)

// matrixUser numbers the users of the matrix tests, one per cell.
var matrixUser atomic.Int64

// signIn is one way to sign in, with what Info.Auth reports for it per
// protocol.
type signIn struct {
	name string
	auth job.Auth
	imap string
	pop3 string
}

var signIns = []signIn{
	{"login", job.Auth{Method: job.AuthPassword, Mechanism: "login"}, "LOGIN", "USER/PASS"},
	{"plain", job.Auth{Method: job.AuthPassword, Mechanism: "plain"}, "SASL PLAIN", "SASL PLAIN"},
	{"ntlm", job.Auth{Method: job.AuthSPA, Mechanism: "ntlm"}, "SASL NTLM", "SASL NTLM"},
	{"xoauth2", job.Auth{Method: job.AuthOAuth2, Mechanism: "xoauth2"}, "SASL XOAUTH2", "SASL XOAUTH2"},
	{"oauthbearer", job.Auth{Method: job.AuthOAuth2, Mechanism: "oauthbearer"}, "SASL OAUTHBEARER", "SASL OAUTHBEARER"},
}

// TestEveryProtocolSecurityAndSignIn opens a session through connect.Opener
// for every protocol (IMAP, POP3) × security mode (none,
// starttls-if-available with STARTTLS offered and not offered, starttls,
// tls) × way to sign in (LOGIN or USER/PASS, PLAIN, NTLM, XOAUTH2,
// OAUTHBEARER) against Dovecot, and checks what was negotiated, how the
// session signed in, the fallback note and the folder's one message.
func TestEveryProtocolSecurityAndSignIn(t *testing.T) {
	o := dovecottest.StartOAuth(t)
	withTLS := dovecottest.Start(t, &dovecottest.Options{TLS: true, NTLM: true, OAuth2IntrospectionURL: o.IntrospectionURL()})
	withoutTLS := dovecottest.Start(t, &dovecottest.Options{NTLM: true, OAuth2IntrospectionURL: o.IntrospectionURL()})
	sec := &memSecrets{m: map[string]secrets.Credentials{}}
	opener := connect.Opener{Secrets: sec, Tokens: &mailauth.Tokens{}}

	type mode struct {
		name     string
		srv      *dovecottest.Server
		security job.Security
		implicit bool   // the implicit TLS port
		want     string // Info.Security
		note     bool   // a fallback note
	}
	modes := []mode{
		{"none", withTLS, job.SecurityNone, false, "none", false},
		{"starttls-if-available offered", withTLS, job.SecuritySTARTTLSIfAvailable, false, "starttls", false},
		{"starttls-if-available not offered", withoutTLS, job.SecuritySTARTTLSIfAvailable, false, "none", true},
		{"starttls", withTLS, job.SecuritySTARTTLS, false, "starttls", false},
		{"tls", withTLS, job.SecurityTLS, true, "tls", false},
	}
	ports := map[job.Protocol][2]dovecottest.Kind{
		job.IMAP: {dovecottest.IMAP, dovecottest.IMAPS},
		job.POP3: {dovecottest.POP3, dovecottest.POP3S},
	}
	for _, proto := range []job.Protocol{job.IMAP, job.POP3} {
		for _, m := range modes {
			for _, si := range signIns {
				t.Run(fmt.Sprintf("%s/%s/%s", proto, m.name, si.name), func(t *testing.T) {
					t.Parallel()
					user := fmt.Sprintf("m%d", matrixUser.Add(1))
					password := fmt.Sprintf("pw-%d", time.Now().UnixNano())
					if err := m.srv.AddUser(user, password); err != nil {
						t.Fatal(err)
					}
					o.AddClient("app-"+user, password, user)
					ref := "secret-" + user
					sec.mu.Lock()
					if si.auth.Method == job.AuthOAuth2 {
						sec.m[ref] = secrets.Credentials{Username: user, ClientID: "app-" + user, ClientSecret: password, TokenURL: o.TokenURL()}
					} else {
						sec.m[ref] = secrets.Credentials{Username: user, Password: password}
					}
					sec.mu.Unlock()
					if err := m.srv.Deliver(user, "", []byte("From: a@example.com\r\nSubject: matrix\r\n\r\nbody\r\n")); err != nil {
						t.Fatal(err)
					}
					kind := ports[proto][0]
					if m.implicit {
						kind = ports[proto][1]
					}
					auth := si.auth
					auth.Secret = ref
					s := job.Server{Protocol: proto, Host: m.srv.Host, Port: m.srv.Port(kind), Security: m.security,
						Auth: auth, Timeout: job.Duration(10 * time.Second)}
					if m.srv.TLS() {
						s.CAFile = m.srv.CAFile()
					}
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					sess, err := opener.Open(ctx, &job.Job{ID: "support", Server: s})
					if err != nil {
						t.Fatalf("open: %v", err)
					}
					defer sess.Close()
					info := sess.Info()
					wantAuth := map[job.Protocol]string{job.IMAP: si.imap, job.POP3: si.pop3}[proto]
					if info.Protocol != string(proto) || info.Security != m.want || info.Auth != wantAuth || info.Messages != 1 {
						t.Errorf("got %s, security %s, auth %q, %d messages; want %s, %s, %q, 1",
							info.Protocol, info.Security, info.Auth, info.Messages, proto, m.want, wantAuth)
					}
					if got := len(info.Notes) > 0; got != m.note {
						t.Errorf("got notes %q, want a note: %v", info.Notes, m.note)
					}
				})
			}
		}
	}
}

// TestCertificateChecksOnEveryProtocol connects to Dovecot serving a
// certificate from a custom CA, an expired one and one for another host,
// by STARTTLS and implicit TLS on both protocols: the custom CA (caFile)
// is trusted, and each failure is reported as the certificate step with
// its reason.
func TestCertificateChecksOnEveryProtocol(t *testing.T) {
	now := time.Now()
	good := certDovecot(t, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, now.Add(-time.Hour), now.Add(time.Hour))
	expired := certDovecot(t, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	otherHost := certDovecot(t, []string{"mail.example.test"}, nil, now.Add(-time.Hour), now.Add(time.Hour))
	sec := &memSecrets{m: map[string]secrets.Credentials{"pw": {Username: "desk", Password: "pw-desk"}}}
	opener := connect.Opener{Secrets: sec, Tokens: &mailauth.Tokens{}}
	no := false

	tests := []struct {
		name   string
		srv    certServer
		caFile bool  // trust the server's CA
		verify *bool // rejectInvalidCertificates
		want   string
	}{
		{"custom CA", good, true, nil, ""},
		{"unknown authority", good, false, nil, "unknown authority"},
		{"expired", expired, true, nil, "expired"},
		{"wrong host", otherHost, true, nil, "not valid for host 127.0.0.1"},
		{"expired, verification off", expired, false, &no, ""},
	}
	kinds := map[job.Protocol]map[job.Security]dovecottest.Kind{
		job.IMAP: {job.SecuritySTARTTLS: dovecottest.IMAP, job.SecurityTLS: dovecottest.IMAPS},
		job.POP3: {job.SecuritySTARTTLS: dovecottest.POP3, job.SecurityTLS: dovecottest.POP3S},
	}
	for _, proto := range []job.Protocol{job.IMAP, job.POP3} {
		for _, security := range []job.Security{job.SecuritySTARTTLS, job.SecurityTLS} {
			for _, tt := range tests {
				t.Run(fmt.Sprintf("%s/%s/%s", proto, security, tt.name), func(t *testing.T) {
					t.Parallel()
					s := job.Server{Protocol: proto, Host: tt.srv.Host, Port: tt.srv.Port(kinds[proto][security]), Security: security,
						Auth: job.Auth{Secret: "pw"}, Timeout: job.Duration(10 * time.Second), RejectInvalidCertificates: tt.verify}
					if tt.caFile {
						s.CAFile = tt.srv.caFile
					}
					sess, err := opener.Open(context.Background(), &job.Job{ID: "support", Server: s})
					if tt.want == "" {
						if err != nil {
							t.Fatalf("open: got %v, want a session", err)
						}
						sess.Close()
						return
					}
					if err == nil {
						sess.Close()
						t.Fatalf("open: got a session, want the certificate step failing with %q", tt.want)
					}
					var ce *mailbox.ConnectError
					if !errors.As(err, &ce) || ce.Step != mailbox.StepCertificate || !strings.Contains(err.Error(), tt.want) {
						t.Errorf("got %v, want step %s with %q", err, mailbox.StepCertificate, tt.want)
					}
				})
			}
		}
	}
}

// certServer is a Dovecot serving a certificate of the test's making.
type certServer struct {
	*dovecottest.Server
	caFile string
}

// certDovecot starts Dovecot with TLS and a certificate for names and ips,
// valid from notBefore to notAfter, signed by a new CA whose PEM file it
// returns beside the server. The user "desk" signs in with "pw-desk".
func certDovecot(tb testing.TB, names []string, ips []net.IP, notBefore, notAfter time.Time) certServer {
	tb.Helper()
	dir := tb.TempDir()
	certs, err := dovecottest.MakeCerts(names, ips, notBefore, notAfter)
	if err != nil {
		tb.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			tb.Fatal(err)
		}
		return p
	}
	caFile := write("ca.pem", certs.CA)
	certFile := write("server.pem", certs.Cert)
	keyFile := write("server.key", certs.Key)
	// The later ssl_cert and ssl_key replace the generated ones.
	srv := dovecottest.Start(tb, &dovecottest.Options{TLS: true, Config: fmt.Sprintf("ssl_cert = <%s\nssl_key = <%s", certFile, keyFile)})
	if err := srv.AddUser("desk", "pw-desk"); err != nil {
		tb.Fatal(err)
	}
	return certServer{Server: srv, caFile: caFile}
}
