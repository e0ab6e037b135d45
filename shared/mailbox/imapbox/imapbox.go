// Package imapbox is the IMAP4 mailbox adapter: it implements
// mailbox.Session and mailbox.Purger over one IMAP connection to one folder.
//
// It is built on go-imap v2's imapclient because that client streams FETCH
// literals to the caller as they arrive (a 50 MB message never sits whole
// in memory), pipelines commands, speaks both IMAP4rev1 (RFC 3501) and
// IMAP4rev2 (RFC 9051), and knows the extensions the connector relies on:
// MOVE (RFC 6851), UIDPLUS (RFC 4315) for UID EXPUNGE, ESEARCH and SASL-IR.
//
// A message's identity is its folder, the folder's UIDVALIDITY and its UID
// (RFC 3501 section 2.3.1.1); the cursor is "UIDVALIDITY:LASTUID". When the
// server renumbers the folder (a new UIDVALIDITY), Scan lists every message
// again with Reset set, and Dispose refuses the stale identities with
// mailbox.ErrStaleSource. Fetch uses BODY.PEEK[] so it never sets \Seen
// (RFC 3501 section 6.4.5).
package imapbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"golang.org/x/oauth2"

	"mailconnector/shared/iocount"
	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/mailconn"
	"mailconnector/shared/mailbox/mailtrace"
	"mailconnector/shared/secrets"
)

// DialFunc opens a network connection, like (*net.Dialer).DialContext.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// Config says what to open.
type Config struct {
	// Server is the job's server: host, port, security, folder, auth and
	// timeout.
	Server job.Server
	// Credentials hold the username and password, or the OAuth2 client
	// fields.
	Credentials secrets.Credentials
	// TokenSource gives the access token for auth method oauth2; nil
	// builds one from Credentials (mailauth.NewTokenSource), without cache
	// or write-back.
	TokenSource oauth2.TokenSource
	// Dialer opens the TCP connection; nil uses a net.Dialer with the
	// server's timeout. Pass (&net.Dialer{...}).DialContext to customise it.
	Dialer DialFunc
	// Trace, when set, records the session's commands and responses
	// (mailconn.Tap: no password, SASL payload or message data).
	Trace *mailtrace.Recorder
	// Logger receives debug records of each step; nil discards them.
	// Secrets are never logged.
	Logger *slog.Logger
}

// scanChunk is the number of UIDs whose size one UID FETCH asks for.
const scanChunk = 5000

// Session is an open IMAP session on one folder.
type Session struct {
	c       *imapclient.Client
	conn    *timeoutConn
	log     *slog.Logger
	timeout time.Duration
	info    mailbox.Info
	delim   rune
	folder  string // the server's name of the selected folder
	port    int

	mu       sync.Mutex
	validity uint32
	flagged  imap.UIDSet     // UIDs this session flagged \Deleted
	created  map[string]bool // folders known to exist
	closed   bool
}

var (
	_ mailbox.Session = (*Session)(nil)
	_ mailbox.Purger  = (*Session)(nil)
)

// Info describes the server and the open folder.
func (s *Session) Info() mailbox.Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := s.info.Clone()
	info.Validity = s.validity
	return info
}

// begin starts an operation: the job's timeout applies to every read and
// write until the returned func is called, and the connection is closed if
// ctx ends first, which unblocks whatever command is waiting (the session
// is unusable afterwards).
func (s *Session) begin(ctx context.Context) (end func()) {
	return s.conn.BeginContext(ctx)
}

// ctxErr prefers the context's error to the I/O error it caused.
func ctxErr(ctx context.Context, err error) error { return mailconn.CtxErr(ctx, err) }

// parseCursor reads "UIDVALIDITY:LASTUID".
func parseCursor(cursor string) (validity uint32, last imap.UID, err error) {
	v, u, ok := strings.Cut(cursor, ":")
	if !ok {
		return 0, 0, fmt.Errorf("imapbox: cursor %q is not UIDVALIDITY:UID", cursor)
	}
	vv, err1 := strconv.ParseUint(v, 10, 32)
	uu, err2 := strconv.ParseUint(u, 10, 32)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("imapbox: cursor %q is not UIDVALIDITY:UID", cursor)
	}
	return uint32(vv), imap.UID(uu), nil
}

func formatCursor(validity uint32, uid imap.UID) string {
	return strconv.FormatUint(uint64(validity), 10) + ":" + strconv.FormatUint(uint64(uid), 10)
}

