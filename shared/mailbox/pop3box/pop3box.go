// Package pop3box is the POP3 mailbox adapter: it implements
// mailbox.Session (and mailbox.Previewer) over one POP3 connection to a
// maildrop.
//
// It speaks POP3 (RFC 1939) with CAPA (RFC 2449), STLS (RFC 2595 section
// 4) and AUTH (RFC 5034): USER/PASS, SASL PLAIN, SASL NTLM (SPA) and SASL
// XOAUTH2/OAUTHBEARER with the mechanisms of mailauth. It is written here
// rather than taken from a library because none of the Go POP3 clients
// fits: the maintained ones (knadh/go-pop3 among them) read a whole
// message into memory (RETR into a bytes.Buffer or a parsed entity, which
// breaks the 50 MB streaming invariant), know no SASL (no NTLM, no
// XOAUTH2), and cannot do "STLS if the server offers it". The protocol is
// small: status lines, dot-terminated multi-line answers and a SASL loop.
//
// POP3 has no folders, no flags and no cursor. A message's identity is its
// UIDL (RFC 1939 section 7), so the ledger keeps it from being fetched
// twice. Scan lists the whole maildrop (UIDL and LIST), oldest (lowest
// message number) first; the cursor is the UIDL of the newest message
// taken, and when it is still on the server Scan lists only what follows
// it (servers list the maildrop in arrival order), else everything, and the
// ledger skips what it has. Fetch streams RETR. Dispose can only delete:
// DELE marks a message, and the deletion takes effect only when Close
// sends QUIT (RFC 1939 section 6); a session that ends without QUIT (a
// crash, a dropped connection) deletes nothing.
package pop3box

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/mailauth"
	"mailconnector/shared/mailbox/mailconn"
	"mailconnector/shared/mailbox/mailtrace"
	"mailconnector/shared/secrets"
)

// Folder is the only folder POP3 has: the maildrop, named as IMAP names
// the inbox.
const Folder = "INBOX"

// ErrNoSTARTTLS means the job requires STARTTLS and the server does not
// offer STLS (RFC 2595 section 4).
var ErrNoSTARTTLS = errors.New("pop3box: server does not offer STLS (STARTTLS for POP3)")

// ErrNoUIDL means the server cannot give unique ids (RFC 1939 section 7),
// without which mail could be fetched twice.
var ErrNoUIDL = errors.New("pop3box: server does not support UIDL")

// Config says what to open.
type Config struct {
	// Server is the job's server: host, port, security, auth, timeout.
	// Folder must be empty or INBOX.
	Server job.Server
	// Credentials hold the username and the password, or the OAuth2
	// client fields.
	Credentials secrets.Credentials
	// TokenSource gives the access token for auth method oauth2; nil
	// builds one from Credentials (mailauth.NewTokenSource), without cache
	// or write-back.
	TokenSource oauth2.TokenSource
	// Dialer opens the TCP connection; nil uses a net.Dialer.
	Dialer mailconn.DialFunc
	// Trace, when set, records the session's commands and responses
	// (mailconn.Tap: no password, SASL payload or message data).
	Trace *mailtrace.Recorder
	// Logger receives debug records of each step; nil discards them.
	Logger *slog.Logger
}

type entry struct {
	num  int
	uidl string
	size int64
}

// Session is an open POP3 session.
type Session struct {
	tc      *mailconn.TimeoutConn
	p       *proto
	log     *slog.Logger
	timeout time.Duration

	mu      sync.Mutex
	info    mailbox.Info
	listed  bool
	entries []entry        // message number order
	byUIDL  map[string]int // index into entries
	deleted map[string]bool
	broken  error // the connection is out of step (a dropped RETR)
	closed  bool
	cfg     Config // to connect again after Commit
}

var (
	_ mailbox.Session   = (*Session)(nil)
	_ mailbox.Previewer = (*Session)(nil)
	_ mailbox.Committer = (*Session)(nil)
	_ mailbox.Flagless  = (*Session)(nil)
)

