// Package ewsbox implements mailbox.Session over Exchange Web Services
// (EWS), the SOAP interface of Exchange Server 2013 to Subscription
// Edition. It is written with the standard library's net/http and
// encoding/xml because no maintained Go EWS client exists; it uses only
// the operations it needs:
//
//   - GetFolder and FindFolder to resolve the job's folder path from the
//     distinguished inbox or the root, CreateFolder for missing move
//     targets;
//   - SyncFolderItems for Scan: its sync state is the cursor, an invalid
//     one (ErrorInvalidSyncStateData) rescans from scratch with Reset set
//     and the ledger keeps messages from being processed twice;
//   - GetItem with MimeContent for Fetch, base64 decoded while it streams;
//   - UpdateItem (IsRead), MoveItem and DeleteItem (MoveToDeletedItems)
//     for Dispose (DeleteItem HardDelete when the job purges).
//
// A request answered ErrorServerBusy is retried after the server's
// BackOffMilliseconds while the session's MaxWait allows, and then fails
// with mailbox.ErrThrottled. The server's version comes from the
// ServerVersionInfo header. Authentication is Basic, NTLM (go-ntlmssp's
// Negotiator) or an OAuth2 bearer token; a Mailbox distinct from the
// sign-in account is reached through ExchangeImpersonation or, as a
// delegate, by naming it in the distinguished folder ids.
package ewsbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	ntlmssp "github.com/Azure/go-ntlmssp"
	"golang.org/x/oauth2"

	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/mailconn"
	"mailconnector/shared/mailbox/mailtrace"
)

// AuthMethod is how the session signs in.
type AuthMethod string

// The authentication methods.
const (
	AuthBasic  AuthMethod = "basic"
	AuthNTLM   AuthMethod = "ntlm"
	AuthBearer AuthMethod = "bearer"
)

// DefaultVersion is the RequestServerVersion sent unless the job forces
// another: every operation used here exists since Exchange 2013.
const DefaultVersion = "Exchange2013_SP1"

// Config is what a session needs.
type Config struct {
	// Server gives the host, port, security, certificate checks, folder
	// and timeout, as for every protocol.
	Server job.Server
	// Endpoint is the EWS URL; "" means
	// http(s)://host:port/EWS/Exchange.asmx from Server.
	Endpoint string
	Auth     AuthMethod
	// Username ("DOMAIN\user" or "user@domain") and Password, for basic
	// and NTLM.
	Username, Password string
	// TokenSource gives the bearer token.
	TokenSource oauth2.TokenSource
	// Mailbox is the SMTP address to read when it is not the sign-in
	// account's: it is reached through ExchangeImpersonation, or with
	// Delegate as a delegate (full access) naming it in the folder ids.
	Mailbox  string
	Delegate bool
	// Version is the RequestServerVersion; default DefaultVersion.
	Version string
	// MaxWait bounds the time spent waiting for ErrorServerBusy;
	// default 2 minutes.
	MaxWait time.Duration
	// HardDelete makes Dispose delete remove messages for good
	// (DeleteItem HardDelete) instead of moving them to Deleted Items.
	HardDelete bool
	// PageSize is SyncFolderItems' MaxChangesReturned; default 512.
	PageSize int
	// HTTPClient replaces the client built from Server (for a proxy or
	// a trace); its transport must do the TLS and dialling itself.
	HTTPClient *http.Client
	// Dial opens the connections of the client built from Server, and of
	// Autodiscover (mailconn.Dialer: directly or through the job's
	// proxy); nil: directly.
	Dial mailconn.DialFunc
	// Trace, when set, records each request and response
	// (mailconn.TraceTransport: no credential, no MimeContent).
	Trace *mailtrace.Recorder
	// Autodiscover, when Endpoint is "", is the address whose EWS URL
	// Open finds with Discover; Info's notes list every URL tried.
	Autodiscover string
	// Resolver looks up the Autodiscover SRV record and the host names
	// dialled; nil is net.DefaultResolver.
	Resolver *net.Resolver
	// Sleep waits between ErrorServerBusy retries; default a timer.
	Sleep func(context.Context, time.Duration) error
}

// Session is an open EWS mailbox folder.
type Session struct {
	c        *client
	info     mailbox.Info
	folderID string
	pageSize int
	// deleteType is DeleteItem's DeleteType for Dispose delete.
	deleteType string
	folders    map[string]folderRef // by lower-case path as the job wrote it
	// rank orders the items Scan listed (oldest first), for Fetch.
	rank map[string]int
}

