package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mailconnector/shared/secrets/localsecrets"
	"mailconnector/shared/testkit/dovecottest"
)

// Canary values: each is a secret that must never be shown or stored.
const (
	canaryYAML     = "CANARY1yaml-anchor"     // a password starting with "*"
	canaryClient   = "CANARY2client+secret/"  // an OAuth client secret
	canaryRefresh  = "CANARY3refresh+token="  // an OAuth refresh token
	canaryPassword = "CANARY4imap-pass&word"  // a wrong password (LOGIN, PLAIN, USER/PASS)
	canaryAccess   = "CANARY5access.token-x"  // an access token the server refuses (XOAUTH2)
	canaryOther    = "CANARY6other-entry-pwd" // a good entry beside the broken one
)

// echoingTokenServer refuses every token request, echoing it whole in
// its error description and its headers.
func echoingTokenServer(tb testing.TB) string {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Echo", string(body))
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client", "error_description": "request: " + string(body) + " " + r.Header.Get("Authorization")})
	}))
	tb.Cleanup(srv.Close)
	return srv.URL
}

// canaryForms are the ways a canary could show: as is, URL-encoded, and
// in base64 (alone, or inside a SASL PLAIN or XOAUTH2 initial response).
func canaryForms(v string) []string {
	forms := []string{v, url.QueryEscape(v), base64.StdEncoding.EncodeToString([]byte(v))}
	for _, wrapped := range []string{"\x00agent\x00" + v, "user=agent\x01auth=Bearer " + v + "\x01\x01"} {
		forms = append(forms, base64.StdEncoding.EncodeToString([]byte(wrapped)))
	}
	return forms
}

// TestCanarySecretsNeverShow pushes known secret values through every
// failing path (a broken secrets file, an echoing token endpoint, refused
// IMAP LOGIN and PLAIN and POP3 logins, a refused XOAUTH2 token) through
// the command itself, and looks for them in its output, its errors, the
// runs it shows and every file of the state directory.
func TestCanarySecretsNeverShow(t *testing.T) {
	o, _, srv := authServers(t)
	if err := srv.AddUser("agent", "pw-agent"); err != nil {
		t.Fatal(err)
	}
	o.AddClient("app", "app-secret", "agent")
	state := t.TempDir()
	secretsFile := "broken:\n  username: agent\n  password: *" + canaryYAML + "\n" +
		"other:\n  username: agent\n  password: " + canaryOther + "\n" +
		"echo:\n  username: agent\n  clientId: app\n  clientSecret: \"" + canaryClient + "\"\n  refreshToken: \"" + canaryRefresh + "\"\n  tokenUrl: " + echoingTokenServer(t) + "\n" +
		"wrongpw:\n  username: agent\n  password: \"" + canaryPassword + "\"\n" +
		"forged:\n  username: agent\n  accessToken: " + canaryAccess + "\n"
	if err := os.WriteFile(filepath.Join(state, localsecrets.FileName), []byte(secretsFile), 0o600); err != nil {
		t.Fatal(err)
	}
	server := func(proto string, kind dovecottest.Kind, auth string) string {
		return fmt.Sprintf("{protocol: %s, host: %s, port: %d, security: none, auth: %s}", proto, srv.Host, srv.Port(kind), auth)
	}
	jobs := map[string]string{
		"bad-yaml":    server("imap", dovecottest.IMAP, "{secret: broken}"),
		"echo-token":  server("imap", dovecottest.IMAP, "{method: oauth2, secret: echo}"),
		"imap-login":  server("imap", dovecottest.IMAP, "{secret: wrongpw}"),
		"imap-plain":  server("imap", dovecottest.IMAP, "{method: password, mechanism: plain, secret: wrongpw}"),
		"pop3-user":   server("pop3", dovecottest.POP3, "{secret: wrongpw}"),
		"pop3-plain":  server("pop3", dovecottest.POP3, "{method: password, mechanism: plain, secret: wrongpw}"),
		"imap-xoauth": server("imap", dovecottest.IMAP, "{method: oauth2, secret: forged}"),
		"pop3-xoauth": server("pop3", dovecottest.POP3, "{method: oauth2, secret: forged}"),
	}
	var y strings.Builder
	y.WriteString("jobs:\n")
	for id, s := range jobs {
		fmt.Fprintf(&y, "  - id: %s\n    server: %s\n", id, s)
	}
	jobsFile := filepath.Join(t.TempDir(), "jobs.yaml")
	if err := os.WriteFile(jobsFile, []byte(y.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	var seen strings.Builder
	record := func(args ...string) {
		out, errOut, err := cli(t, args...)
		_, msg := exitMsg(err)
		fmt.Fprintf(&seen, "$ %v\n%s%s%s\n", args, out, errOut, msg)
	}
	record("run", "--once", "--jobs", jobsFile, "--state", state)
	record("run", "--once", "-v", "--jobs", jobsFile, "--state", state) // debug logs too
	for id := range jobs {
		record("test", id, "--jobs", jobsFile, "--state", state)
		record("sample", id, "--jobs", jobsFile, "--state", state)
		record("runs", id, "--jobs", jobsFile, "--state", state)
	}
	t.Logf("what the command showed:\n%s", seen.String())

	// Each failing path really failed where it should.
	for _, want := range []string{"entry at line 1: not valid YAML at line 3", "invalid_client", "LOGIN as \"agent\" refused", "USER/PASS as \"agent\" refused", "refused the token"} {
		if !strings.Contains(seen.String(), want) {
			t.Errorf("got no %q in the output, want every failing path exercised", want)
		}
	}
	canaries := []string{canaryYAML, canaryClient, canaryRefresh, canaryPassword, canaryAccess, canaryOther}
	check := func(where, text string) {
		for _, c := range canaries {
			for _, f := range canaryForms(c) {
				if strings.Contains(text, f) {
					t.Errorf("got %q (a form of a secret) in %s, want none", f, where)
				}
			}
		}
	}
	check("the output", seen.String())
	err := filepath.WalkDir(state, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == filepath.Join(state, localsecrets.FileName) {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		check(p, string(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
