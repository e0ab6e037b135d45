// Package graphtest is a Microsoft Graph mail server for tests: the calls
// the graph adapter, the webhook and the renew function make, answered on
// 127.0.0.1 at a port chosen at run time the way the public documentation
// says Graph answers them. It is written by hand because no Graph test
// double exists as a library; it models only what the connector uses:
//
//   - Microsoft identity platform token endpoint (client credentials,
//     refresh token with optional rotation, device code):
//     https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow,
//     .../v2-oauth2-auth-code-flow#refresh-the-access-token,
//     .../v2-oauth2-device-code. Tokens are opaque; an expired or unknown
//     one answers 401 InvalidAuthenticationToken.
//   - mailFolder get / childFolders (with $filter on displayName) / create
//     (409 ErrorFolderExists), well-known folder names:
//     https://learn.microsoft.com/graph/api/resources/mailfolder
//   - message delta on a folder: pages of Prefer odata.maxpagesize,
//     @odata.nextLink to @odata.deltaLink; later rounds return only changes,
//     and messages that left the folder as "@removed" entries; a delta link
//     from before ExpireDeltaTokens answers 410 Gone (syncStateNotFound):
//     https://learn.microsoft.com/graph/api/message-delta,
//     https://learn.microsoft.com/graph/delta-query-messages
//   - the messages of a folder, paged by $top and $skip, with $filter
//     only as internetMessageId eq '…' (other filters answer 400
//     ErrorInvalidUrlQueryFilter):
//     https://learn.microsoft.com/graph/api/mailfolder-list-messages,
//     https://learn.microsoft.com/graph/filter-query-parameter
//   - $value (the MIME content, text/plain), PATCH isRead, move (a new id
//     unless Prefer: IdType="ImmutableId"), DELETE (to Deleted Items),
//     permanentDelete, 404 ErrorItemNotFound:
//     https://learn.microsoft.com/graph/api/message-get,
//     https://learn.microsoft.com/graph/outlook-immutable-id
//   - JSON batching, up to 20 requests: https://learn.microsoft.com/graph/json-batching
//   - throttling: 429 with the documented error body, with or without
//     Retry-After, and at most 4 concurrent requests per mailbox
//     (MailboxConcurrency): https://learn.microsoft.com/graph/throttling,
//     https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits
//   - subscriptions: validation of the notification and lifecycle URLs
//     (validationToken echoed as text/plain within 10 s), expiry at most
//     10,080 minutes for messages, renew by PATCH, delete; change
//     notifications with clientState on new mail; lifecycle notifications:
//     https://learn.microsoft.com/graph/change-notifications-delivery-webhooks,
//     https://learn.microsoft.com/graph/change-notifications-lifecycle-events
//
// Every error body has the documented shape
// {"error":{"code","message","innerError":{"request-id","date"}}}.
package graphtest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a Graph and identity platform test server.
type Server struct {
	hs *httptest.Server

	mu         sync.Mutex
	apps       map[string]string // tenant/client → secret
	access     map[string]token
	refresh    map[string]token
	devices    map[string]*device // device code → device
	autoUser   string             // AutoApproveDevices
	signedIn   string             // SetSignedInUser
	codes      map[string]authCode
	rotate     bool
	ttl        time.Duration
	boxes      map[string]*mailbox // lower-case user id or address → mailbox
	throttleN  int
	retryAfter time.Duration
	inflight   map[string]int
	maxFlight  map[string]int
	latency    time.Duration
	epoch      int
	subs       map[string]*Subscription
	requests   []Request
	notes      []NotificationResult
	client     *http.Client
	wg         sync.WaitGroup
}

type token struct {
	tenant, client, user string // user "" for an app token
	expires              time.Time
}

// Request is one request the server received.
type Request struct {
	Method, Path, Query string
	Header              http.Header
}

// Start starts a server over plain http; tb.Cleanup stops it.
func Start(tb testing.TB) *Server { return start(tb, false) }

// start starts a server on 127.0.0.1, over https when secure;
// tb.Cleanup stops it.
func start(tb testing.TB, secure bool) *Server {
	s := newServer()
	s.hs = httptest.NewUnstartedServer(s)
	s.hs.Listener.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s.hs.Listener = ln
	if secure {
		s.hs.StartTLS()
	} else {
		s.hs.Start()
	}
	tb.Cleanup(s.Close)
	return s
}

