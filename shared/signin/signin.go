// Package signin signs a mailbox's user in for a delegated OAuth2 job and
// stores the refresh token in the job's secret. Two flows:
//
//   - the device code flow (RFC 8628) for `connector oauth login`, where the
//     administrator has a terminal;
//   - the authorization code flow with PKCE (RFC 7636) behind the webhook's
//     Function URL, for an administrator with only a browser: `connector
//     oauth link` makes a one-time link (valid an hour), GET /signin spends
//     it and sends the browser to the identity provider with a fresh state
//     and code challenge, GET /callback checks the state (single use, ten
//     minutes), exchanges the code with the verifier and stores the token.
//
// The pages say only whether it worked; details go to the log
// (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow).
package signin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox/graphbox"
	"mailconnector/shared/notify"
	"mailconnector/shared/secrets"
	"mailconnector/shared/store"
)

// LinkLifetime is how long a sign-in link may be used (once).
const LinkLifetime = time.Hour

// StateLifetime is how long a sign-in may take at the identity provider.
const StateLifetime = 10 * time.Minute

// Config is the OAuth2 configuration of a delegated sign-in for the job:
// the secret's clientId (and clientSecret, for a confidential app), the
// token endpoint of the secret's tokenUrl or of the job's cloud and tenant,
// and the secret's scopes or those the protocol needs for a user.
func Config(j *job.Job, c secrets.Credentials) (*oauth2.Config, error) {
	if c.ClientID == "" {
		return nil, fmt.Errorf("secret %q has no clientId (the app registration's application id)", j.Server.Auth.Secret)
	}
	tokenURL := c.TokenURL
	if tokenURL == "" {
		if c.TenantID == "" {
			return nil, fmt.Errorf("secret %q has neither tenantId nor tokenUrl", j.Server.Auth.Secret)
		}
		tokenURL = "https://" + graphbox.CloudOf(j.Server).Login + "/" + c.TenantID + "/oauth2/v2.0/token"
	}
	if !strings.HasSuffix(tokenURL, "/token") {
		return nil, fmt.Errorf("tokenUrl %s does not end in /token: the sign-in endpoints are unknown", tokenURL)
	}
	base := strings.TrimSuffix(tokenURL, "/token")
	scopes := c.Scopes
	if len(scopes) == 0 {
		switch j.Server.Protocol {
		case job.Graph:
			scopes = []string{"https://" + graphbox.CloudOf(j.Server).Graph + "/Mail.ReadWrite", "offline_access"}
		case job.POP3:
			scopes = []string{"https://outlook.office.com/POP.AccessAsUser.All", "offline_access"}
		default:
			scopes = []string{"https://outlook.office.com/IMAP.AccessAsUser.All", "offline_access"}
		}
	}
	return &oauth2.Config{
		ClientID: c.ClientID, ClientSecret: c.ClientSecret, Scopes: scopes,
		Endpoint: oauth2.Endpoint{TokenURL: tokenURL, AuthURL: base + "/authorize", DeviceAuthURL: base + "/devicecode", AuthStyle: oauth2.AuthStyleInParams},
	}, nil
}

func random() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func linkKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "signin-link#" + hex.EncodeToString(sum[:])
}

// NewLink stores a one-time sign-in link for the job and returns it:
// base (the webhook's URL) + "signin?t=…". Only a hash of the token is
// stored.
func NewLink(ctx context.Context, st store.OneTime, jobID, base string, now time.Time) (string, error) {
	tok := random()
	if err := st.PutOnce(ctx, linkKey(tok), []byte(jobID), now.Add(LinkLifetime)); err != nil {
		return "", err
	}
	return strings.TrimRight(base, "/") + "/signin?t=" + tok, nil
}

// Handler serves GET /signin and GET /callback.
type Handler struct {
	Jobs     *job.File
	Store    store.OneTime
	Secrets  secrets.Resolver // must also be a secrets.Writer
	Notifier notify.Notifier  // nil: the sign-in is only logged
	Logger   *slog.Logger
	Now      func() time.Time
	// HTTPClient makes the token request; nil: a client with a 30 s timeout.
	HTTPClient *http.Client
}

type pending struct {
	JobID    string `json:"jobId"`
	Verifier string `json:"verifier"`
	Redirect string `json:"redirect"`
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) log() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

// page writes a minimal HTML page with a status and one sentence.
func page(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><title>Mail Connector</title><p>%s</p>\n", html.EscapeString(msg))
}

// callbackURL is this handler's /callback as the browser reaches it.
func callbackURL(r *http.Request) string {
	proto := r.Header.Get("X-Forwarded-Proto")
	if proto == "" {
		proto = "https"
		if r.TLS == nil {
			proto = "http"
		}
	}
	return proto + "://" + r.Host + "/callback"
}

// ServeHTTP routes /signin and /callback.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		page(w, http.StatusMethodNotAllowed, "Method not allowed.")
		return
	}
	switch "/" + strings.Trim(r.URL.Path, "/") {
	case "/signin":
		h.start(w, r)
	case "/callback":
		h.callback(w, r)
	default:
		page(w, http.StatusNotFound, "Not found.")
	}
}

