package dovecottest_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/Azure/go-ntlmssp"

	"mailconnector/shared/testkit/dovecottest"
)

func TestNTHash(t *testing.T) {
	// [MS-NLMP] section 4.2.1: the NT hash of "Password".
	if got, want := dovecottest.NTHash("Password"), "a4f49c406510bdcab6824ee7c30fd852"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	// RFC 1320 appendix A.5 checks MD4 itself through the empty password.
	if got, want := dovecottest.NTHash(""), "31d6cfe0d16ae931b73c59d7e0c089c0"; got != want {
		t.Errorf("got %s, want %s (MD4 of nothing)", got, want)
	}
}

// TestOAuthAndNTLM checks the server side of the OAuth2 and NTLM set-up
// with hand-written protocol lines: the mechanisms are offered, a token
// from the test authorization server signs in with XOAUTH2 (the exact
// bytes Google and Microsoft document), a forged one does not, and a user
// stored as an {NTLM} hash still signs in with LOGIN.
func TestOAuthAndNTLM(t *testing.T) {
	o := dovecottest.StartOAuth(t)
	s := dovecottest.Start(t, &dovecottest.Options{NTLM: true, OAuth2IntrospectionURL: o.IntrospectionURL()})
	if err := s.AddUserNTLM("dave", "pw-dave"); err != nil {
		t.Fatal(err)
	}
	o.AddClient("app", "app-secret", "erin")

	resp, err := http.PostForm(o.TokenURL(), url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"}, "client_secret": {"app-secret"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token endpoint: got %s, want 200", resp.Status)
	}
	token := o.IssueAccessToken("erin", 3600e9)

	tests := []struct {
		name string
		cmd  string
		want string
	}{
		{"capabilities", "CAPABILITY", "AUTH=NTLM"},
		{"xoauth2 capability", "CAPABILITY", "AUTH=XOAUTH2"},
		{"oauthbearer capability", "CAPABILITY", "AUTH=OAUTHBEARER"},
		{"an NT-hash-only user cannot LOGIN", "LOGIN dave pw-dave", "t1 NO"},
		{"xoauth2 with a valid token", "AUTHENTICATE XOAUTH2 " + base64.StdEncoding.EncodeToString([]byte("user=erin\x01auth=Bearer "+token+"\x01\x01")), "t1 OK"},
		{"a token does not work as a password", "LOGIN erin " + token, "t1 NO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, r, _ := dialIMAP(t, s.Addr(dovecottest.IMAP), nil)
			if got := command(t, c, r, tt.cmd); !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want %q in it", got, tt.want)
			}
		})
	}
	for _, c := range []struct {
		name, user, password, want string
	}{
		{"ntlm with the right password", "dave", "pw-dave", "t1 OK"},
		{"ntlm with a wrong password", "dave", "pw-nope", "t1 NO"},
		{"ntlm for an unknown user", "nobody", "pw-dave", "t1 NO"},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn, r, _ := dialIMAP(t, s.Addr(dovecottest.IMAP), nil)
			neg, err := ntlmssp.NewNegotiateMessage("", "")
			if err != nil {
				t.Fatal(err)
			}
			conn.Write([]byte("t1 AUTHENTICATE NTLM " + base64.StdEncoding.EncodeToString(neg) + "\r\n"))
			line, err := r.ReadString('\n')
			if err != nil || !strings.HasPrefix(line, "+ ") {
				t.Fatalf("got %q %v, want a challenge\n%s", line, err, s.LogTail(15))
			}
			chal, err := base64.StdEncoding.DecodeString(strings.TrimSpace(line[2:]))
			if err != nil {
				t.Fatal(err)
			}
			auth, err := ntlmssp.NewAuthenticateMessage(chal, c.user, c.password, nil)
			if err != nil {
				t.Fatal(err)
			}
			conn.Write([]byte(base64.StdEncoding.EncodeToString(auth) + "\r\n"))
			got, err := r.ReadString('\n')
			if err != nil || !strings.HasPrefix(got, c.want) {
				t.Errorf("got %q %v, want %s", got, err, c.want)
			}
		})
	}
	t.Run("xoauth2 with a forged token", func(t *testing.T) {
		c, r, _ := dialIMAP(t, s.Addr(dovecottest.IMAP), nil)
		ir := base64.StdEncoding.EncodeToString([]byte("user=erin\x01auth=Bearer at-forged\x01\x01"))
		c.Write([]byte("t1 AUTHENTICATE XOAUTH2 " + ir + "\r\n"))
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(line, "+ ") {
			t.Fatalf("got %q, want a JSON error challenge", line)
		}
		c.Write([]byte("\r\n"))
		if got := command(t, c, r, "NOOP"); !strings.Contains(got, "t1 NO") && !strings.Contains(got, "t1 BAD") {
			t.Errorf("got %q, want the exchange refused", got)
		}
		if o.Introspections() == 0 {
			t.Errorf("got no introspection request, want Dovecot to have asked the server")
		}
	})
}