// Open connects, secures the connection, signs in and opens the maildrop.
// Failures are *mailbox.ConnectError naming the step.
func Open(ctx context.Context, cfg Config) (*Session, error) {
	srv := cfg.Server
	ep := mailconn.NewEndpoint(job.POP3, srv, cfg.Logger)
	log, timeout, security, port, addr := ep.Log, ep.Timeout, ep.Security, ep.Port, ep.Addr
	fail := func(step mailbox.Step, err error) error { return ep.Fail("pop3box", step, mailconn.CtxErr(ctx, err)) }
	tlsConf, err := mailconn.TLSConfig(srv)
	if err != nil {
		return nil, fail(mailbox.StepCertificate, err)
	}
	raw, err := mailconn.Dial(ctx, cfg.Dialer, srv.Host, port, timeout)
	if err != nil {
		log.Debug("pop3box: connect failed", "server", addr, "err", err)
		return nil, err
	}
	tc := mailconn.NewTimeoutConn(raw, timeout)
	defer tc.BeginContext(ctx)()

	s := &Session{tc: tc, log: log, timeout: timeout, deleted: map[string]bool{}}
	s.info = mailbox.Info{Protocol: "pop3", Server: addr, Folder: Folder, Unseen: -1}
	closeWith := func(step mailbox.Step, err error) (*Session, error) {
		tc.Close()
		return nil, fail(step, err)
	}

	// The trace taps the plain-text layer: the connection itself, or TLS
	// once it is up.
	tap := mailconn.NewTap(cfg.Trace, job.POP3)
	var nc net.Conn = tc
	if security == job.SecurityTLS {
		c := tls.Client(tc, tlsConf)
		if err := c.HandshakeContext(ctx); err != nil {
			return closeWith(mailconn.TLSFailure(err))
		}
		tap.Note("TLS established (%s)", tls.VersionName(c.ConnectionState().Version))
		nc = c
		s.info.Security = "tls"
	}
	s.p = newProto(tap.Wrap(nc))
	// RFC 1939 section 4: the greeting.
	greeting, err := s.p.readLine()
	if err != nil {
		return closeWith(mailbox.StepProtocol, mailconn.GreetingError("POP3", err, security))
	}
	if err := mailconn.CheckGreeting(job.POP3, greeting); err != nil {
		return closeWith(mailbox.StepProtocol, err)
	}
	if _, err := parseStatus("greeting", greeting); err != nil {
		return closeWith(mailbox.StepProtocol, fmt.Errorf("the server's greeting is not +OK: %w", err))
	}

	caps, capaOK, err := s.capa()
	if err != nil {
		return closeWith(mailbox.StepProtocol, err)
	}
	switch security {
	case job.SecurityTLS:
	case job.SecurityNone:
		s.info.Security = "none"
	case job.SecuritySTARTTLS, job.SecuritySTARTTLSIfAvailable:
		offered := hasCap(caps, "STLS")
		switch {
		case !offered && capaOK && security == job.SecuritySTARTTLS:
			return closeWith(mailbox.StepSTARTTLS, fmt.Errorf("%w, and the job's security is starttls (use starttls-if-available or none to allow plain text, or tls if the server has an implicit TLS port)", ErrNoSTARTTLS))
		case !offered && security == job.SecuritySTARTTLSIfAvailable:
			s.info.Security = "none"
			s.info.Notes = append(s.info.Notes, "the server does not offer STLS (STARTTLS); connected without encryption (security: starttls-if-available)")
			log.Warn("pop3box: STLS not offered; continuing in plain text", "server", addr)
		default:
			// RFC 2595 section 4: STLS, then the TLS handshake at once.
			if _, err := s.p.cmd("STLS", "STLS"); err != nil {
				var pe *Error
				if errors.As(err, &pe) {
					return closeWith(mailbox.StepSTARTTLS, fmt.Errorf("%w: %v", ErrNoSTARTTLS, err))
				}
				return closeWith(mailbox.StepSTARTTLS, fmt.Errorf("connection closed during STLS: %w", err))
			}
			c := tls.Client(tc, tlsConf)
			if err := c.HandshakeContext(ctx); err != nil {
				return closeWith(mailconn.TLSFailure(err))
			}
			tap.Note("TLS established by STLS (%s)", tls.VersionName(c.ConnectionState().Version))
			s.p = newProto(tap.Wrap(c))
			s.info.Security = "starttls"
			// RFC 2595 section 4: forget what was learnt before TLS.
			if caps, capaOK, err = s.capa(); err != nil {
				return closeWith(mailbox.StepProtocol, err)
			}
		}
	default:
		return closeWith(mailbox.StepTLS, fmt.Errorf("pop3box: security %q is not one of none, starttls-if-available, starttls, tls", security))
	}

	if err := s.authenticate(srv, cfg, caps, capaOK, port); err != nil {
		return closeWith(mailbox.StepAuth, err)
	}
	log.Debug("pop3box: signed in", "server", addr, "user", cfg.Credentials.Username)
	// Capabilities may change once signed in (RFC 2449 section 5).
	if after, ok, err := s.capa(); err == nil && ok {
		caps = after
	}
	s.info.Capabilities = caps
	slices.Sort(s.info.Capabilities)

	if f := strings.Trim(srv.Folder, "/."); f != "" && !strings.EqualFold(f, Folder) {
		s.p.cmd("QUIT", "QUIT")
		return closeWith(mailbox.StepFolder, fmt.Errorf("POP3 has one mailbox, the inbox: folder %q does not exist there (leave folder empty, or use IMAP to read other folders)", srv.Folder))
	}
	// RFC 1939 section 5: STAT gives the number of messages.
	st, err := s.p.cmd("STAT", "STAT")
	if err != nil {
		return closeWith(mailbox.StepFolder, fmt.Errorf("open the maildrop: %w", err))
	}
	if f := strings.Fields(st); len(f) > 0 {
		s.info.Messages, _ = strconv.Atoi(f[0])
	}
	s.cfg = cfg
	return s, nil
}