// Scan lists the messages after cursor, oldest (lowest UID) first: one
// UID SEARCH for the UIDs above the cursor, then UID FETCH RFC822.SIZE in
// chunks of scanChunk UIDs.
func (s *Session) Scan(ctx context.Context, cursor string) (*mailbox.Scan, error) {
	defer s.begin(ctx)()
	s.mu.Lock()
	validity := s.validity
	s.mu.Unlock()

	res := &mailbox.Scan{}
	var after imap.UID
	if cursor != "" {
		v, last, err := parseCursor(cursor)
		if err != nil {
			return nil, err
		}
		if v == validity {
			after = last
		} else {
			res.Reset = true
			s.log.Info("imapbox: UIDVALIDITY changed; listing every message", "folder", s.folder, "was", v, "now", validity)
		}
	}

	// RFC 3501 section 6.4.4: "UID n:*" always matches the highest UID even
	// when it is below n, so the result is filtered again below.
	var set imap.UIDSet
	set.AddRange(after+1, 0)
	var opts *imap.SearchOptions
	if s.c.Caps().Has(imap.CapESearch) || s.c.Caps().Has(imap.CapIMAP4rev2) {
		opts = &imap.SearchOptions{ReturnAll: true} // RFC 4731: ranges, not every number
	}
	data, err := s.c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{set}}, opts).Wait()
	if err != nil {
		return nil, ctxErr(ctx, fmt.Errorf("imapbox: search %s for uids after %d: %w", s.folder, after, err))
	}
	var uids []imap.UID
	for _, u := range data.AllUIDs() {
		if u > after {
			uids = append(uids, u)
		}
	}
	sort.Slice(uids, func(i, j int) bool { return uids[i] < uids[j] })

	sizes := make(map[imap.UID]int64, len(uids))
	for start := 0; start < len(uids); start += scanChunk {
		end := min(start+scanChunk, len(uids))
		chunk := imap.UIDSetNum(uids[start:end]...)
		cmd := s.c.Fetch(chunk, &imap.FetchOptions{UID: true, RFC822Size: true})
		for {
			msg := cmd.Next()
			if msg == nil {
				break
			}
			buf, err := msg.Collect()
			if err != nil {
				cmd.Close()
				return nil, ctxErr(ctx, fmt.Errorf("imapbox: fetch sizes in %s: %w", s.folder, err))
			}
			sizes[buf.UID] = buf.RFC822Size
		}
		if err := cmd.Close(); err != nil {
			return nil, ctxErr(ctx, fmt.Errorf("imapbox: fetch sizes of uids %d-%d in %s: %w", uids[start], uids[end-1], s.folder, err))
		}
	}

	// One allocation of the listing's final size: the run keeps it to
	// the end, and a slice grown by appending was up to a quarter
	// larger, and left its smaller copies to the collector.
	res.Items = make([]mailbox.Item, 0, len(uids))
	for _, u := range uids {
		size, ok := sizes[u]
		if !ok {
			continue // expunged between SEARCH and FETCH
		}
		res.Items = append(res.Items, mailbox.Item{
			Source: ledger.Source{Protocol: "imap", Folder: s.folder, Validity: validity, UID: uint32(u)},
			Size:   size,
			Cursor: formatCursor(validity, u),
		})
	}
	switch {
	case len(res.Items) > 0:
		res.Cursor = res.Items[len(res.Items)-1].Cursor
	case cursor != "" && !res.Reset:
		res.Cursor = cursor
	default:
		res.Cursor = formatCursor(validity, 0)
	}
	s.log.Debug("imapbox: scanned", "folder", s.folder, "after", after, "items", len(res.Items), "reset", res.Reset)
	return res, nil
}

// Fetch streams the raw MIME of items to fn in UID order with one
// UID FETCH (UID BODY.PEEK[]) command. Items the server no longer has, and
// items from another UIDVALIDITY or folder, are passed with a nil body.
func (s *Session) Fetch(ctx context.Context, items []mailbox.Item, fn func(mailbox.Item, io.Reader) error) error {
	defer s.begin(ctx)()
	s.mu.Lock()
	validity := s.validity
	s.mu.Unlock()

	sorted := append([]mailbox.Item(nil), items...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Source.UID < sorted[j].Source.UID })
	var set imap.UIDSet
	for _, it := range sorted {
		if s.current(it.Source, validity) {
			set.AddNum(imap.UID(it.Source.UID))
		}
	}
	next := 0 // sorted[:next] have been passed to fn
	// flush passes every item below uid (those the server skipped) with a
	// nil body.
	flush := func(below uint32) error {
		for next < len(sorted) && sorted[next].Source.UID < below {
			if err := fn(sorted[next], nil); err != nil {
				return err
			}
			next++
		}
		return nil
	}
	if len(set) == 0 {
		return flush(^uint32(0))
	}

	cmd := s.c.Fetch(set, &imap.FetchOptions{
		UID:         true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	})
	fail := func(err error) error {
		// Let the decoder finish the command (or notice the closed
		// connection) so the session stays consistent.
		cmd.Close()
		return ctxErr(ctx, err)
	}
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		var uid imap.UID
		var body imap.LiteralReader
		for {
			item := msg.Next()
			if item == nil {
				break
			}
			switch item := item.(type) {
			case imapclient.FetchItemDataUID:
				uid = item.UID
			case imapclient.FetchItemDataBodySection:
				body = item.Literal
			}
			if body != nil {
				break
			}
		}
		if uid == 0 || body == nil {
			continue
		}
		if err := flush(uint32(uid)); err != nil {
			return fail(err)
		}
		// Skip duplicates of a UID already handled.
		if next >= len(sorted) || sorted[next].Source.UID != uint32(uid) {
			continue
		}
		it := sorted[next]
		// A literal cut short (a dropped connection) ends in
		// io.ErrUnexpectedEOF.
		if err := fn(it, &iocount.Reader{R: body, Want: body.Size()}); err != nil {
			return fail(fmt.Errorf("imapbox: fetch %s: %w", it.Source, err))
		}
		next++
	}
	if err := cmd.Close(); err != nil {
		return ctxErr(ctx, fmt.Errorf("imapbox: fetch %d messages from %s: %w", len(set), s.folder, err))
	}
	return flush(^uint32(0))
}

// current reports whether src belongs to the selected folder as it is now.
func (s *Session) current(src ledger.Source, validity uint32) bool {
	return src.Protocol == "imap" && src.Validity == validity && src.Folder == s.folder && src.UID != 0
}

// Close logs out (RFC 3501 section 6.1.3) and closes the connection.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	end := s.conn.begin()
	err := s.c.Logout().Wait()
	end()
	cerr := s.c.Close()
	if err != nil && !isClosed(err) {
		return fmt.Errorf("imapbox: logout: %w", err)
	}
	if cerr != nil && !isClosed(cerr) {
		return fmt.Errorf("imapbox: close: %w", cerr)
	}
	return nil
}

func isClosed(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF)
}
