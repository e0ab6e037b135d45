package signin_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox/graphbox/graphtest"
	"mailconnector/shared/secrets/localsecrets"
	"mailconnector/shared/signin"
	"mailconnector/shared/store/boltstore"
	"mailconnector/shared/webhook"
)

type world struct {
	g     *graphtest.Server
	hook  *httptest.Server
	st    *boltstore.Store
	state string
	h     *signin.Handler
}

const mbx = "helpdesk@contoso.example"

func newWorld(t *testing.T) *world {
	t.Helper()
	g := graphtest.Start(t)
	g.AddMailbox(mbx)
	g.AddApp("contoso", "connector-web", "web-secret")
	g.SetSignedInUser(mbx)
	state := t.TempDir()
	sec := fmt.Sprintf("graph-helpdesk:\n  clientId: connector-web\n  clientSecret: web-secret\n  tenantId: contoso\n  tokenUrl: %s\n", g.TokenURL("contoso"))
	if err := os.WriteFile(filepath.Join(state, localsecrets.FileName), []byte(sec), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := boltstore.Open(filepath.Join(state, "state.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &job.File{Jobs: []job.Job{
		{ID: "support", Server: job.Server{Protocol: job.Graph, Mailbox: mbx, Auth: job.Auth{Method: job.AuthOAuth2, Secret: "graph-helpdesk"}}},
		{ID: "imap", Server: job.Server{Protocol: job.IMAP, Host: "mail.example.com", Security: job.SecurityTLS, Auth: job.Auth{Secret: "imap"}}},
	}}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := &signin.Handler{Jobs: f, Store: st, Secrets: localsecrets.New(state), Logger: log}
	hook := httptest.NewServer(&webhook.Handler{SignIn: h, Logger: log})
	t.Cleanup(hook.Close)
	return &world{g: g, hook: hook, st: st, state: state, h: h}
}

// browse follows redirects as a browser does and returns the last page.
func browse(t *testing.T, u string) (int, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (w *world) refreshToken(t *testing.T) string {
	c, err := localsecrets.New(w.state).Resolve(context.Background(), "graph-helpdesk")
	if err != nil {
		t.Fatal(err)
	}
	return c.RefreshToken
}

func TestSignInLinkStoresTheRefreshTokenOnce(t *testing.T) {
	w := newWorld(t)
	link, err := signin.NewLink(context.Background(), w.st, "support", w.hook.URL+"/", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	code, body := browse(t, link)
	if code != 200 || !strings.Contains(body, "Signed in. You can close this window.") {
		t.Fatalf("got %d %q, want the signed-in page", code, body)
	}
	rt := w.refreshToken(t)
	if rt == "" {
		t.Fatal("no refresh token in the secret after sign-in")
	}
	// The token works for the mailbox's user: refresh it at the provider.
	resp, err := http.PostForm(w.g.TokenURL("contoso"), map[string][]string{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"connector-web"}, "client_secret": {"web-secret"}})
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("the stored refresh token does not refresh: %v %v", resp.Status, err)
	}
	// The link is spent.
	if code, body := browse(t, link); code != 400 || !strings.Contains(body, "invalid, used or expired") {
		t.Errorf("second use: got %d %q, want the plain refusal", code, body)
	}
}

func TestSignInRefusals(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// Expired link.
	w.h.Now = func() time.Time { return time.Now().Add(signin.LinkLifetime + time.Minute) }
	link, _ := signin.NewLink(ctx, w.st, "support", w.hook.URL, time.Now())
	if code, body := browse(t, link); code != 400 || !strings.Contains(body, "invalid, used or expired") {
		t.Errorf("expired link: got %d %q", code, body)
	}
	w.h.Now = nil
	// Forged link and forged state.
	for _, u := range []string{w.hook.URL + "/signin?t=forged", w.hook.URL + "/signin", w.hook.URL + "/callback?code=x&state=forged"} {
		if code, body := browse(t, u); code != 400 || strings.Contains(body, "graph") || strings.Contains(body, "boltstore") {
			t.Errorf("%s: got %d %q, want a plain 400", u, code, body)
		}
	}
	// A job that is not oauth2.
	link, _ = signin.NewLink(ctx, w.st, "imap", w.hook.URL, time.Now())
	if code, body := browse(t, link); code != 400 || !strings.Contains(body, "cannot be signed in this way") {
		t.Errorf("imap job: got %d %q", code, body)
	}
	// The user does not complete the sign-in at the provider.
	w.g.SetSignedInUser("")
	link, _ = signin.NewLink(ctx, w.st, "support", w.hook.URL, time.Now())
	if code, body := browse(t, link); code != 400 || !strings.Contains(body, "Sign-in was not completed") {
		t.Errorf("provider error: got %d %q", code, body)
	}
	if w.refreshToken(t) != "" {
		t.Error("a refused sign-in stored a token")
	}
	// A replayed callback (same state twice) is refused the second time.
	w.g.SetSignedInUser(mbx)
	link, _ = signin.NewLink(ctx, w.st, "support", w.hook.URL, time.Now())
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r1, err := noFollow.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	r1.Body.Close()
	r2, err := noFollow.Get(r1.Header.Get("Location")) // the provider
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	cb := r2.Header.Get("Location")
	if code, _ := browse(t, cb); code != 200 {
		t.Fatalf("callback: got %d, want 200", code)
	}
	if code, body := browse(t, cb); code != 400 || !strings.Contains(body, "invalid or expired") {
		t.Errorf("replayed callback: got %d %q", code, body)
	}
	// PKCE: a code presented with another sign-in's state (so another
	// verifier) is refused by the provider.
	linkA, _ := signin.NewLink(ctx, w.st, "support", w.hook.URL, time.Now())
	linkB, _ := signin.NewLink(ctx, w.st, "support", w.hook.URL, time.Now())
	callback := func(link string) (code, state string) {
		r1, _ := noFollow.Get(link)
		r1.Body.Close()
		r2, _ := noFollow.Get(r1.Header.Get("Location"))
		r2.Body.Close()
		u := r2.Header.Get("Location")
		q := u[strings.Index(u, "?")+1:]
		vals, _ := parseQuery(q)
		return vals["code"], vals["state"]
	}
	codeA, _ := callback(linkA)
	_, stateB := callback(linkB)
	if code, body := browse(t, w.hook.URL+"/callback?code="+codeA+"&state="+stateB); code != 400 || !strings.Contains(body, "Sign-in failed") {
		t.Errorf("code with another verifier: got %d %q, want the provider's PKCE refusal", code, body)
	}
}

func parseQuery(q string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Split(q, "&") {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out, nil
}
