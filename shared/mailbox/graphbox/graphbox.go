// Package graphbox reads a mailbox folder through Microsoft Graph's REST
// API (v1.0), with net/http and encoding/json. It implements
// mailbox.Session:
//
//   - Scan is a delta query on the folder's messages
//     (https://learn.microsoft.com/graph/delta-query-messages): the cursor
//     is the delta link, so a run asks only for what changed; a delta link
//     the service no longer accepts (410 Gone, syncStateNotFound) starts a
//     full resync with Scan.Reset, and the ledger keeps what was already
//     taken from being taken twice.
//   - every request asks for immutable ids (Prefer: IdType="ImmutableId",
//     https://learn.microsoft.com/graph/outlook-immutable-id), so a message
//     keeps its ledger key when it is moved.
//   - Fetch streams the MIME content from $value.
//   - Dispose marks read (PATCH isRead), moves (POST move, the folder
//     created if missing) or deletes (DELETE: to Deleted Items), batched in
//     JSON batches of up to 20 (https://learn.microsoft.com/graph/json-batching).
//
// Throttling is handled in the transport (transport.go): at most 4 requests in
// flight per mailbox, 429/503 retried after Retry-After, and a session that
// is throttled for longer than it may wait fails with an error wrapping
// mailbox.ErrThrottled, which makes the fetch run stop cleanly and resume
// on the next one.
//
// Written by hand rather than on msgraph-sdk-go: the adapter uses about a
// dozen of Graph's calls (a folder, a folder listing with $filter, folder
// creation, the delta query, $value, $batch, subscriptions), and half of
// them the SDK could not make as needed ($value read whole into memory,
// JSON batches of a dozen different requests), while its generated models
// package was one compile of several minutes and about 4.5 GB per
// architecture, most of a cold build, and a large part of every binary
// that opens a mailbox. The JSON shapes read here are the documented
// resources' (rest.go); the conformance suite runs the adapter against
// testkit/graphtest, which follows the same documentation.
package graphbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/mailconn"
	"mailconnector/shared/mailbox/mailtrace"
	"mailconnector/shared/secrets"
)

// Cloud is a Microsoft cloud's Graph and sign-in hosts
// (https://learn.microsoft.com/graph/deployments).
type Cloud struct {
	Graph string // service root host
	Login string // identity platform host
}

// Clouds maps server.cloud to its endpoints.
var Clouds = map[string]Cloud{
	job.CloudGlobal:   {Graph: "graph.microsoft.com", Login: "login.microsoftonline.com"},
	job.CloudUSGov:    {Graph: "graph.microsoft.us", Login: "login.microsoftonline.us"},
	job.CloudUSGovDoD: {Graph: "dod-graph.microsoft.us", Login: "login.microsoftonline.us"},
	job.CloudChina:    {Graph: "microsoftgraph.chinacloudapi.cn", Login: "login.chinacloudapi.cn"},
}

// CloudOf returns the endpoints of a server's cloud (global by default).
func CloudOf(s job.Server) Cloud {
	if c, ok := Clouds[s.Cloud]; ok {
		return c
	}
	return Clouds[job.CloudGlobal]
}

// ServiceRoot is the Graph v1.0 root the server uses: server.endpoint,
// else server.host and port (a proxy; plain http only with security none
// on a loopback address), else the cloud's.
func ServiceRoot(s job.Server) string {
	switch {
	case s.Endpoint != "":
		return strings.TrimRight(s.Endpoint, "/")
	case s.Host != "":
		scheme := "https"
		if s.Security == job.SecurityNone {
			scheme = "http"
		}
		port := s.Port
		if port == 0 {
			port = 443
		}
		return scheme + "://" + net.JoinHostPort(s.Host, strconv.Itoa(port)) + "/v1.0"
	}
	return "https://" + CloudOf(s).Graph + "/v1.0"
}

// Credentials fills in what a Graph job's secret may leave out: the token
// endpoint of the job's cloud and tenant, and the scopes (the app's
// .default for client credentials; Mail.ReadWrite and offline_access for a
// delegated refresh token).
func Credentials(s job.Server, c secrets.Credentials) secrets.Credentials {
	cloud := CloudOf(s)
	if c.TokenURL == "" && c.TenantID != "" {
		c.TokenURL = "https://" + cloud.Login + "/" + url.PathEscape(c.TenantID) + "/oauth2/v2.0/token"
	}
	if len(c.Scopes) == 0 {
		if c.RefreshToken != "" {
			c.Scopes = []string{"https://" + cloud.Graph + "/Mail.ReadWrite", "offline_access"}
		} else {
			c.Scopes = []string{"https://" + cloud.Graph + "/.default"}
		}
	}
	return c
}

