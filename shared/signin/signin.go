// Package signin signs a mailbox's user in for a delegated OAuth2 job and
// stores the refresh token in the job's secret. Two flows:
//
//   - the device code flow (RFC 8628) for `connector oauth login`, where the
//     administrator has a terminal;
//   - the authorization code flow with PKCE (RFC 7636) behind the webhook's
//     Function URL, for an administrator with only a browser: `connector
//     oauth link` makes a one-time link (valid an hour). GET /signin only
//     shows a page with a button, so a mail scanner that opens the link
//     spends nothing; the button POSTs the link's token from the page's
//     own origin, which spends it and sends the browser to the identity
//     provider with a fresh state and code challenge. GET /callback checks
//     the state (single use, ten minutes), exchanges the code with the
//     verifier, checks that the account signed in is the job's mailbox
//     (the id_token's preferred_username, upn or email; OpenID Connect
//     Core 1.0 section 2) and only then stores the token. The redirect
//     URI is built from the configured URL of the webhook, never from the
//     request's Host or X-Forwarded-* headers.
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
	"net"
	"net/http"
	"net/url"
	"slices"
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

// Handler serves GET and POST /signin and GET /callback.
type Handler struct {
	// URL is the webhook's public URL (the Function URL, or the --url of
	// `connector oauth link`): the redirect URI is URL + "callback", and a
	// POST must come from its origin. Empty: sign-in is refused.
	URL      string
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

// base is the configured URL, parsed: https, or http on a loopback host
// (a local run), with a host and no query.
func (h *Handler) base() (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(h.URL))
	switch {
	case h.URL == "":
		return nil, errors.New("the webhook's URL is not configured")
	case err != nil:
		return nil, fmt.Errorf("the webhook's URL: %w", err)
	case u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return nil, fmt.Errorf("the webhook's URL %q is not an absolute URL with a host only", h.URL)
	case u.Scheme == "https":
	case u.Scheme == "http" && (u.Hostname() == "localhost" || net.ParseIP(u.Hostname()).IsLoopback()):
	default:
		return nil, fmt.Errorf("the webhook's URL %q is not https", h.URL)
	}
	return u, nil
}

// CheckURL reports whether raw can be the webhook's URL that sign-in
// links and the redirect URI are built from: https (http only on a
// loopback host), with a host and nothing after the path.
func CheckURL(raw string) error {
	_, err := (&Handler{URL: raw}).base()
	return err
}

// callbackURL is the configured URL's callback.
func (h *Handler) callbackURL() (string, error) {
	u, err := h.base()
	if err != nil {
		return "", err
	}
	return strings.TrimRight(u.String(), "/") + "/callback", nil
}

// ServeHTTP routes /signin and /callback.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := "/" + strings.Trim(r.URL.Path, "/")
	allowed := http.MethodGet
	if path == "/signin" {
		allowed = "GET, POST"
	}
	if r.Method != http.MethodGet && !(path == "/signin" && r.Method == http.MethodPost) {
		w.Header().Set("Allow", allowed)
		page(w, http.StatusMethodNotAllowed, "Method not allowed.")
		return
	}
	switch {
	case path == "/signin" && r.Method == http.MethodGet:
		h.confirm(w, r)
	case path == "/signin":
		h.start(w, r)
	case path == "/callback":
		h.callback(w, r)
	default:
		page(w, http.StatusNotFound, "Not found.")
	}
}

// confirm is GET /signin: a page whose button POSTs the link's token. It
// reads nothing and spends nothing, so a link opened by a mail scanner or
// a preview stays good for the administrator.
func (h *Handler) confirm(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("t")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; form-action 'self' https:; frame-ancestors 'none'")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "<!doctype html><title>Mail Connector</title><p>Sign in the mailbox of a Mail Connector job. The link works once.</p>"+
		"<form method=\"post\" action=\"signin\"><input type=\"hidden\" name=\"t\" value=\"%s\"><button type=\"submit\">Sign in</button></form>\n",
		html.EscapeString(tok))
}

// sameOrigin reports whether a POST came from the page of base: a
// browser sends Origin with a form POST (and Sec-Fetch-Site); a request
// without either is not a browser's cross-site one. The link's token in
// the form is the real guard: it is single use and unguessable.
func sameOrigin(r *http.Request, base *url.URL) bool {
	if o := r.Header.Get("Origin"); o != "" {
		return strings.EqualFold(o, base.Scheme+"://"+base.Host)
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	return false
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

// start is POST /signin: it spends the link and sends the browser to the
// identity provider.
func (h *Handler) start(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	redirect, err := h.callbackURL()
	if err != nil {
		h.log().Error("sign-in", "err", err)
		page(w, http.StatusServiceUnavailable, "Sign-in is not configured. Ask the administrator.")
		return
	}
	base, _ := h.base()
	if !sameOrigin(r, base) {
		h.log().Warn("sign-in refused: a POST from another origin", "origin", r.Header.Get("Origin"), "site", r.Header.Get("Sec-Fetch-Site"))
		page(w, http.StatusForbidden, "This sign-in must be started from its own page. Open the link again.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		page(w, http.StatusBadRequest, "This sign-in link is invalid, used or expired. Ask for a new one.")
		return
	}
	tok := r.PostForm.Get("t")
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
	// openid asks for an id_token naming the account, checked at the
	// callback; the stored scopes stay the job's.
	ask := *conf
	ask.Scopes = append(slices.Clone(conf.Scopes), "openid", "profile", "email")
	http.Redirect(w, r, ask.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("response_mode", "query"), oauth2.SetAuthURLParam("prompt", "select_account")), http.StatusFound)
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
	want := j.Server.Mailbox
	if want == "" {
		want = creds.Username
	}
	got := account(tok)
	if want == "" || got == "" || !strings.EqualFold(got, want) {
		h.log().Warn("sign-in refused: another account than the job's mailbox", "job", j.ID, "account", got, "mailbox", want)
		msg := fmt.Sprintf("You signed in as %s, but job %s reads the mailbox %s. Nothing was stored. Ask for a new link and sign in as %s.", orUnknown(got), j.ID, orUnknown(want), orUnknown(want))
		page(w, http.StatusForbidden, msg)
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

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// account is the signed-in account the token response's id_token names:
// preferred_username, else upn, else email
// (https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference).
// The id_token comes straight from the token endpoint over TLS, so its
// signature need not be checked (OpenID Connect Core 1.0 section
// 3.1.3.7). "" when there is none.
func account(tok *oauth2.Token) string {
	raw, _ := tok.Extra("id_token").(string)
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return ""
	}
	var c struct {
		PreferredUsername string `json:"preferred_username"`
		UPN               string `json:"upn"`
		Email             string `json:"email"`
	}
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	for _, v := range []string{c.PreferredUsername, c.UPN, c.Email} {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
