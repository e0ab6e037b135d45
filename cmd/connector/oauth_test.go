package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/mailbox/mailboxtest"
	"mailconnector/shared/secrets/localsecrets"
	"mailconnector/shared/testkit/graphtest"
)

// TestOAuthLoginStoresTheRefreshTokenAndTheJobSignsIn signs in by device
// code against the identity platform of graphtest: the refresh token lands
// in secrets.yaml, and `connector test` then signs in as the user.
func TestOAuthLoginStoresTheRefreshTokenAndTheJobSignsIn(t *testing.T) {
	g := graphtest.Start(t)
	const mbx = "helpdesk@contoso.example"
	g.AddMailbox(mbx)
	g.Deliver(mbx, "Inbox", mailboxtest.Message("hello@example.com", 100))
	g.AutoApproveDevices(mbx)
	host, port, _ := net.SplitHostPort(strings.TrimSuffix(strings.TrimPrefix(g.URL(), "http://"), "/v1.0"))
	state := t.TempDir()
	secrets := fmt.Sprintf("graph-helpdesk:\n  clientId: connector-public\n  tenantId: contoso\n  tokenUrl: %s\n", g.TokenURL("contoso"))
	if err := os.WriteFile(filepath.Join(state, localsecrets.FileName), []byte(secrets), 0o600); err != nil {
		t.Fatal(err)
	}
	jobs := writeJobsServer(t, fmt.Sprintf("{protocol: graph, host: %s, port: %s, security: none, mailbox: %s, auth: {method: oauth2, secret: graph-helpdesk}}", host, port, mbx), "")

	// Before sign-in: the test says what is missing.
	_, _, err := cli(t, "test", "support", "--jobs", jobs, "--state", state)
	if code, msg := exitMsg(err); code != 1 || !strings.Contains(msg, "authentication failed") {
		t.Errorf("before sign-in: got %d %q, want an authentication failure", code, msg)
	}
	out, _, err := cli(t, "oauth", "login", "support", "--jobs", jobs, "--state", state)
	if err != nil {
		t.Fatalf("oauth login: %v", err)
	}
	if !strings.Contains(out, "/devicelogin and enter the code ") || !strings.Contains(out, "signed in") {
		t.Errorf("got %q, want the address, the code and the outcome", out)
	}
	c, err := localsecrets.New(state).Resolve(context.Background(), "graph-helpdesk")
	if err != nil || c.RefreshToken == "" || c.ClientID != "connector-public" || c.TenantID != "contoso" {
		t.Fatalf("secret after login: %v, %v; want the refresh token beside clientId and tenantId", c, err)
	}
	out, _, err = cli(t, "test", "support", "--jobs", jobs, "--state", state)
	if err != nil {
		t.Fatalf("test after sign-in: %v", err)
	}
	if !strings.Contains(out, "connection OK") || !strings.Contains(out, "OAuth2 delegated") || !strings.Contains(out, "messages:     1") {
		t.Errorf("got %q, want a delegated connection to the mailbox with its message", out)
	}
}

func TestOAuthLoginRefusesWhatCannotWork(t *testing.T) {
	state := t.TempDir()
	jobs := writeJobsServer(t, "{protocol: imap, host: 127.0.0.1, port: 1, security: none, auth: {secret: plain}}", "")
	_, _, err := cli(t, "oauth", "login", "support", "--jobs", jobs, "--state", state)
	if code, msg := exitMsg(err); code != 2 || !strings.Contains(msg, "oauth login is for oauth2 jobs") {
		t.Errorf("password job: got %d %q", code, msg)
	}
	jobs = writeJobsServer(t, "{protocol: graph, mailbox: a@example.com, auth: {method: oauth2, secret: nothing-here}}", "")
	_, _, err = cli(t, "oauth", "login", "support", "--jobs", jobs, "--state", state)
	if code, msg := exitMsg(err); code != 1 || !strings.Contains(msg, `secret "nothing-here"`) {
		t.Errorf("missing secret: got %d %q", code, msg)
	}
}

func TestOAuthLinkPrintsAOneTimeLink(t *testing.T) {
	state := t.TempDir()
	jobs := writeJobsServer(t, "{protocol: graph, mailbox: a@example.com, auth: {method: oauth2, secret: g}}", "")
	if _, _, err := cli(t, "oauth", "link", "support", "--jobs", jobs, "--state", state); err == nil {
		t.Error("without --url: got no error")
	}
	for _, u := range []string{"javascript://evil.example/", "http://hook.example/", "https://hook.example/?x=1", "hook.example"} {
		if _, _, err := cli(t, "oauth", "link", "support", "--jobs", jobs, "--state", state, "--url", u); err == nil || !strings.Contains(err.Error(), "--url") {
			t.Errorf("--url %s: got %v, want an error naming --url", u, err)
		}
	}
	out, _, err := cli(t, "oauth", "link", "support", "--jobs", jobs, "--state", state, "--url", "https://hook.example/")
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(out, "https://hook.example/signin?t=")
	if i < 0 || !strings.Contains(out, "redirect URI https://hook.example/callback") {
		t.Fatalf("got %q, want the link and the redirect URI to register", out)
	}
	tok := strings.Fields(out[i+len("https://hook.example/signin?t="):])[0]
	st := openState(t, state)
	defer st.Close()
	sum := sha256.Sum256([]byte(tok))
	v, err := st.TakeOnce(context.Background(), "signin-link#"+hex.EncodeToString(sum[:]), time.Now())
	if err != nil || string(v) != "support" {
		t.Errorf("stored link: got %q, %v; want the job, once", v, err)
	}
}