// capa asks for the capabilities (RFC 2449 section 5); ok is false when
// the server does not know CAPA.
func (s *Session) capa() (caps []string, ok bool, err error) {
	err = s.p.lines("CAPA", "CAPA", func(l string) error {
		caps = append(caps, strings.TrimSpace(l))
		return nil
	})
	var pe *Error
	if errors.As(err, &pe) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return caps, true, nil
}

func hasCap(caps []string, name string) bool {
	for _, c := range caps {
		if f := strings.Fields(c); len(f) > 0 && strings.EqualFold(f[0], name) {
			return true
		}
	}
	return false
}

// saslMechs is the SASL capability's mechanism list.
func saslMechs(caps []string) []string {
	for _, c := range caps {
		f := strings.Fields(strings.ToUpper(c))
		if len(f) > 0 && f[0] == "SASL" {
			return f[1:]
		}
	}
	return nil
}

// authenticate signs in with USER/PASS (RFC 1939 section 7) or AUTH (RFC
// 5034) with the job's mechanism. Errors never hold the password or token.
func (s *Session) authenticate(srv job.Server, cfg Config, caps []string, capaOK bool, port int) error {
	mech, err := mailauth.Mechanism(srv.Auth)
	if err != nil {
		return err
	}
	creds := cfg.Credentials
	if creds.Username == "" {
		return errors.New("the secret holds no username")
	}
	if mech == "" {
		if creds.Password == "" {
			return errors.New("the secret holds no password")
		}
		if capaOK && !hasCap(caps, "USER") {
			return fmt.Errorf("the server does not accept USER/PASS on this connection (its capabilities lack USER); use security tls or starttls, or mechanism plain")
		}
		if _, err := s.p.cmd("USER", "USER "+creds.Username); err != nil {
			return fmt.Errorf("USER %q refused: %w", creds.Username, err)
		}
		if _, err := s.p.cmd("PASS", "PASS "+creds.Password); err != nil {
			return fmt.Errorf("USER/PASS as %q refused: %w", creds.Username, err)
		}
		s.info.Auth = "USER/PASS"
		return nil
	}
	if capaOK {
		offered := saslMechs(caps)
		if !slices.Contains(offered, mech) {
			return fmt.Errorf("the server does not offer SASL %s on this connection (it offers: %s)", mech, strings.Join(offered, " "))
		}
	}
	c, notes, err := mailauth.ClientFor(mech, srv, port, creds, cfg.TokenSource)
	// A rotated refresh token written back (or not) belongs in the run
	// record.
	s.info.Notes = append(s.info.Notes, notes...)
	if err != nil {
		return err
	}
	if err := s.p.authenticate(c); err != nil {
		var se *saslError
		if errors.As(err, &se) {
			return fmt.Errorf("AUTH %s as %q refused: %w", mech, creds.Username, err)
		}
		return fmt.Errorf("as %q: %w", creds.Username, err)
	}
	s.info.Auth = "SASL " + mech
	return nil
}

// Info describes the server and the maildrop.
func (s *Session) Info() mailbox.Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info.Clone()
}

