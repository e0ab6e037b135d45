package mailauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"mailconnector/shared/lazyre"
	"mailconnector/shared/redact"
	"mailconnector/shared/secrets"
)

// ErrToken means no OAuth2 access token could be had: the secret lacks
// what a grant needs, or the token endpoint refused.
var ErrToken = errors.New("could not get an OAuth2 access token")

// MicrosoftTokenURL is the Microsoft identity platform's token endpoint
// for a tenant (a directory id or a verified domain).
func MicrosoftTokenURL(tenant string) string {
	return "https://login.microsoftonline.com/" + url.PathEscape(tenant) + "/oauth2/v2.0/token"
}

// MicrosoftAppScope is the scope of an app-only (client credentials)
// token for Exchange Online IMAP and POP.
const MicrosoftAppScope = "https://outlook.office365.com/.default"

// TokenURL is creds.TokenURL, else the Microsoft endpoint of
// creds.TenantID.
func TokenURL(creds secrets.Credentials) (string, error) {
	switch {
	case creds.TokenURL != "":
		u, err := url.Parse(creds.TokenURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return "", fmt.Errorf("%w: the secret's tokenUrl is not an http(s) URL", ErrToken)
		}
		return creds.TokenURL, nil
	case creds.TenantID != "":
		return MicrosoftTokenURL(creds.TenantID), nil
	}
	return "", fmt.Errorf("%w: the secret has neither tokenUrl nor tenantId", ErrToken)
}

// Grant names how a token source gets its tokens.
type Grant string

// The grants.
const (
	GrantRefreshToken      Grant = "refresh_token"      // RFC 6749 section 6
	GrantClientCredentials Grant = "client_credentials" // RFC 6749 section 4.4
	GrantStatic            Grant = "access_token"       // a fixed token from the secret
)

// GrantFor says which grant creds allow: a refresh token (with clientId)
// first, then client credentials (clientId and clientSecret), then a fixed
// accessToken.
func GrantFor(creds secrets.Credentials) (Grant, error) {
	switch {
	case creds.RefreshToken != "":
		if creds.ClientID == "" {
			return "", fmt.Errorf("%w: the secret holds a refreshToken but no clientId", ErrToken)
		}
		return GrantRefreshToken, nil
	case creds.ClientID != "" && creds.ClientSecret != "":
		return GrantClientCredentials, nil
	case creds.AccessToken != "":
		return GrantStatic, nil
	}
	return "", fmt.Errorf("%w: the secret holds neither refreshToken, nor clientId with clientSecret, nor accessToken", ErrToken)
}

// NewTokenSource returns a token source for creds, without caching or
// write-back (see Tokens for both). client may be nil.
func NewTokenSource(creds secrets.Credentials, client *http.Client) (oauth2.TokenSource, error) {
	grant, err := GrantFor(creds)
	if err != nil {
		return nil, err
	}
	if grant == GrantStatic {
		return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: creds.AccessToken, TokenType: "Bearer"}), nil
	}
	tokenURL, err := TokenURL(creds)
	if err != nil {
		return nil, err
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	// The context is kept by the source for every later refresh: it only
	// carries the HTTP client, never a request's deadline.
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, client)
	scopes := creds.Scopes
	if grant == GrantClientCredentials {
		if len(scopes) == 0 && creds.TokenURL == "" {
			scopes = []string{MicrosoftAppScope}
		}
		cc := &clientcredentials.Config{ClientID: creds.ClientID, ClientSecret: creds.ClientSecret, TokenURL: tokenURL, Scopes: scopes}
		return cc.TokenSource(ctx), nil
	}
	conf := &oauth2.Config{ClientID: creds.ClientID, ClientSecret: creds.ClientSecret, Endpoint: oauth2.Endpoint{TokenURL: tokenURL}}
	return &scopedRefresher{conf: conf, ctx: ctx, refresh: creds.RefreshToken, scopes: scopes}, nil
}

// scopedRefresher is the refresh_token grant with the scope parameter
// (RFC 6749 section 6), keeping a rotated refresh token for the next call.
// oauth2.Config's own refresher never sends scope, which Microsoft's v2.0
// endpoint wants; clientcredentials.Config sends scope and lets
// EndpointParams override grant_type, which is exactly this request.
type scopedRefresher struct {
	conf    *oauth2.Config
	ctx     context.Context
	scopes  []string
	mu      sync.Mutex
	refresh string
}