var (
	_ mailbox.Folders = (*Session)(nil)
)

// HasFolders marks EWS as a protocol with folders.
func (*Session) HasFolders() {}

func (cfg *Config) timeout() time.Duration {
	if cfg.Server.Timeout > 0 {
		return time.Duration(cfg.Server.Timeout)
	}
	return 30 * time.Second
}

// endpoint is the EWS URL.
func (cfg *Config) endpoint() string {
	if cfg.Endpoint != "" {
		return cfg.Endpoint
	}
	scheme := "https"
	if cfg.Server.Security == job.SecurityNone {
		scheme = "http"
	}
	host := cfg.Server.Host
	if cfg.Server.Port != 0 {
		host = net.JoinHostPort(host, strconv.Itoa(cfg.Server.Port))
	}
	return scheme + "://" + host + "/EWS/Exchange.asmx"
}

// deadlineConn applies the timeout to every read and write.
type deadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c *deadlineConn) Read(b []byte) (int, error) {
	_ = c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
	return c.Conn.Read(b)
}

func (c *deadlineConn) Write(b []byte) (int, error) {
	_ = c.Conn.SetWriteDeadline(time.Now().Add(c.timeout))
	return c.Conn.Write(b)
}

// newClient builds the HTTP client and the authentication of cfg.
func newClient(cfg Config) (*client, error) {
	c := &client{url: cfg.endpoint(), version: cfg.Version, maxWait: cfg.MaxWait, sleep: cfg.Sleep, http: cfg.HTTPClient}
	if c.version == "" {
		c.version = DefaultVersion
	}
	if c.maxWait == 0 {
		c.maxWait = 2 * time.Minute
	}
	if c.sleep == nil {
		c.sleep = mailconn.Sleep
	}
	if cfg.Mailbox != "" && !strings.EqualFold(cfg.Mailbox, cfg.Username) {
		if cfg.Delegate {
			c.delegate = cfg.Mailbox
		} else {
			c.impersonate = cfg.Mailbox
		}
	}
	if c.http == nil {
		timeout := cfg.timeout()
		tlsConf, err := mailconn.TLSConfig(cfg.Server)
		if err != nil {
			return nil, &mailbox.ConnectError{Step: mailbox.StepTLS, Server: hostOf(c.url), Err: err}
		}
		if u, err := url.Parse(c.url); err == nil {
			tlsConf.ServerName = u.Hostname()
		}
		var rt http.RoundTripper = &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				host, port, err := net.SplitHostPort(addr)
				if err != nil {
					return nil, err
				}
				p, _ := strconv.Atoi(port)
				conn, err := cfg.dial(ctx, host, p, timeout)
				if err != nil {
					return nil, err
				}
				return &deadlineConn{Conn: conn, timeout: timeout}, nil
			},
			TLSClientConfig:       tlsConf,
			TLSHandshakeTimeout:   timeout,
			ResponseHeaderTimeout: timeout,
			MaxIdleConnsPerHost:   2,
		}
		rt = mailconn.Trace(rt, cfg.Trace)
		if cfg.Auth == AuthNTLM {
			rt = ntlmssp.Negotiator{RoundTripper: rt}
		}
		c.http = &http.Client{Transport: rt, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	switch cfg.Auth {
	case AuthBasic, AuthNTLM:
		user, pass := cfg.Username, cfg.Password
		c.auth = func(r *http.Request) error { r.SetBasicAuth(user, pass); return nil }
	case AuthBearer:
		if cfg.TokenSource == nil {
			return nil, errors.New("ews: bearer authentication needs a token source")
		}
		ts := cfg.TokenSource
		c.auth = func(r *http.Request) error {
			tok, err := ts.Token()
			if err != nil {
				return &mailbox.ConnectError{Step: mailbox.StepAuth, Server: hostOf(c.url), Err: fmt.Errorf("get an access token: %w", err)}
			}
			r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			return nil
		}
	default:
		return nil, fmt.Errorf("ews: unknown authentication %q (basic, ntlm or bearer)", cfg.Auth)
	}
	return c, nil
}

func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	if p.Port() == "" {
		if p.Scheme == "http" {
			return net.JoinHostPort(p.Hostname(), "80")
		}
		return net.JoinHostPort(p.Hostname(), "443")
	}
	return p.Host
}