// begin starts an operation under the job's timeout; ctx ending closes
// the connection (the session is unusable afterwards).
func (s *Session) begin(ctx context.Context) (end func()) {
	return s.tc.BeginContext(ctx)
}

// usable reports why the session cannot be used, or nil; s.mu is held.
func (s *Session) usable() error {
	if s.closed {
		return errors.New("pop3box: session closed")
	}
	if s.broken != nil {
		return fmt.Errorf("pop3box: the connection broke earlier: %w", s.broken)
	}
	return nil
}

// list reads UIDL and LIST once per session (message numbers are stable
// within a session, RFC 1939 section 5); s.mu is held.
func (s *Session) list(ctx context.Context) error {
	if s.listed {
		return nil
	}
	sizes := map[int]int64{}
	var entries []entry
	err := s.p.lines("UIDL", "UIDL", func(l string) error {
		f := strings.Fields(l)
		if len(f) < 2 {
			return fmt.Errorf("UIDL: %w: %.100q", errProtocol, l)
		}
		n, err := strconv.Atoi(f[0])
		if err != nil || n < 1 {
			return fmt.Errorf("UIDL: %w: %.100q", errProtocol, l)
		}
		entries = append(entries, entry{num: n, uidl: f[1]})
		return nil
	})
	var pe *Error
	if errors.As(err, &pe) {
		return fmt.Errorf("%w (RFC 1939 section 7), which the connector needs to fetch each message once: %v", ErrNoUIDL, err)
	}
	if err != nil {
		return s.brokenErr(ctx, fmt.Errorf("pop3box: list unique ids: %w", err))
	}
	err = s.p.lines("LIST", "LIST", func(l string) error {
		f := strings.Fields(l)
		if len(f) < 2 {
			return fmt.Errorf("LIST: %w: %.100q", errProtocol, l)
		}
		n, err1 := strconv.Atoi(f[0])
		size, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("LIST: %w: %.100q", errProtocol, l)
		}
		sizes[n] = size
		return nil
	})
	if err != nil {
		return s.brokenErr(ctx, fmt.Errorf("pop3box: list sizes: %w", err))
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].num < entries[j].num })
	s.byUIDL = make(map[string]int, len(entries))
	s.entries = s.entries[:0]
	for _, e := range entries {
		if _, dup := s.byUIDL[e.uidl]; dup {
			// RFC 1939 section 7 forbids it; take the first only.
			s.log.Warn("pop3box: duplicate UIDL; using the first message", "uidl", e.uidl)
			continue
		}
		e.size = sizes[e.num]
		s.byUIDL[e.uidl] = len(s.entries)
		s.entries = append(s.entries, e)
	}
	s.listed = true
	return nil
}

// brokenErr marks the session unusable after an I/O failure.
func (s *Session) brokenErr(ctx context.Context, err error) error {
	var pe *Error
	if !errors.As(err, &pe) {
		s.broken = err
	}
	return mailconn.CtxErr(ctx, err)
}

// cursorPrefix starts every cursor; the rest is a UIDL ("" before any).
const cursorPrefix = "uidl:"

// Scan lists the maildrop oldest first: after the cursor's message when
// it is still there, else all of it (see the package comment).
func (s *Session) Scan(ctx context.Context, cursor string) (*mailbox.Scan, error) {
	defer s.begin(ctx)()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return nil, err
	}
	after := ""
	if cursor != "" {
		if !strings.HasPrefix(cursor, cursorPrefix) {
			return nil, fmt.Errorf("pop3box: cursor %q is not %sUIDL", cursor, cursorPrefix)
		}
		after = cursor[len(cursorPrefix):]
	}
	if err := s.list(ctx); err != nil {
		return nil, err
	}
	start := 0
	found := false
	if after != "" {
		if i, ok := s.byUIDL[after]; ok {
			start, found = i+1, true
		}
	}
	res := &mailbox.Scan{}
	for _, e := range s.entries[start:] {
		if s.deleted[e.uidl] {
			continue
		}
		res.Items = append(res.Items, mailbox.Item{
			Source: ledger.Source{Protocol: "pop3", Folder: Folder, ID: e.uidl},
			Size:   e.size,
			Cursor: cursorPrefix + e.uidl,
		})
	}
	switch {
	case len(res.Items) > 0:
		res.Cursor = res.Items[len(res.Items)-1].Cursor
	case found:
		res.Cursor = cursor
	default:
		res.Cursor = cursorPrefix
	}
	s.log.Debug("pop3box: scanned", "after", after, "found", found, "items", len(res.Items))
	return res, nil
}

