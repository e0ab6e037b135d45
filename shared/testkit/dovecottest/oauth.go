package dovecottest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// OAuthServer is a small OAuth 2.0 authorization server for tests, on
// 127.0.0.1 at a port chosen at run time. Its token endpoint (RFC 6749
// section 3.2) grants client_credentials (section 4.4) and refresh_token
// (section 6, rotating the refresh token when Rotate is set); its
// introspection endpoint (RFC 7662) is what Dovecot's oauth2 passdb asks
// (Options.OAuth2IntrospectionURL), so a token the connector got from the
// token endpoint signs it in to Dovecot, and nothing reaches the Internet.
type OAuthServer struct {
	srv *http.Server
	ln  net.Listener

	mu       sync.Mutex
	clients  map[string]oauthClient // client id → client
	access   map[string]accessToken
	refresh  map[string]refreshToken
	requests []TokenRequest
	rotate   bool
	ttl      time.Duration
	intros   int
}

type oauthClient struct{ secret, user string }

type accessToken struct {
	user    string
	expires time.Time
	scope   string
}

type refreshToken struct{ client, user string }

// TokenRequest is one request the token endpoint answered, for tests to
// check what the connector sent. It holds no secret.
type TokenRequest struct {
	GrantType string
	ClientID  string
	Scope     string
	OK        bool
}

// StartOAuth starts an OAuthServer and stops it in tb.Cleanup.
func StartOAuth(tb testing.TB) *OAuthServer {
	tb.Helper()
	o, err := StartOAuthProcess()
	if err != nil {
		tb.Fatalf("start oauth server: %v", err)
	}
	tb.Cleanup(o.Close)
	return o
}

// StartOAuthProcess starts an OAuthServer; the caller must Close it.
func StartOAuthProcess() (*OAuthServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	o := &OAuthServer{ln: ln, clients: map[string]oauthClient{}, access: map[string]accessToken{}, refresh: map[string]refreshToken{}, ttl: time.Hour}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", o.token)
	mux.HandleFunc("POST /introspect", o.introspect)
	o.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go o.srv.Serve(ln)
	return o, nil
}

// Close stops the server.
func (o *OAuthServer) Close() { o.srv.Close() }

// URL is the server's base URL.
func (o *OAuthServer) URL() string { return "http://" + o.ln.Addr().String() }

// TokenURL is the token endpoint.
func (o *OAuthServer) TokenURL() string { return o.URL() + "/token" }

// IntrospectionURL is the introspection endpoint for Dovecot.
func (o *OAuthServer) IntrospectionURL() string { return o.URL() + "/introspect" }

// SetRotate makes every refresh_token grant return a new refresh token and
// revoke the old one.
func (o *OAuthServer) SetRotate(rotate bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.rotate = rotate
}

// SetTTL sets the lifetime of access tokens issued from now on.
func (o *OAuthServer) SetTTL(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ttl = d
}

// AddClient registers a confidential client whose client_credentials
// tokens sign in as user (an app-only grant for one mailbox).
func (o *OAuthServer) AddClient(id, secret, user string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.clients[id] = oauthClient{secret: secret, user: user}
}

// IssueRefreshToken returns a refresh token of client for user, as a
// sign-in would.
func (o *OAuthServer) IssueRefreshToken(client, user string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	rt := "rt-" + randomHex()
	o.refresh[rt] = refreshToken{client: client, user: user}
	return rt
}

// IssueAccessToken returns an access token for user valid for ttl.
func (o *OAuthServer) IssueAccessToken(user string, ttl time.Duration) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	at := "at-" + randomHex()
	o.access[at] = accessToken{user: user, expires: time.Now().Add(ttl)}
	return at
}

// Requests returns the token requests answered so far.
func (o *OAuthServer) Requests() []TokenRequest {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]TokenRequest(nil), o.requests...)
}

// Introspections counts introspection requests.
func (o *OAuthServer) Introspections() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.intros
}

func randomHex() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// token is the token endpoint. Client authentication is HTTP Basic or the
// client_id/client_secret form fields (RFC 6749 section 2.3.1).
func (o *OAuthServer) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	grant := r.PostForm.Get("grant_type")
	o.mu.Lock()
	defer o.mu.Unlock()
	req := TokenRequest{GrantType: grant, ClientID: id, Scope: r.PostForm.Get("scope")}
	fail := func(status int, code, desc string) {
		o.requests = append(o.requests, req)
		writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
	}
	var user, newRT string
	switch grant {
	case "client_credentials":
		c, ok := o.clients[id]
		if !ok || c.secret != secret {
			fail(http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
			return
		}
		user = c.user
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		info, ok := o.refresh[rt]
		if !ok || info.client != id {
			fail(http.StatusBadRequest, "invalid_grant", "the refresh token is unknown, expired or revoked")
			return
		}
		if c, ok := o.clients[id]; ok && c.secret != secret {
			fail(http.StatusUnauthorized, "invalid_client", "wrong client secret")
			return
		}
		user = info.user
		if o.rotate {
			delete(o.refresh, rt)
			newRT = "rt-" + randomHex()
			o.refresh[newRT] = info
		}
	default:
		fail(http.StatusBadRequest, "unsupported_grant_type", "grant_type "+grant+" is not supported")
		return
	}
	at := "at-" + randomHex()
	o.access[at] = accessToken{user: user, expires: time.Now().Add(o.ttl), scope: req.Scope}
	req.OK = true
	o.requests = append(o.requests, req)
	resp := map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": int(o.ttl.Seconds())}
	if req.Scope != "" {
		resp["scope"] = req.Scope
	}
	if newRT != "" {
		resp["refresh_token"] = newRT
	}
	writeJSON(w, http.StatusOK, resp)
}

// introspect is RFC 7662 section 2: "active" and, for an active token,
// "username".
func (o *OAuthServer) introspect(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	tok := strings.TrimSpace(r.PostForm.Get("token"))
	o.mu.Lock()
	defer o.mu.Unlock()
	o.intros++
	at, ok := o.access[tok]
	if !ok || time.Now().After(at.expires) {
		writeJSON(w, http.StatusOK, map[string]any{"active": false})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"active": true, "username": at.user, "scope": at.scope, "exp": at.expires.Unix(), "token_type": "Bearer"})
}