// connectError names the step at which a request made while opening
// failed.
func (c *client) connectError(err error, step mailbox.Step) error {
	var ce *mailbox.ConnectError
	if errors.As(err, &ce) {
		return ce
	}
	server := hostOf(c.url)
	var he *HTTPError
	switch {
	case errors.As(err, &he) && (he.Status == http.StatusUnauthorized || he.Status == http.StatusForbidden):
		return &mailbox.ConnectError{Step: mailbox.StepAuth, Server: server, Err: err}
	case isCode(err, "ErrorImpersonateUserDenied", "ErrorNonExistentMailbox", "ErrorAccessDenied", "ErrorInvalidUserSid"):
		return &mailbox.ConnectError{Step: mailbox.StepAuth, Server: server, Err: err}
	case errors.As(err, &he):
		return &mailbox.ConnectError{Step: mailbox.StepProtocol, Server: server, Err: err}
	case step == mailbox.StepFolder && isCode(err, "ErrorFolderNotFound"):
		return &mailbox.ConnectError{Step: mailbox.StepFolder, Server: server, Err: err}
	}
	var re *ResponseError
	if errors.As(err, &re) || errors.Is(err, mailbox.ErrThrottled) {
		return &mailbox.ConnectError{Step: step, Server: server, Err: err}
	}
	if strings.HasPrefix(c.url, "https:") {
		st, werr := mailconn.TLSFailure(err)
		return &mailbox.ConnectError{Step: st, Server: server, Err: werr}
	}
	return &mailbox.ConnectError{Step: mailbox.StepProtocol, Server: server, Err: err}
}

// Open signs in and opens the job's folder, first finding the EWS URL
// with Autodiscover when cfg says so.
func Open(ctx context.Context, cfg Config) (*Session, error) {
	var notes []string
	if cfg.Endpoint == "" && cfg.Autodiscover != "" {
		ews, attempts, err := Discover(ctx, cfg, cfg.Autodiscover)
		if err != nil {
			return nil, &mailbox.ConnectError{Step: StepAutodiscover, Server: cfg.Autodiscover, Err: err}
		}
		for _, a := range attempts {
			notes = append(notes, "autodiscover "+a.String())
		}
		cfg.Endpoint = ews
	}
	c, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	s := &Session{c: c, pageSize: cfg.PageSize, deleteType: "MoveToDeletedItems", folders: map[string]folderRef{}, rank: map[string]int{}}
	if cfg.HardDelete {
		s.deleteType = "HardDelete"
	}
	if s.pageSize <= 0 {
		s.pageSize = 512
	}
	path := cfg.Server.Folder
	id, name, err := s.resolve(ctx, path, false)
	if err != nil {
		c.http.CloseIdleConnections()
		return nil, c.connectError(err, mailbox.StepFolder)
	}
	m, err := c.callOne(ctx, "GetFolder", fmt.Sprintf(`<m:GetFolder><m:FolderShape><t:BaseShape>AllProperties</t:BaseShape></m:FolderShape><m:FolderIds><t:FolderId Id="%s"/></m:FolderIds></m:GetFolder>`, esc(id)))
	if err != nil {
		c.http.CloseIdleConnections()
		return nil, c.connectError(err, mailbox.StepFolder)
	}
	total, _ := strconv.Atoi(m.text("TotalCount"))
	unread, _ := strconv.Atoi(m.text("UnreadCount"))
	security := "tls"
	if strings.HasPrefix(c.url, "http:") {
		security = "none"
	}
	auth := map[AuthMethod]string{AuthBasic: "Basic", AuthNTLM: "NTLM", AuthBearer: "Bearer"}[cfg.Auth]
	if c.impersonate != "" {
		auth += " (impersonating " + c.impersonate + ")"
	}
	if c.delegate != "" {
		auth += " (delegate of " + c.delegate + ")"
	}
	s.folderID = id
	s.info = mailbox.Info{Protocol: "ews", Server: hostOf(c.url), Security: security, Auth: auth,
		Capabilities: []string{"RequestServerVersion " + c.version}, Folder: name, Delimiter: "/", Messages: total, Unseen: unread}
	if c.serverVersion != "" {
		s.info.Capabilities = append(s.info.Capabilities, "ServerVersionInfo "+c.serverVersion)
	}
	s.info.Notes = notes
	if u, err := url.Parse(c.url); err == nil && job.EWSOnline(u.Hostname()) {
		s.info.Notes = append(s.info.Notes, "warning: "+job.EWSOnlineEnd)
	}
	return s, nil
}

// Info describes the server and the folder.
func (s *Session) Info() mailbox.Info { return s.info }

// ServerVersion is the server's ServerVersionInfo ("15.2.1544.4
// V2017_07_11"); empty if it sent none.
func (s *Session) ServerVersion() string { return s.c.serverVersion }