// jobConfig resolves the job's secret and its OAuth2 configuration.
func (h *Handler) jobConfig(ctx context.Context, jobID, redirect string) (*job.Job, secrets.Credentials, *oauth2.Config, error) {
	j, ok := h.Jobs.Job(jobID)
	if !ok || j.Server.Auth.Method != job.AuthOAuth2 {
		return nil, secrets.Credentials{}, nil, fmt.Errorf("job %q is not an oauth2 job of the jobs file", jobID)
	}
	creds, err := h.Secrets.Resolve(ctx, j.Server.Auth.Secret)
	if err != nil {
		return nil, creds, nil, fmt.Errorf("job %s: secret %q: %w", j.ID, j.Server.Auth.Secret, err)
	}
	conf, err := Config(j, creds)
	if err != nil {
		return nil, creds, nil, fmt.Errorf("job %s: %w", j.ID, err)
	}
	conf.RedirectURL = redirect
	return j, creds, conf, nil
}

func (h *Handler) start(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	tok := r.URL.Query().Get("t")
	v, err := h.Store.TakeOnce(ctx, linkKey(tok), h.now())
	if tok == "" || errors.Is(err, store.ErrNotFound) {
		h.log().Warn("sign-in link refused: unknown, used or expired")
		page(w, http.StatusBadRequest, "This sign-in link is invalid, used or expired. Ask for a new one.")
		return
	}
	if err != nil {
		h.log().Error("sign-in link", "err", err)
		page(w, http.StatusServiceUnavailable, "Sign-in is unavailable. Try again later.")
		return
	}
	redirect := callbackURL(r)
	j, _, conf, err := h.jobConfig(ctx, string(v), redirect)
	if err != nil {
		h.log().Error("sign-in", "err", err)
		page(w, http.StatusBadRequest, "This job cannot be signed in this way. Ask the administrator.")
		return
	}
	state, verifier := random(), oauth2.GenerateVerifier()
	b, _ := json.Marshal(pending{JobID: j.ID, Verifier: verifier, Redirect: redirect})
	if err := h.Store.PutOnce(ctx, "signin-state#"+state, b, h.now().Add(StateLifetime)); err != nil {
		h.log().Error("sign-in state", "job", j.ID, "err", err)
		page(w, http.StatusServiceUnavailable, "Sign-in is unavailable. Try again later.")
		return
	}
	h.log().Info("sign-in started", "job", j.ID)
	http.Redirect(w, r, conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("response_mode", "query"), oauth2.SetAuthURLParam("prompt", "select_account")), http.StatusFound)
}

func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	state := q.Get("state")
	v, err := h.Store.TakeOnce(ctx, "signin-state#"+state, h.now())
	if state == "" || err != nil {
		h.log().Warn("sign-in callback refused: unknown, used or expired state", "err", err)
		page(w, http.StatusBadRequest, "This sign-in is invalid or expired. Ask for a new link.")
		return
	}
	var p pending
	if err := json.Unmarshal(v, &p); err != nil {
		page(w, http.StatusBadRequest, "This sign-in is invalid or expired. Ask for a new link.")
		return
	}
	if e := q.Get("error"); e != "" {
		h.log().Warn("sign-in refused by the identity provider", "job", p.JobID, "error", e, "description", q.Get("error_description"))
		page(w, http.StatusBadRequest, "Sign-in was not completed. Ask for a new link.")
		return
	}
	j, creds, conf, err := h.jobConfig(ctx, p.JobID, p.Redirect)
	if err != nil {
		h.log().Error("sign-in callback", "err", err)
		page(w, http.StatusBadRequest, "This job cannot be signed in this way. Ask the administrator.")
		return
	}
	client := h.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	tok, err := conf.Exchange(context.WithValue(ctx, oauth2.HTTPClient, client), q.Get("code"), oauth2.VerifierOption(p.Verifier))
	if err != nil {
		h.log().Error("sign-in: code exchange refused", "job", j.ID, "err", err)
		page(w, http.StatusBadRequest, "Sign-in failed. Ask for a new link.")
		return
	}
	if tok.RefreshToken == "" {
		h.log().Error("sign-in: no refresh token (offline_access missing?)", "job", j.ID)
		page(w, http.StatusBadRequest, "Sign-in failed. Ask for a new link.")
		return
	}
	wr, ok := h.Secrets.(secrets.Writer)
	if !ok {
		h.log().Error("sign-in: the secret store cannot be written", "job", j.ID)
		page(w, http.StatusServiceUnavailable, "The sign-in could not be stored. Ask the administrator.")
		return
	}
	creds.RefreshToken, creds.Scopes = tok.RefreshToken, conf.Scopes
	if _, err := wr.WriteBack(ctx, j.Server.Auth.Secret, creds); err != nil {
		h.log().Error("sign-in: store the refresh token", "job", j.ID, "err", err)
		page(w, http.StatusServiceUnavailable, "The sign-in could not be stored. Ask the administrator.")
		return
	}
	h.log().Info("signed in", "job", j.ID)
	if h.Notifier != nil {
		_ = h.Notifier.Notify(ctx, notify.Notice{Kind: notify.Recovery, JobID: j.ID,
			Subject: fmt.Sprintf("Mail connector: job %s signed in", j.ID),
			Body:    fmt.Sprintf("A user signed in for job %s through a sign-in link; its refresh token is in secret %q. Check with: connector test %s", j.ID, j.Server.Auth.Secret, j.ID)})
	}
	page(w, http.StatusOK, "Signed in. You can close this window.")
}