// current reports whether src is a message of this maildrop's listing,
// and its index.
func (s *Session) lookup(src ledger.Source) (int, bool) {
	if src.Protocol != "pop3" || src.Folder != Folder || src.ID == "" {
		return 0, false
	}
	i, ok := s.byUIDL[src.ID]
	return i, ok
}

// Fetch streams each item's RETR (RFC 1939 section 7) to fn, in message
// number order. An item this session does not list (deleted meanwhile,
// or from another protocol or folder) and one the server refuses to
// retrieve are passed with a nil body: it stays out of the ledger and a
// later run retries it if it is still there.
func (s *Session) Fetch(ctx context.Context, items []mailbox.Item, fn func(mailbox.Item, io.Reader) error) error {
	if len(items) == 0 {
		return nil
	}
	defer s.begin(ctx)()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	if err := s.list(ctx); err != nil {
		return err
	}
	type job struct {
		it  mailbox.Item
		idx int // -1: not listed
	}
	jobs := make([]job, len(items))
	for i, it := range items {
		jobs[i] = job{it: it, idx: -1}
		if idx, ok := s.lookup(it.Source); ok && !s.deleted[it.Source.ID] {
			jobs[i].idx = idx
		}
	}
	sort.SliceStable(jobs, func(i, j int) bool {
		a, b := jobs[i].idx, jobs[j].idx
		if a < 0 || b < 0 {
			return a >= 0 && b < 0
		}
		return a < b
	})
	for _, j := range jobs {
		if j.idx < 0 {
			if err := fn(j.it, nil); err != nil {
				return err
			}
			continue
		}
		e := s.entries[j.idx]
		if _, err := s.p.cmd("RETR", "RETR "+strconv.Itoa(e.num)); err != nil {
			var pe *Error
			if errors.As(err, &pe) {
				s.log.Info("pop3box: the server refused to retrieve a message", "uidl", e.uidl, "err", err)
				if err := fn(j.it, nil); err != nil {
					return err
				}
				continue
			}
			return s.brokenErr(ctx, fmt.Errorf("pop3box: retrieve %s: %w", j.it.Source, err))
		}
		dr := newDotReader(s.p.br)
		ferr := fn(j.it, dr)
		if derr := dr.drain(); derr != nil {
			return s.brokenErr(ctx, fmt.Errorf("pop3box: retrieve %s: %w", j.it.Source, derr))
		}
		if ferr != nil {
			return mailconn.CtxErr(ctx, fmt.Errorf("pop3box: fetch %s: %w", j.it.Source, ferr))
		}
	}
	return nil
}

// Preview streams the header and the first lines of item's body with TOP
// (RFC 1939 section 7); it does not count as retrieving the message.
func (s *Session) Preview(ctx context.Context, item mailbox.Item, lines int, fn func(io.Reader) error) error {
	defer s.begin(ctx)()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	if err := s.list(ctx); err != nil {
		return err
	}
	idx, ok := s.lookup(item.Source)
	if !ok || s.deleted[item.Source.ID] {
		return fmt.Errorf("pop3box: preview %s: %w", item.Source, mailbox.ErrGone)
	}
	if lines < 0 {
		lines = 0
	}
	if _, err := s.p.cmd("TOP", "TOP "+strconv.Itoa(s.entries[idx].num)+" "+strconv.Itoa(lines)); err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			return fmt.Errorf("pop3box: preview %s (TOP is optional in POP3): %w", item.Source, err)
		}
		return s.brokenErr(ctx, fmt.Errorf("pop3box: preview %s: %w", item.Source, err))
	}
	dr := newDotReader(s.p.br)
	ferr := fn(dr)
	if derr := dr.drain(); derr != nil {
		return s.brokenErr(ctx, fmt.Errorf("pop3box: preview %s: %w", item.Source, derr))
	}
	return ferr
}

// KeepsNoFlags says that a POP3 maildrop keeps no flags and has no
// folders (RFC 1939): a message is kept or deleted.
func (s *Session) KeepsNoFlags() {}