// Close ends the session.
func (s *Session) Close() error {
	s.c.http.CloseIdleConnections()
	return nil
}

// Scan lists the messages created in the folder after the cursor (a
// SyncFolderItems sync state), oldest first. Each page's last item
// carries the page's sync state; the others the state the page started
// from.
func (s *Session) Scan(ctx context.Context, cursor string) (*mailbox.Scan, error) {
	sc := &mailbox.Scan{Cursor: cursor}
	for {
		body := fmt.Sprintf(`<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:Size"/><t:FieldURI FieldURI="item:DateTimeReceived"/></t:AdditionalProperties></m:ItemShape><m:SyncFolderId><t:FolderId Id="%s"/></m:SyncFolderId>`, esc(s.folderID))
		if sc.Cursor != "" {
			body += "<m:SyncState>" + esc(sc.Cursor) + "</m:SyncState>"
		}
		body += fmt.Sprintf("<m:MaxChangesReturned>%d</m:MaxChangesReturned></m:SyncFolderItems>", s.pageSize)
		m, err := s.c.callOne(ctx, "SyncFolderItems", body)
		if isCode(err, "ErrorInvalidSyncStateData") && sc.Cursor != "" && !sc.Reset {
			sc = &mailbox.Scan{Reset: true}
			continue
		}
		if err != nil {
			return nil, err
		}
		start := sc.Cursor
		state := m.text("SyncState")
		var page []mailbox.Item
		for _, cr := range m.find("Changes").findAll("Create") {
			id := cr.find("ItemId").attr("Id")
			if id == "" {
				continue
			}
			size, _ := strconv.ParseInt(cr.text("Size"), 10, 64)
			s.rank[id] = len(s.rank) + 1
			page = append(page, mailbox.Item{Source: ledger.Source{Protocol: "ews", Folder: s.info.Folder, ID: id}, Size: size, Cursor: start})
		}
		if len(page) > 0 {
			page[len(page)-1].Cursor = state
		}
		sc.Items = append(sc.Items, page...)
		sc.Cursor = state
		if !strings.EqualFold(m.text("IncludesLastItemInRange"), "false") || len(page) == 0 {
			return sc, nil
		}
	}
}

// Dispose applies each disposition with one request.
func (s *Session) Dispose(ctx context.Context, ds []mailbox.Disposition) []error {
	errs := make([]error, len(ds))
	for i, d := range ds {
		errs[i] = s.dispose(ctx, d)
	}
	return errs
}

func (s *Session) dispose(ctx context.Context, d mailbox.Disposition) error {
	if d.Source.Protocol != "ews" || d.Source.Folder != s.info.Folder {
		return fmt.Errorf("ews: %s %s: %w", d.Action, d.Source, mailbox.ErrStaleSource)
	}
	id := `<t:ItemId Id="` + esc(d.Source.ID) + `"/>`
	var op, body string
	switch d.Action {
	case mailbox.MarkRead:
		op = "UpdateItem"
		body = `<m:UpdateItem MessageDisposition="SaveOnly" ConflictResolution="AlwaysOverwrite"><m:ItemChanges><t:ItemChange>` + id +
			`<t:Updates><t:SetItemField><t:FieldURI FieldURI="message:IsRead"/><t:Message><t:IsRead>true</t:IsRead></t:Message></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`
	case mailbox.Delete:
		op = "DeleteItem"
		body = `<m:DeleteItem DeleteType="` + s.deleteType + `"><m:ItemIds>` + id + `</m:ItemIds></m:DeleteItem>`
	case mailbox.Move:
		to, _, err := s.resolve(ctx, d.Folder, true)
		if err != nil {
			return fmt.Errorf("ews: move to %s: %w", d.Folder, err)
		}
		op = "MoveItem"
		body = `<m:MoveItem><m:ToFolderId><t:FolderId Id="` + esc(to) + `"/></m:ToFolderId><m:ItemIds>` + id + `</m:ItemIds></m:MoveItem>`
	default:
		return fmt.Errorf("ews: %s: %w", d.Action, mailbox.ErrNotPossible)
	}
	_, err := s.c.callOne(ctx, op, body)
	if isCode(err, "ErrorItemNotFound", "ErrorInvalidIdMalformed", "ErrorInvalidIdNotAnItemAttachmentId") {
		return fmt.Errorf("ews: %s %s: %w", d.Action, d.Source, mailbox.ErrGone)
	}
	return err
}