func (r *scopedRefresher) Token() (*oauth2.Token, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cc := &clientcredentials.Config{
		ClientID: r.conf.ClientID, ClientSecret: r.conf.ClientSecret, TokenURL: r.conf.Endpoint.TokenURL, Scopes: r.scopes,
		EndpointParams: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.refresh}},
	}
	tok, err := cc.Token(r.ctx)
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken = r.refresh
	}
	r.refresh = tok.RefreshToken
	return tok, nil
}

// AccessToken gets an access token for a SASL exchange from ts, or, when
// ts is nil, from a token source built from creds (NewTokenSource: no
// cache, no write-back). notes are what ts has to say for the run record
// (a rotated refresh token written back, or why not: TokenSource.Notes).
// The token is registered with the redactor. Errors wrap ErrToken and say
// what to do; the IMAP and POP3 adapters share this one path.
func AccessToken(ts oauth2.TokenSource, creds secrets.Credentials) (token string, notes []string, err error) {
	if ts == nil {
		if ts, err = NewTokenSource(creds, nil); err != nil {
			return "", nil, err
		}
	}
	tok, err := ts.Token()
	if err != nil {
		tokenURL, _ := TokenURL(creds)
		return "", nil, DescribeTokenError(tokenURL, err)
	}
	redact.Add(tok.AccessToken, tok.RefreshToken)
	if n, ok := ts.(interface{ Notes() []string }); ok {
		notes = n.Notes()
	}
	return tok.AccessToken, notes, nil
}

// DescribeTokenError turns a token endpoint's refusal into one line that
// says what to do; it never quotes a secret.
func DescribeTokenError(tokenURL string, err error) error {
	if errors.Is(err, ErrToken) {
		return err
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := ""
		if re.Response != nil {
			status = re.Response.Status
		}
		// Only the error and error_description fields (RFC 6749 section
		// 5.2), never the body: an endpoint may echo the request, client
		// secret and refresh token included. A code outside the RFC's
		// character set is not one.
		code := re.ErrorCode
		if !errorCode.MatchString(code) {
			code = ""
		}
		what := code
		if d := oneLine(re.ErrorDescription, 300); d != "" && code != "" {
			what += ": " + redact.String(d)
		}
		if what == "" {
			what = "no error code"
		}
		hint := ""
		switch code {
		case "invalid_client", "unauthorized_client":
			hint = "; check the secret's clientId and clientSecret"
		case "invalid_grant":
			hint = "; the refresh token is expired or revoked: sign in again to get a new one"
		case "invalid_scope":
			hint = "; check the secret's scopes"
		}
		return fmt.Errorf("%w: the token endpoint %s refused (%s %s)%s", ErrToken, redactURL(tokenURL), strings.TrimSpace(status), what, hint)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%w: reach the token endpoint %s: %v", ErrToken, redactURL(tokenURL), redact.Error(ue.Err))
	}
	return fmt.Errorf("%w from %s: %v", ErrToken, redactURL(tokenURL), redact.Error(err))
}

// errorCode is the syntax of an OAuth2 error code (RFC 6749 section 5.2:
// 1*( %x20-21 / %x23-5B / %x5D-7E ), here without spaces, as every
// registered code is).
var errorCode = lazyre.New(`^[\x21\x23-\x5B\x5D-\x7E]{1,64}$`)

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(the secret's tokenUrl)"
	}
	u.User = nil
	u.RawQuery = ""
	return u.String()
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// Tokens hands out cached token sources, one per secret and credentials,
// so a process (the local runner, a warm Lambda) reuses an access token
// until EarlyExpiry before it expires and then refreshes it. When the
// provider rotates the refresh token, the new one is written back to the
// secret with the writer given to Source. The zero value is ready.
type Tokens struct {
	// HTTPClient talks to token endpoints; nil: a client with a 30 s
	// timeout.
	HTTPClient *http.Client
	// EarlyExpiry refreshes a token this long before it expires; default
	// five minutes (a fetch run must not see its token expire midway).
	EarlyExpiry time.Duration
	// Logger receives write-back failures; nil: slog.Default().
	Logger *slog.Logger

	mu sync.Mutex
	m  map[string]*source
}