// Config opens a session.
type Config struct {
	Server job.Server
	// TokenSource gives access tokens (see connect and mailauth).
	TokenSource oauth2.TokenSource
	// Delegated says the token is a user's (refresh token), for Info.
	Delegated bool
	Logger    *slog.Logger
	// HTTPClient carries the transport (TLS settings); nil builds one from
	// the server's caFile and certificate settings.
	HTTPClient *http.Client
	// Dial opens the connections of the transport built when HTTPClient
	// is nil (mailconn.Dialer: directly or through the job's proxy); nil:
	// directly. The environment's HTTPS_PROXY is never consulted.
	Dial mailconn.DialFunc
	// Trace, when set, records each request and response
	// (mailconn.TraceTransport: no token, no message content).
	Trace *mailtrace.Recorder
	// MaxThrottleWait bounds the time one request may spend waiting out
	// throttling; default the server's timeout × 4.
	MaxThrottleWait time.Duration
}

// Session is an open Graph mailbox folder.
type Session struct {
	cfg    Config
	http   *http.Client
	root   string
	user   string
	folder string // folder id
	info   mailbox.Info
	ids    map[string]string // folder path → id, for moves
	rank   map[string]int    // message id → position in the last Scan
	names  map[string]string // folder path → the server's name for it
}

// newClient builds the client: the job's TLS settings and dialer, the
// trace, and the authenticating, throttled transport.
func newClient(cfg Config) (*http.Client, error) {
	var base http.RoundTripper
	if cfg.HTTPClient != nil && cfg.HTTPClient.Transport != nil {
		base = cfg.HTTPClient.Transport
	} else {
		tlsConf, err := mailconn.TLSConfig(cfg.Server)
		if err != nil {
			return nil, err
		}
		tlsConf.ServerName = hostOf(ServiceRoot(cfg.Server))
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = nil
		if cfg.Dial != nil {
			t.DialContext = cfg.Dial
		}
		t.TLSClientConfig = tlsConf
		t.MaxConnsPerHost = MaxConcurrent
		if to := cfg.Timeout(); to > 0 {
			t.ResponseHeaderTimeout = to
			t.TLSHandshakeTimeout = to
		}
		base = t
	}
	base = mailconn.Trace(base, cfg.Trace)
	wait := cfg.MaxThrottleWait
	if wait == 0 {
		wait = 4 * time.Duration(cfg.Server.Timeout)
		if wait == 0 {
			wait = 2 * time.Minute
		}
	}
	return &http.Client{
		Transport: &transport{base: base, tokens: cfg.TokenSource, slot: slotFor(strings.ToLower(ServiceRoot(cfg.Server) + "|" + cfg.Server.Mailbox)), maxWait: wait, sleep: mailconn.Sleep},
		Timeout:   0, // $value streams; each call has its context
	}, nil
}

func hostOf(root string) string {
	u, err := url.Parse(root)
	if err != nil {
		return root
	}
	return u.Hostname()
}

func hostPort(root string) string {
	u, err := url.Parse(root)
	if err != nil {
		return root
	}
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "http" {
		return net.JoinHostPort(u.Hostname(), "80")
	}
	return net.JoinHostPort(u.Hostname(), "443")
}