// StartTLS starts a server over https with a self-signed certificate for
// 127.0.0.1, and writes that certificate to caFile for a client to trust.
func StartTLS(tb testing.TB) (s *Server, caFile string) {
	s = start(tb, true)
	caFile = filepath.Join(tb.TempDir(), "graphtest-ca.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.hs.Certificate().Raw})
	if err := os.WriteFile(caFile, block, 0o600); err != nil {
		tb.Fatal(err)
	}
	// Notifications go to the test's plain http webhooks.
	return s, caFile
}

func newServer() *Server {
	return &Server{
		apps: map[string]string{}, access: map[string]token{}, refresh: map[string]token{},
		devices: map[string]*device{}, codes: map[string]authCode{}, ttl: time.Hour, boxes: map[string]*mailbox{},
		inflight: map[string]int{}, maxFlight: map[string]int{}, subs: map[string]*Subscription{},
		client: &http.Client{Timeout: 10 * time.Second},
	}
}

// Close stops the server after the notifications in flight.
func (s *Server) Close() {
	s.wg.Wait()
	s.hs.Close()
}

// URL is the Graph service root, like https://graph.microsoft.com/v1.0.
func (s *Server) URL() string { return s.hs.URL + "/v1.0" }

// LoginURL is the identity platform root, like https://login.microsoftonline.com.
func (s *Server) LoginURL() string { return s.hs.URL }

// TokenURL is the tenant's token endpoint.
func (s *Server) TokenURL(tenant string) string {
	return s.hs.URL + "/" + tenant + "/oauth2/v2.0/token"
}

// AddApp registers an application that may use client credentials for
// every mailbox of tenant.
func (s *Server) AddApp(tenant, clientID, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apps[tenant+"/"+clientID] = secret
}

// IssueRefreshToken returns a delegated refresh token of user for the app.
func (s *Server) IssueRefreshToken(tenant, clientID, user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := "rt-" + randomID(16)
	s.refresh[rt] = token{tenant: tenant, client: clientID, user: strings.ToLower(user)}
	return rt
}

// SetRotate makes every refresh hand out a new refresh token and retire
// the old one.
func (s *Server) SetRotate(on bool) { s.mu.Lock(); s.rotate = on; s.mu.Unlock() }

// SetTokenTTL sets the lifetime of access tokens issued from now on.
func (s *Server) SetTokenTTL(d time.Duration) { s.mu.Lock(); s.ttl = d; s.mu.Unlock() }

// Throttle answers the next n Graph requests with 429; with retryAfter > 0
// they carry a Retry-After header of that many seconds (rounded up).
func (s *Server) Throttle(n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttleN, s.retryAfter = n, retryAfter
}

// SetLatency makes every Graph request take at least d.
func (s *Server) SetLatency(d time.Duration) { s.mu.Lock(); s.latency = d; s.mu.Unlock() }

// MaxConcurrent is the most requests for user's mailbox that were in
// flight at once (requests beyond 4 were refused with 429).
func (s *Server) MaxConcurrent(user string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxFlight[strings.ToLower(user)]
}

// ExpireDeltaTokens makes every delta link issued so far answer 410 Gone.
func (s *Server) ExpireDeltaTokens() { s.mu.Lock(); s.epoch++; s.mu.Unlock() }

// Requests returns the Graph requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func randomID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// graphError writes the documented error shape.
func graphError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"code": code, "message": msg,
		"innerError": map[string]string{"request-id": w.Header().Get("request-id"), "date": time.Now().UTC().Format("2006-01-02T15:04:05")},
	}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ServeHTTP routes identity platform and Graph requests.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("request-id", randomID(8))
	if cid := r.Header.Get("client-request-id"); cid != "" {
		w.Header().Set("client-request-id", cid)
	}
	p := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(p) == 4 && p[1] == "oauth2" && p[2] == "v2.0" {
		switch p[3] {
		case "token":
			s.token(w, r, p[0])
			return
		case "devicecode":
			s.deviceCode(w, r, p[0])
			return
		case "authorize":
			s.authorizeEndpoint(w, r, p[0])
			return
		}
	}
	if len(p) == 0 || p[0] != "v1.0" {
		graphError(w, http.StatusNotFound, "BadRequest", "Invalid version.")
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone()})
	s.mu.Unlock()
	s.graph(w, r, p[1:])
}

// authorize checks the bearer token; it returns the token.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) (token, bool) {
	h := r.Header.Get("Authorization")
	if !strings.HasPrefix(h, "Bearer ") {
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
		return token{}, false
	}
	s.mu.Lock()
	t, ok := s.access[strings.TrimPrefix(h, "Bearer ")]
	s.mu.Unlock()
	if !ok {
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "IDX14100: JWT is not well formed.")
		return token{}, false
	}
	if time.Now().After(t.expires) {
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
		return token{}, false
	}
	return t, true
}

// admit applies throttling and the per-mailbox concurrency limit; done
// must be called when the request ends.
func (s *Server) admit(w http.ResponseWriter, user string) (done func(), ok bool) {
	s.mu.Lock()
	if s.throttleN > 0 {
		s.throttleN--
		ra := s.retryAfter
		s.mu.Unlock()
		if ra > 0 {
			w.Header().Set("Retry-After", fmt.Sprint(int((ra+time.Second-1)/time.Second)))
		}
		graphError(w, http.StatusTooManyRequests, "TooManyRequests", "Too many requests.")
		return nil, false
	}
	user = strings.ToLower(user)
	if user != "" && s.inflight[user] >= 4 {
		s.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		graphError(w, http.StatusTooManyRequests, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.")
		return nil, false
	}
	s.inflight[user]++
	if s.inflight[user] > s.maxFlight[user] {
		s.maxFlight[user] = s.inflight[user]
	}
	lat := s.latency
	s.mu.Unlock()
	if lat > 0 {
		time.Sleep(lat)
	}
	return func() {
		s.mu.Lock()
		s.inflight[user]--
		s.mu.Unlock()
	}, true
}

// graph serves /v1.0/...
func (s *Server) graph(w http.ResponseWriter, r *http.Request, p []string) {
	t, ok := s.authorize(w, r)
	if !ok {
		return
	}
	user := ""
	if len(p) >= 2 && p[0] == "users" {
		user = p[1]
	}
	done, ok := s.admit(w, user)
	if !ok {
		return
	}
	defer done()
	switch {
	case len(p) == 1 && p[0] == "$batch" && r.Method == http.MethodPost:
		s.batch(w, r, t)
	case len(p) >= 1 && p[0] == "subscriptions":
		s.subscriptions(w, r, t, p[1:])
	case len(p) >= 3 && p[0] == "users":
		s.mail(w, r, t, p[1], p[2:])
	default:
		graphError(w, http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+strings.Join(p, "/")+"'.")
	}
}
