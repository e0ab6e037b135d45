package signin_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/secrets/localsecrets"
	"mailconnector/shared/signin"
	"mailconnector/shared/store/boltstore"
	"mailconnector/shared/testkit/graphtest"
	"mailconnector/shared/testkit/localtest"
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
	st := localtest.Store(t, state)
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
	h.URL = hook.URL + "/"
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

// post submits the sign-in page's form of link as the browser does, from
// the page's origin, without following the answer's redirect.
func post(t *testing.T, link string) *http.Response {
	t.Helper()
	code, body := browse(t, link)
	if code != 200 {
		t.Fatalf("GET %s: got %d %q, want the sign-in page", link, code, body)
	}
	m := regexp.MustCompile(`<form method="post" action="([^"]*)"><input type="hidden" name="t" value="([^"]*)">`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("GET %s: got %q, want a page with a POST form", link, body)
	}
	u, _ := url.Parse(link)
	action, _ := u.Parse(html.UnescapeString(m[1]))
	req, _ := http.NewRequest(http.MethodPost, action.String(), strings.NewReader(url.Values{"t": {html.UnescapeString(m[2])}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", u.Scheme+"://"+u.Host)
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(string(b)))
	return resp
}

var noFollow = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// signIn opens link, presses the button and follows the browser to the
// last page.
func signIn(t *testing.T, link string) (int, string) {
	t.Helper()
	resp := post(t, link)
	if resp.StatusCode != http.StatusFound {
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	return browse(t, resp.Header.Get("Location"))
}

// postForged posts link's token to the webhook's /signin as no browser
// would: forge sets the parts of the request made up. The body is closed.
func postForged(t *testing.T, w *world, link string, forge func(*http.Request)) *http.Response {
	t.Helper()
	u, _ := url.Parse(link)
	req, _ := http.NewRequest(http.MethodPost, w.hook.URL+"/signin", strings.NewReader(url.Values{"t": {u.Query().Get("t")}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	forge(req)
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
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
	// A mail scanner opens the link first: the page, nothing spent.
	for i := 0; i < 3; i++ {
		if code, body := browse(t, link); code != 200 || !strings.Contains(body, "<button") {
			t.Fatalf("GET %d: got %d %q, want the page with its button", i, code, body)
		}
	}
	code, body := signIn(t, link)
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
	if code, body := signIn(t, link); code != 400 || !strings.Contains(body, "invalid, used or expired") {
		t.Errorf("second use: got %d %q, want the plain refusal", code, body)
	}
}

func TestSignInRefusals(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// Expired link.
	w.h.Now = func() time.Time { return time.Now().Add(signin.LinkLifetime + time.Minute) }
	link, _ := signin.NewLink(ctx, w.st, "support", w.hook.URL, time.Now())
	if code, body := signIn(t, link); code != 400 || !strings.Contains(body, "invalid, used or expired") {
		t.Errorf("expired link: got %d %q", code, body)
	}
	w.h.Now = nil
	// Forged link and forged state.
	for _, u := range []string{w.hook.URL + "/callback?code=x&state=forged"} {
		if code, body := browse(t, u); code != 400 || strings.Contains(body, "graph") || strings.Contains(body, "boltstore") {
			t.Errorf("%s: got %d %q, want a plain 400", u, code, body)
		}
	}
	// A job that is not oauth2.
	if code, body := signIn(t, w.hook.URL+"/signin?t=forged"); code != 400 || !strings.Contains(body, "invalid, used or expired") {
		t.Errorf("forged link: got %d %q", code, body)
	}
	link, _ = signin.NewLink(ctx, w.st, "imap", w.hook.URL, time.Now())
	if code, body := signIn(t, link); code != 400 || !strings.Contains(body, "cannot be signed in this way") {
		t.Errorf("imap job: got %d %q", code, body)
	}
	// The user does not complete the sign-in at the provider.
	w.g.SetSignedInUser("")
	link, _ = signin.NewLink(ctx, w.st, "support", w.hook.URL, time.Now())
	if code, body := signIn(t, link); code != 400 || !strings.Contains(body, "Sign-in was not completed") {
		t.Errorf("provider error: got %d %q", code, body)
	}
	if w.refreshToken(t) != "" {
		t.Error("a refused sign-in stored a token")
	}
	// A replayed callback (same state twice) is refused the second time.
	w.g.SetSignedInUser(mbx)
	link, _ = signin.NewLink(ctx, w.st, "support", w.hook.URL, time.Now())
	r1 := post(t, link)
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
		r1 := post(t, link)
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

// TestSignInAccountAndRedirect: only the job's mailbox may sign in; the
// redirect URI is the configured URL's whatever the request says; a POST
// from another origin is refused and spends nothing.
func TestSignInAccountAndRedirect(t *testing.T) {
	ctx := context.Background()
	t.Run("another account", func(t *testing.T) {
		w := newWorld(t)
		w.g.SetSignedInUser("mallory@contoso.example")
		link, _ := signin.NewLink(ctx, w.st, "support", w.hook.URL, time.Now())
		code, body := signIn(t, link)
		if code != http.StatusForbidden || !strings.Contains(body, "mallory@contoso.example") || !strings.Contains(body, mbx) {
			t.Errorf("got %d %q, want 403 naming the account and the job's mailbox", code, body)
		}
		if rt := w.refreshToken(t); rt != "" {
			t.Errorf("got refresh token %q stored, want none", rt)
		}
	})
	t.Run("same account, other case", func(t *testing.T) {
		w := newWorld(t)
		w.g.SetSignedInUser(strings.ToUpper(mbx))
		link, _ := signin.NewLink(ctx, w.st, "support", w.hook.URL, time.Now())
		if code, body := signIn(t, link); code != 200 {
			t.Errorf("got %d %q, want 200", code, body)
		}
	})
	t.Run("forged Host and X-Forwarded-Proto", func(t *testing.T) {
		w := newWorld(t)
		link, _ := signin.NewLink(ctx, w.st, "support", w.hook.URL, time.Now())
		resp := postForged(t, w, link, func(req *http.Request) {
			req.Host = "evil.example"
			req.Header.Set("X-Forwarded-Proto", "javascript")
		})
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if got, want := loc.Query().Get("redirect_uri"), w.hook.URL+"/callback"; resp.StatusCode != http.StatusFound || got != want {
			t.Errorf("got %d with redirect_uri %q, want 302 with %q", resp.StatusCode, got, want)
		}
	})
	t.Run("cross-origin POST", func(t *testing.T) {
		w := newWorld(t)
		link, _ := signin.NewLink(ctx, w.st, "support", w.hook.URL, time.Now())
		resp := postForged(t, w, link, func(req *http.Request) { req.Header.Set("Origin", "https://evil.example") })
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("got %d, want 403", resp.StatusCode)
		}
		if code, body := signIn(t, link); code != 200 {
			t.Errorf("after the refused POST: got %d %q, want the link still good", code, body)
		}
	})
	t.Run("no configured URL", func(t *testing.T) {
		w := newWorld(t)
		w.h.URL = ""
		link, _ := signin.NewLink(ctx, w.st, "support", w.hook.URL, time.Now())
		if code, body := signIn(t, link); code != http.StatusServiceUnavailable {
			t.Errorf("got %d %q, want 503", code, body)
		}
	})
}