// Open signs in and resolves the job's folder.
func Open(ctx context.Context, cfg Config) (*Session, error) {
	if cfg.TokenSource == nil {
		return nil, &mailbox.ConnectError{Step: mailbox.StepAuth, Server: hostPort(ServiceRoot(cfg.Server)), Err: errors.New("graph needs an OAuth2 token (server.auth.method oauth2)")}
	}
	hc, err := newClient(cfg)
	if err != nil {
		return nil, &mailbox.ConnectError{Step: mailbox.StepTLS, Server: hostPort(ServiceRoot(cfg.Server)), Err: err}
	}
	s := &Session{cfg: cfg, http: hc, root: ServiceRoot(cfg.Server), user: cfg.Server.Mailbox, ids: map[string]string{}, names: map[string]string{}}
	auth := "OAuth2 client credentials"
	if cfg.Delegated {
		auth = "OAuth2 delegated"
	}
	security := "tls"
	if strings.HasPrefix(s.root, "http:") {
		security = "none"
	}
	s.info = mailbox.Info{Protocol: "graph", Server: hostPort(s.root), Security: security, Auth: auth, Capabilities: []string{"delta", "immutable-ids", "batch"}, Unseen: -1}
	ctx, cancel := context.WithTimeout(ctx, s.callTimeout())
	defer cancel()
	id, err := s.resolveFolder(ctx, cfg.Server.Folder, false)
	if err != nil {
		return nil, s.connectError(err)
	}
	s.folder = id
	var f mailFolder
	if err := s.call(ctx, http.MethodGet, s.folderPath(id), nil, &f); err != nil {
		return nil, s.connectError(err)
	}
	s.info.Folder = s.folderName(cfg.Server.Folder)
	s.info.Delimiter = "/"
	if f.TotalItemCount != nil {
		s.info.Messages = *f.TotalItemCount
	}
	if f.UnreadItemCount != nil {
		s.info.Unseen = *f.UnreadItemCount
	}
	return s, nil
}

func (c Config) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

// Timeout is the per-call timeout.
func (c Config) Timeout() time.Duration { return time.Duration(c.Server.Timeout) }

// errFolderMissing names a folder that does not exist.
type errFolderMissing struct{ path string }

func (e *errFolderMissing) Error() string {
	return fmt.Sprintf("folder %q does not exist in the mailbox", e.path)
}

// connectError classifies an error of Open by the step that failed.
func (s *Session) connectError(err error) error {
	server := s.info.Server
	var fm *errFolderMissing
	var ae *authError
	var ge *GraphError
	switch {
	case errors.As(err, &fm):
		return &mailbox.ConnectError{Step: mailbox.StepFolder, Server: server, Err: err}
	case errors.As(err, &ae):
		return &mailbox.ConnectError{Step: mailbox.StepAuth, Server: server, Err: err}
	case errors.As(err, &ge):
		switch ge.Status {
		case http.StatusUnauthorized, http.StatusForbidden:
			return &mailbox.ConnectError{Step: mailbox.StepAuth, Server: server, Err: err}
		case http.StatusNotFound:
			return &mailbox.ConnectError{Step: mailbox.StepFolder, Server: server, Err: err}
		}
		return &mailbox.ConnectError{Step: mailbox.StepProtocol, Server: server, Err: err}
	case errors.Is(err, mailbox.ErrThrottled):
		return &mailbox.ConnectError{Step: mailbox.StepProtocol, Server: server, Err: err}
	}
	return classify(server, err)
}

// classify names the network step a transport error failed at.
func classify(server string, err error) error {
	var dns *net.DNSError
	var op *net.OpError
	var tlsErr *tls.CertificateVerificationError
	var rec tls.RecordHeaderError
	switch {
	case errors.As(err, &dns):
		return &mailbox.ConnectError{Step: mailbox.StepDNS, Server: server, Err: err}
	case errors.As(err, &tlsErr), errors.As(err, &rec), strings.Contains(err.Error(), "tls:"), strings.Contains(err.Error(), "x509:"):
		step, e := mailconn.TLSFailure(err)
		return &mailbox.ConnectError{Step: step, Server: server, Err: e}
	case errors.As(err, &op) && op.Op == "dial":
		return &mailbox.ConnectError{Step: mailbox.StepTCP, Server: server, Err: err}
	}
	return &mailbox.ConnectError{Step: mailbox.StepProtocol, Server: server, Err: err}
}

// GraphError is an error answer of Graph.
type GraphError struct {
	Status        int
	Code, Message string
}

func (e *GraphError) Error() string {
	if e.Code == "" && e.Message == "" {
		// Not an OData error body: a proxy's or gateway's answer.
		return fmt.Sprintf("graph answered %d %s", e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("graph answered %d %s: %s", e.Status, e.Code, e.Message)
}

func statusOf(err error) int {
	var ge *GraphError
	if errors.As(err, &ge) {
		return ge.Status
	}
	return 0
}

func codeOf(err error) string {
	var ge *GraphError
	if errors.As(err, &ge) {
		return ge.Code
	}
	return ""
}

// Info describes the session.
func (s *Session) Info() mailbox.Info { return s.info }

// Close ends the session; Graph keeps no session state.
func (s *Session) Close() error {
	s.http.CloseIdleConnections()
	return nil
}