type source struct {
	t        *Tokens
	ref      string
	route    string
	tokenURL string
	w        secrets.Writer
	reuse    oauth2.TokenSource

	mu     sync.Mutex
	creds  secrets.Credentials
	notes  []string
	lastRT string
}

func cacheKey(ref string, c secrets.Credentials) string {
	b, _ := json.Marshal(c)
	h := sha256.Sum256(append([]byte(ref+"\x00"), b...))
	return hex.EncodeToString(h[:])
}

// Source returns the token source of the secret ref that holds creds. A
// rotated refresh token is written back with w (nil: kept in memory only).
// Token errors wrap ErrToken and say what to do.
func (t *Tokens) Source(ref string, creds secrets.Credentials, w secrets.Writer) (TokenSource, error) {
	return t.SourceVia(ref, creds, w, nil, "")
}

// SourceVia is Source for a token source that reaches the token endpoint
// with client (nil: Tokens.HTTPClient); route names the way client goes
// out (the job's proxy), so that jobs that reach the endpoint differently
// never share a source.
func (t *Tokens) SourceVia(ref string, creds secrets.Credentials, w secrets.Writer, client *http.Client, route string) (TokenSource, error) {
	key := cacheKey(ref+"\x00"+route, creds)
	if client == nil {
		client = t.HTTPClient
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.m[key]; ok {
		s.mu.Lock()
		s.w = w
		s.mu.Unlock()
		return s, nil
	}
	secrets.Register(creds)
	src, err := NewTokenSource(creds, client)
	if err != nil {
		return nil, err
	}
	tokenURL, _ := TokenURL(creds)
	early := t.EarlyExpiry
	if early == 0 {
		early = 5 * time.Minute
	}
	s := &source{t: t, ref: ref, route: route, tokenURL: tokenURL, w: w, creds: creds, lastRT: creds.RefreshToken,
		reuse: oauth2.ReuseTokenSourceWithExpiry(nil, src, early)}
	if t.m == nil {
		t.m = map[string]*source{}
	}
	t.m[key] = s
	return s, nil
}

// TokenSource is an oauth2.TokenSource that also reports what happened to
// a rotated refresh token.
type TokenSource interface {
	oauth2.TokenSource
	// Notes says, once, what became of rotated refresh tokens (written
	// back, or why not), for the run record.
	Notes() []string
}

func (s *source) Token() (*oauth2.Token, error) {
	tok, err := s.reuse.Token()
	if err != nil {
		return nil, DescribeTokenError(s.tokenURL, err)
	}
	if tok.AccessToken == "" {
		return nil, fmt.Errorf("%w: the token endpoint %s returned no access_token", ErrToken, redactURL(s.tokenURL))
	}
	// Tokens got at run time are secrets too.
	redact.Add(tok.AccessToken, tok.RefreshToken)
	s.mu.Lock()
	defer s.mu.Unlock()
	if tok.RefreshToken != "" && tok.RefreshToken != s.lastRT {
		s.lastRT = tok.RefreshToken
		s.creds.RefreshToken = tok.RefreshToken
		// The rotated credentials find this same source next time.
		s.t.mu.Lock()
		s.t.m[cacheKey(s.ref+"\x00"+s.route, s.creds)] = s
		s.t.mu.Unlock()
		s.writeBack()
	}
	return tok, nil
}

// writeBack stores the rotated refresh token; s.mu is held.
func (s *source) writeBack() {
	log := s.t.Logger
	if log == nil {
		log = slog.Default()
	}
	if s.w == nil {
		s.notes = append(s.notes, fmt.Sprintf("the OAuth2 provider rotated the refresh token of secret %q; it is kept in memory only (no secret writer)", s.ref))
		log.Warn("mailauth: rotated refresh token kept in memory only", "secret", s.ref)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	changed, err := s.w.WriteBack(ctx, s.ref, s.creds)
	if err != nil {
		s.notes = append(s.notes, fmt.Sprintf("the OAuth2 provider rotated the refresh token of secret %q but it could not be written back: %v", s.ref, err))
		log.Error("mailauth: write back rotated refresh token", "secret", s.ref, "err", err)
		return
	}
	if changed {
		s.notes = append(s.notes, fmt.Sprintf("the OAuth2 provider rotated the refresh token; the new one was written back to secret %q", s.ref))
		log.Info("mailauth: rotated refresh token written back", "secret", s.ref)
	}
}

func (s *source) Notes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.notes
	s.notes = nil
	return n
}