// Dispose marks messages deleted with DELE (RFC 1939 section 6); the
// server removes them when Close sends QUIT. POP3 cannot mark read or
// move: those dispositions fail with mailbox.ErrNotPossible.
func (s *Session) Dispose(ctx context.Context, ds []mailbox.Disposition) []error {
	errs := make([]error, len(ds))
	if len(ds) == 0 {
		return errs
	}
	defer s.begin(ctx)()
	s.mu.Lock()
	defer s.mu.Unlock()
	fatal := s.usable()
	if fatal == nil {
		fatal = s.list(ctx)
	}
	for i, d := range ds {
		if fatal != nil {
			errs[i] = fatal
			continue
		}
		switch d.Action {
		case mailbox.Delete:
		case mailbox.MarkRead:
			errs[i] = fmt.Errorf("pop3box: mark %s read: %w: POP3 has no flags (the connector deletes processed mail, or keeps it with incoming.keepOnServer)", d.Source, mailbox.ErrNotPossible)
			continue
		case mailbox.Move:
			errs[i] = fmt.Errorf("pop3box: move %s to %q: %w: POP3 has no folders", d.Source, d.Folder, mailbox.ErrNotPossible)
			continue
		default:
			errs[i] = fmt.Errorf("pop3box: %s %s: %w", d.Action, d.Source, mailbox.ErrNotPossible)
			continue
		}
		if d.Source.Protocol != "pop3" || d.Source.Folder != Folder {
			errs[i] = fmt.Errorf("pop3box: delete %s: %w", d.Source, mailbox.ErrStaleSource)
			continue
		}
		idx, ok := s.lookup(d.Source)
		if !ok {
			errs[i] = fmt.Errorf("pop3box: delete %s: %w", d.Source, mailbox.ErrGone)
			continue
		}
		if s.deleted[d.Source.ID] {
			continue // already marked in this session
		}
		if _, err := s.p.cmd("DELE", "DELE "+strconv.Itoa(s.entries[idx].num)); err != nil {
			var pe *Error
			if errors.As(err, &pe) {
				errs[i] = fmt.Errorf("pop3box: delete %s: %w", d.Source, err)
				continue
			}
			fatal = s.brokenErr(ctx, fmt.Errorf("pop3box: delete %s: %w", d.Source, err))
			errs[i] = fatal
			continue
		}
		s.deleted[d.Source.ID] = true
	}
	return errs
}

// Close sends QUIT, which commits the deletions (RFC 1939 section 6), and
// closes the connection. It fails when the server did not confirm: then
// nothing marked in this session was deleted.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	defer s.tc.Close()
	if s.broken != nil {
		if len(s.deleted) > 0 {
			return fmt.Errorf("pop3box: quit: the connection broke earlier, so the %d deletions of this session were not committed: %w", len(s.deleted), s.broken)
		}
		return nil
	}
	end := s.tc.Begin()
	defer end()
	if _, err := s.p.cmd("QUIT", "QUIT"); err != nil {
		if len(s.deleted) > 0 {
			return fmt.Errorf("pop3box: quit (the %d deletions of this session may not be committed): %w", len(s.deleted), err)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
			return nil
		}
		return fmt.Errorf("pop3box: quit: %w", err)
	}
	return nil
}

// Commit ends the session with QUIT, which deletes what DELE marked, and
// signs in again so the run can go on (with fresh message numbers: the
// next Scan lists the maildrop anew). An error from QUIT means the server
// did not confirm, and the deletions must be taken as not done (a server
// that never saw QUIT deletes nothing). When QUIT succeeded but signing in
// again fails, the deletions are done and the session reports the failure
// on its next use.
func (s *Session) Commit(ctx context.Context) error {
	s.mu.Lock()
	n := len(s.deleted)
	s.mu.Unlock()
	if n == 0 {
		return nil
	}
	if err := s.Close(); err != nil {
		return err
	}
	ns, err := Open(ctx, s.cfg)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.broken = fmt.Errorf("pop3box: connect again after committing %d deletions: %w", n, err)
		return nil
	}
	s.tc, s.p = ns.tc, ns.p
	s.listed, s.entries, s.byUIDL, s.deleted = false, nil, nil, map[string]bool{}
	s.broken, s.closed = nil, false
	return nil
}

// Abort closes the connection without QUIT: like a crash, it deletes
// nothing (RFC 1939 section 6). For tests and for giving up on a session.
func (s *Session) Abort() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.tc.Close()
}
