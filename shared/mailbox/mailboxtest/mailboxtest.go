// Package mailboxtest is the conformance suite every mailbox adapter
// (imap, pop3, graph, ews) must pass. An adapter's test implements Harness
// against a real or protocol-faithful server and calls Run; the suite
// checks, through the server's own view of the mailbox (Box.State), that
// the adapter lists, streams and disposes of mail as mailbox.Session
// promises, and that connection failures name the right step.
package mailboxtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/secrets"
)

// Caps says which behaviours a protocol supports; the suite skips the
// checks of the others (and only those: every case it runs must pass).
type Caps struct {
	MarkRead      bool // Dispose markRead sets \Seen
	Delete        bool // Dispose delete flags (or deletes) the message
	Move          bool // Dispose move, creating nested folders
	Purge         bool // the session is a mailbox.Purger
	Cursor        bool // Scan(cursor) lists only newer mail
	ValidityReset bool // the server can renumber a folder (IMAP UIDVALIDITY)
	Folders       bool // the job can name a folder ("INBOX/Support")
	// DeleteOnClose: Dispose delete takes effect only when Close ends the
	// session cleanly (POP3 QUIT, RFC 1939 section 6); a session that
	// ends otherwise (a crash) deletes nothing.
	DeleteOnClose bool
	// RoundCursor: the cursor moves once per Scan (a Graph delta link
	// covers the whole round), so the items before the last carry the
	// cursor the scan started from and only the last carries the new one.
	RoundCursor bool
	// Restore: the session is a mailbox.Restorer (moves mail back from
	// another folder by Message-ID).
	Restore bool
	// DisposeBetweenFetches: the session is a mailbox.Interleaver, and
	// disposing of messages already fetched leaves the fetch of the rest
	// of the scan byte-identical.
	DisposeBetweenFetches bool
}

// MessageState is a message as the server sees it.
type MessageState struct {
	MessageID string // without angle brackets
	// Folder is the server's folder name with "/" as the delimiter
	// ("INBOX/Done/Sub").
	Folder  string
	Seen    bool
	Deleted bool // flagged deleted, not yet expunged
}

// Box is one fresh, empty mailbox (a new user) on the harness's server.
type Box interface {
	// Server reaches this box's INBOX with the harness's security mode.
	Server() job.Server
	// Credentials sign in to this box.
	Credentials() secrets.Credentials
	// Deliver puts raw into folder ("" is INBOX; "INBOX/Support" a
	// subfolder, created if missing) without going through the adapter.
	Deliver(t testing.TB, folder string, raw []byte)
	// State reads every message of the box, in every folder, through a
	// path independent of the adapter.
	State(t testing.TB) []MessageState
	// ResetValidity renumbers the INBOX (a new UIDVALIDITY).
	ResetValidity(t testing.TB)
}

// Harness adapts the suite to one adapter and server.
type Harness interface {
	Name() string
	Capabilities() Caps
	// New returns a fresh, empty box.
	New(t *testing.T) Box
	// Open opens the adapter's session.
	Open(ctx context.Context, srv job.Server, creds secrets.Credentials) (mailbox.Session, error)
	// TLS returns, for the same credentials as b, a server that needs TLS
	// (security tls or starttls) with no CAFile, and the path of the CA
	// that signed its certificate; ok is false when there is none.
	TLS(t *testing.T, b Box) (srv job.Server, caFile string, ok bool)
	// NoTLS returns a server that offers no TLS at all; ok false if none.
	NoTLS(t *testing.T) (srv job.Server, ok bool)
}

// Message returns a small CRLF message with a unique Message-ID.
func Message(id string, bodyBytes int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Message-ID: <%s>\r\nFrom: Customer <customer@example.com>\r\nTo: support@example.com\r\nSubject: Test %s\r\nDate: Mon, 02 Jun 2025 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n", id, id)
	line := strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+-", 1) + "\r\n"
	for b.Len() < bodyBytes {
		b.WriteString(line)
	}
	b.WriteString("end of " + id + "\r\n")
	return b.Bytes()
}

// env is what one case works with.
type env struct {
	t   *testing.T
	h   Harness
	box Box
	ctx context.Context
	ids int
}

func newEnv(t *testing.T, h Harness) *env {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return &env{t: t, h: h, box: h.New(t), ctx: ctx}
}

// deliver delivers n messages of size bytes into folder and returns them.
func (e *env) deliver(folder string, n, size int) [][]byte {
	e.t.Helper()
	var raws [][]byte
	for i := 0; i < n; i++ {
		e.ids++
		raw := Message(fmt.Sprintf("%s-%d-%d@mailboxtest", strings.ReplaceAll(e.t.Name(), "/", "."), e.ids, time.Now().UnixNano()), size)
		e.box.Deliver(e.t, folder, raw)
		raws = append(raws, raw)
	}
	return raws
}

func (e *env) open(mod func(*job.Server)) mailbox.Session {
	e.t.Helper()
	srv := e.box.Server()
	if mod != nil {
		mod(&srv)
	}
	s, err := e.h.Open(e.ctx, srv, e.box.Credentials())
	if err != nil {
		e.t.Fatalf("open %s: %v", srv.Host, err)
	}
	e.t.Cleanup(func() { s.Close() })
	return s
}

func (e *env) scan(s mailbox.Session, cursor string) *mailbox.Scan {
	e.t.Helper()
	sc, err := s.Scan(e.ctx, cursor)
	if err != nil {
		e.t.Fatalf("scan %q: %v", cursor, err)
	}
	return sc
}

// fetchAll returns the bodies fetched for items (nil for a nil body).
func (e *env) fetchAll(s mailbox.Session, items []mailbox.Item) [][]byte {
	e.t.Helper()
	var got [][]byte
	var order []mailbox.Item
	err := s.Fetch(e.ctx, items, func(it mailbox.Item, r io.Reader) error {
		order = append(order, it)
		if r == nil {
			got = append(got, nil)
			return nil
		}
		b, err := io.ReadAll(r)
		got = append(got, b)
		return err
	})
	if err != nil {
		e.t.Fatalf("fetch %d items: %v", len(items), err)
	}
	if len(order) != len(items) {
		e.t.Fatalf("fetch passed %d items to fn, want %d", len(order), len(items))
	}
	for i := range items {
		if order[i].Source != items[i].Source {
			e.t.Fatalf("fetch item %d: got %s, want %s (items in order)", i, order[i].Source, items[i].Source)
		}
	}
	return got
}

func (e *env) state() map[string]MessageState {
	e.t.Helper()
	m := map[string]MessageState{}
	for _, st := range e.box.State(e.t) {
		m[st.MessageID] = st
	}
	return m
}

func messageID(raw []byte) string {
	line, _, _ := bytes.Cut(raw, []byte("\r\n"))
	return strings.Trim(strings.TrimPrefix(string(line), "Message-ID: "), "<>")
}

// Run runs the conformance suite.
func Run(t *testing.T, h Harness) {
	caps := h.Capabilities()
	type tc struct {
		name string
		need bool
		run  func(t *testing.T, e *env)
	}
	cases := []tc{
		{"empty folder", true, testEmpty},
		{"scan lists mail oldest first with sizes", true, testScanOrder},
		{"cursor advances", caps.Cursor, testCursor},
		{"fetch is byte-identical and leaves mail unseen", true, testFetchIdentical},
		{"20 MB message streams", true, testLarge},
		{"dispositions", caps.MarkRead || caps.Delete || caps.Move, testDispositions},
		{"purge", caps.Purge && caps.Delete, testPurge},
		{"purge what an earlier session flagged", caps.Purge && caps.Delete, testPurgeAcrossSessions},
		{"delete commits at close, a crash deletes nothing", caps.DeleteOnClose, testDeleteOnClose},
		{"validity change resets the cursor", caps.ValidityReset && caps.Cursor, testValidity},
		{"connection dropped mid-fetch", true, testDropped},
		{"fetch of a vanished message", caps.Delete && caps.Purge, testVanished},
		{"folder delimiters", caps.Folders, testFolderNames},
		{"move back from another folder", caps.Restore, testRestore},
		{"dispositions between fetches", true, testDisposeBetweenFetches},
		{"wrong password", true, testWrongPassword},
		{"missing folder", caps.Folders, testMissingFolder},
		{"wrong port", true, testWrongPort},
		{"starttls required without TLS", true, testSTARTTLSRequired},
		{"certificates", true, testCertificates},
	}
	for _, c := range cases {
		if !c.need {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newEnv(t, h))
		})
	}
}

func testEmpty(t *testing.T, e *env) {
	s := e.open(nil)
	if got := s.Info().Messages; got != 0 {
		t.Errorf("got Info().Messages %d, want 0", got)
	}
	sc := e.scan(s, "")
	if len(sc.Items) != 0 || sc.Reset {
		t.Errorf("got %d items reset %v, want 0 items, no reset", len(sc.Items), sc.Reset)
	}
	if e.h.Capabilities().Cursor && sc.Cursor == "" {
		t.Errorf("got empty cursor, want one that rescans from here")
	}
	if err := s.Fetch(e.ctx, nil, func(mailbox.Item, io.Reader) error { return errors.New("called") }); err != nil {
		t.Errorf("fetch of no items: got %v, want nil", err)
	}
}

func testScanOrder(t *testing.T, e *env) {
	raws := e.deliver("", 3, 300)
	raws = append(raws, e.deliver("", 1, 5000)...)
	s := e.open(nil)
	if got := s.Info().Messages; got != 4 {
		t.Errorf("got Info().Messages %d, want 4", got)
	}
	sc := e.scan(s, "")
	if len(sc.Items) != len(raws) {
		t.Fatalf("got %d items, want %d", len(sc.Items), len(raws))
	}
	for i, it := range sc.Items {
		if it.Size != int64(len(raws[i])) {
			t.Errorf("item %d: got size %d, want %d", i, it.Size, len(raws[i]))
		}
		switch caps := e.h.Capabilities(); {
		case caps.RoundCursor && i < len(sc.Items)-1:
			if it.Cursor != "" {
				t.Errorf("item %d: got cursor %q, want the one the scan started from (\"\")", i, it.Cursor)
			}
		case it.Cursor == "" && caps.Cursor:
			t.Errorf("item %d: empty cursor", i)
		}
	}
	if sc.Cursor != sc.Items[len(sc.Items)-1].Cursor && e.h.Capabilities().Cursor {
		t.Errorf("got scan cursor %q, want the last item's %q", sc.Cursor, sc.Items[len(sc.Items)-1].Cursor)
	}
	got := e.fetchAll(s, sc.Items)
	for i := range raws {
		if messageID(got[i]) != messageID(raws[i]) {
			t.Errorf("item %d: got %s, want %s (oldest first)", i, messageID(got[i]), messageID(raws[i]))
		}
	}
}

func testCursor(t *testing.T, e *env) {
	e.deliver("", 2, 100)
	s := e.open(nil)
	first := e.scan(s, "")
	if len(first.Items) != 2 {
		t.Fatalf("got %d items, want 2", len(first.Items))
	}
	newer := e.deliver("", 2, 100)
	s2 := e.open(nil)
	second := e.scan(s2, first.Cursor)
	if len(second.Items) != 2 || second.Reset {
		t.Fatalf("rescan from %q: got %d items reset %v, want the 2 newer, no reset", first.Cursor, len(second.Items), second.Reset)
	}
	got := e.fetchAll(s2, second.Items)
	for i := range newer {
		if messageID(got[i]) != messageID(newer[i]) {
			t.Errorf("item %d: got %s, want %s", i, messageID(got[i]), messageID(newer[i]))
		}
	}
	// From an item's cursor: only what follows it.
	third := e.scan(s2, first.Items[1].Cursor)
	if len(third.Items) != 2 {
		t.Errorf("scan from the 2nd item's cursor: got %d items, want 2", len(third.Items))
	}
	// From the end: nothing, and the cursor stays.
	last := e.scan(s2, second.Cursor)
	if e.h.Capabilities().RoundCursor {
		// Each round hands out a new cursor; it too lists nothing new.
		if again := e.scan(s2, last.Cursor); len(last.Items) != 0 || len(again.Items) != 0 || last.Cursor == "" {
			t.Errorf("scan from the end: got %d items, then %d, cursor %q; want none, a cursor", len(last.Items), len(again.Items), last.Cursor)
		}
	} else if len(last.Items) != 0 || last.Cursor != second.Cursor {
		t.Errorf("scan from the end: got %d items cursor %q, want 0 items cursor %q", len(last.Items), last.Cursor, second.Cursor)
	}
}

func testFetchIdentical(t *testing.T, e *env) {
	raws := e.deliver("", 3, 2000)
	s := e.open(nil)
	sc := e.scan(s, "")
	got := e.fetchAll(s, sc.Items)
	for i := range raws {
		if !bytes.Equal(got[i], raws[i]) {
			t.Errorf("item %d: got %d bytes, want the %d delivered bytes unchanged", i, len(got[i]), len(raws[i]))
		}
	}
	// A subset, given out of order, comes back in order.
	sub := []mailbox.Item{sc.Items[2], sc.Items[0]}
	var order []string
	if err := s.Fetch(e.ctx, sub, func(it mailbox.Item, r io.Reader) error {
		b, err := io.ReadAll(r)
		order = append(order, messageID(b))
		return err
	}); err != nil {
		t.Fatalf("fetch subset: %v", err)
	}
	if len(order) != 2 || order[0] != messageID(raws[0]) || order[1] != messageID(raws[2]) {
		t.Errorf("got %v, want [%s %s] (oldest first)", order, messageID(raws[0]), messageID(raws[2]))
	}
	s.Close()
	for id, st := range e.state() {
		if st.Seen {
			t.Errorf("%s: got seen after fetch, want unseen", id)
		}
	}
}

func testLarge(t *testing.T, e *env) {
	const size = 20 << 20
	raw := Message("large@mailboxtest", size)
	e.box.Deliver(t, "", raw)
	want := sha256.Sum256(raw)
	s := e.open(nil)
	sc := e.scan(s, "")
	if len(sc.Items) != 1 || sc.Items[0].Size != int64(len(raw)) {
		t.Fatalf("got %d items, want 1 of %d bytes", len(sc.Items), len(raw))
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak uint64
	var n int64
	h := sha256.New()
	err := s.Fetch(e.ctx, sc.Items, func(it mailbox.Item, r io.Reader) error {
		buf := make([]byte, 64<<10)
		for {
			m, err := r.Read(buf)
			h.Write(buf[:m])
			n += int64(m)
			if n%(2<<20) < int64(m) {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
	})
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	if n != int64(len(raw)) || !bytes.Equal(h.Sum(nil), want[:]) {
		t.Errorf("got %d bytes, want the %d delivered bytes unchanged", n, len(raw))
	}
	// Other cases run in parallel and allocate too: only growth by the
	// whole message (20 MB) is a clear sign of buffering.
	if peak > base && peak-base > size {
		t.Errorf("heap grew by %d MB while streaming a %d MB message, want it streamed", (peak-base)>>20, size>>20)
	}
}

func testDispositions(t *testing.T, e *env) {
	caps := e.h.Capabilities()
	raws := e.deliver("", 4, 200)
	s := e.open(nil)
	sc := e.scan(s, "")
	if len(sc.Items) != 4 {
		t.Fatalf("got %d items, want 4", len(sc.Items))
	}
	type want struct {
		folder        string
		seen, deleted bool
	}
	var ds []mailbox.Disposition
	wants := map[string]want{}
	add := func(i int, d mailbox.Disposition, w want) {
		d.Source = sc.Items[i].Source
		ds = append(ds, d)
		wants[messageID(raws[i])] = w
	}
	if caps.MarkRead {
		add(0, mailbox.Disposition{Action: mailbox.MarkRead}, want{folder: "INBOX", seen: true})
	}
	if caps.Delete {
		add(1, mailbox.Disposition{Action: mailbox.Delete}, want{folder: "INBOX", deleted: true})
	}
	if caps.Move {
		add(2, mailbox.Disposition{Action: mailbox.Move, Folder: "INBOX/Done/Sub"}, want{folder: "INBOX/Done/Sub"})
		add(3, mailbox.Disposition{Action: mailbox.Move, Folder: "INBOX.Done.Sub"}, want{folder: "INBOX/Done/Sub"})
	}
	errs := s.Dispose(e.ctx, ds)
	if len(errs) != len(ds) {
		t.Fatalf("got %d errors, want %d", len(errs), len(ds))
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("%s %s: %v", ds[i].Action, ds[i].Source, err)
		}
	}
	st := e.state()
	for id, w := range wants {
		got, ok := st[id]
		if !ok {
			t.Errorf("%s: gone, want %+v", id, w)
			continue
		}
		if got.Folder != w.folder || got.Seen != w.seen || got.Deleted != w.deleted {
			t.Errorf("%s: got %+v, want folder %s seen %v deleted %v", id, got, w.folder, w.seen, w.deleted)
		}
	}
	if caps.Move {
		for _, x := range e.box.State(t) {
			if x.Folder == "INBOX" && (x.MessageID == messageID(raws[2]) || x.MessageID == messageID(raws[3])) && !x.Deleted {
				t.Errorf("%s: still in INBOX after move", x.MessageID)
			}
		}
	}
	// The same dispositions again succeed (idempotent) or report ErrGone
	// for moved messages.
	for i, err := range s.Dispose(e.ctx, ds) {
		if err != nil && !errors.Is(err, mailbox.ErrGone) {
			t.Errorf("again %s %s: got %v, want nil or ErrGone", ds[i].Action, ds[i].Source, err)
		}
	}
}

// testDisposeBetweenFetches: a session that says dispositions may come
// between the fetches of one scan (mailbox.Interleaver) fetches the rest
// of the scan byte for byte after the first messages were marked read,
// deleted and moved; a session that does not say so is not asked to.
func testDisposeBetweenFetches(t *testing.T, e *env) {
	caps := e.h.Capabilities()
	raws := e.deliver("", 6, 300)
	s := e.open(nil)
	if _, ok := s.(mailbox.Interleaver); ok != caps.DisposeBetweenFetches {
		t.Fatalf("session is a mailbox.Interleaver: %v; capabilities say %v", ok, caps.DisposeBetweenFetches)
	}
	if !caps.DisposeBetweenFetches {
		return
	}
	sc := e.scan(s, "")
	if len(sc.Items) != 6 {
		t.Fatalf("got %d items, want 6", len(sc.Items))
	}
	for i, b := range e.fetchAll(s, sc.Items[:3]) {
		if !bytes.Equal(b, raws[i]) {
			t.Fatalf("first fetch, item %d: not byte-identical", i)
		}
	}
	var ds []mailbox.Disposition
	if caps.MarkRead {
		ds = append(ds, mailbox.Disposition{Source: sc.Items[0].Source, Action: mailbox.MarkRead})
	}
	if caps.Delete {
		ds = append(ds, mailbox.Disposition{Source: sc.Items[1].Source, Action: mailbox.Delete})
	}
	if caps.Move {
		ds = append(ds, mailbox.Disposition{Source: sc.Items[2].Source, Action: mailbox.Move, Folder: "INBOX/Done"})
	}
	for i, err := range s.Dispose(e.ctx, ds) {
		if err != nil {
			t.Fatalf("%s %s: %v", ds[i].Action, ds[i].Source, err)
		}
	}
	for i, b := range e.fetchAll(s, sc.Items[3:]) {
		if !bytes.Equal(b, raws[3+i]) {
			t.Errorf("fetch after the dispositions, item %d: not byte-identical (%d bytes, want %d)", 3+i, len(b), len(raws[3+i]))
		}
	}
}

func testPurge(t *testing.T, e *env) {
	raws := e.deliver("", 3, 200)
	s := e.open(nil)
	sc := e.scan(s, "")
	errs := s.Dispose(e.ctx, []mailbox.Disposition{{Source: sc.Items[1].Source, Action: mailbox.Delete}})
	if errs[0] != nil {
		t.Fatalf("delete: %v", errs[0])
	}
	p, ok := s.(mailbox.Purger)
	if !ok {
		t.Fatalf("got %T, want a mailbox.Purger", s)
	}
	if err := p.Purge(e.ctx); err != nil {
		t.Fatalf("purge: %v", err)
	}
	st := e.state()
	if _, ok := st[messageID(raws[1])]; ok {
		t.Errorf("%s: still there after purge", messageID(raws[1]))
	}
	for _, i := range []int{0, 2} {
		if got, ok := st[messageID(raws[i])]; !ok || got.Deleted {
			t.Errorf("%s: got %+v present %v, want kept and not deleted", messageID(raws[i]), got, ok)
		}
	}
}

// testPurgeAcrossSessions: a session that ended before its purge left a
// message flagged deleted; a later session lists it and purges it by
// identity, and leaves a message someone else flagged deleted.
func testPurgeAcrossSessions(t *testing.T, e *env) {
	raws := e.deliver("", 3, 200)
	s1 := e.open(nil)
	sc := e.scan(s1, "")
	ds := []mailbox.Disposition{{Source: sc.Items[0].Source, Action: mailbox.Delete}, {Source: sc.Items[2].Source, Action: mailbox.Delete}}
	for i, err := range s1.Dispose(e.ctx, ds) {
		if err != nil {
			t.Fatalf("delete %s: %v", ds[i].Source, err)
		}
	}
	s1.Close() // no purge: as a killed session
	s2 := e.open(nil)
	dl, ok := s2.(mailbox.DeletedLister)
	if !ok {
		t.Fatalf("got %T, want a mailbox.DeletedLister", s2)
	}
	flagged, err := dl.FlaggedDeleted(e.ctx)
	if err != nil {
		t.Fatalf("list flagged deleted: %v", err)
	}
	if len(flagged) != 2 || flagged[0].Key() != sc.Items[0].Source.Key() || flagged[1].Key() != sc.Items[2].Source.Key() {
		t.Fatalf("got flagged %v, want the sources of items 0 and 2", flagged)
	}
	if err := dl.PurgeSources(e.ctx, flagged[:1]); err != nil {
		t.Fatalf("purge: %v", err)
	}
	st := e.state()
	if _, ok := st[messageID(raws[0])]; ok {
		t.Errorf("%s: still there after its purge", messageID(raws[0]))
	}
	byUID := false
	for _, c := range s2.Info().Capabilities {
		byUID = byUID || strings.EqualFold(c, "UIDPLUS") || strings.EqualFold(c, "IMAP4rev2")
	}
	got, ok := st[messageID(raws[2])]
	switch {
	case byUID && (!ok || !got.Deleted):
		t.Errorf("%s: got %+v present %v, want kept, still flagged deleted (not named)", messageID(raws[2]), got, ok)
	case !byUID && ok:
		t.Errorf("%s: got %+v, want expunged with the folder (no UIDPLUS: EXPUNGE takes every flagged message)", messageID(raws[2]), got)
	}
}

func testValidity(t *testing.T, e *env) {
	e.deliver("", 3, 100)
	s := e.open(nil)
	first := e.scan(s, "")
	s.Close()
	e.box.ResetValidity(t)
	s2 := e.open(nil)
	sc := e.scan(s2, first.Cursor)
	if !sc.Reset || len(sc.Items) != 3 {
		t.Fatalf("got reset %v with %d items, want reset with all 3", sc.Reset, len(sc.Items))
	}
	if sc.Cursor == first.Cursor {
		t.Errorf("got the old cursor %q back, want a new one", sc.Cursor)
	}
	for i, it := range sc.Items {
		if it.Source.Key() == first.Items[i].Source.Key() {
			t.Errorf("item %d: got the old identity %s, want a new one", i, it.Source)
		}
	}
	// The old identities no longer address anything.
	errs := s2.Dispose(e.ctx, []mailbox.Disposition{{Source: first.Items[0].Source, Action: mailbox.MarkRead}})
	if !errors.Is(errs[0], mailbox.ErrStaleSource) {
		t.Errorf("dispose of a stale source: got %v, want ErrStaleSource", errs[0])
	}
	got := e.fetchAll(s2, first.Items[:1])
	if got[0] != nil {
		t.Errorf("fetch of a stale source: got %d bytes, want a nil body", len(got[0]))
	}
	// A scan from the new cursor is up to date.
	if again := e.scan(s2, sc.Cursor); again.Reset || len(again.Items) != 0 {
		t.Errorf("scan from the new cursor: got reset %v with %d items, want nothing", again.Reset, len(again.Items))
	}
}

func testDropped(t *testing.T, e *env) {
	raws := e.deliver("", 5, 100<<10)
	srv := e.box.Server()
	proxy := NewFaultProxy(t, net.JoinHostPort(srv.Host, strconv.Itoa(srv.Port)))
	s := e.open(func(s *job.Server) {
		s.Host = "127.0.0.1"
		s.Port = proxy.Addr().Port
		s.Timeout = job.Duration(10 * time.Second)
	})
	sc := e.scan(s, "")
	if len(sc.Items) != 5 {
		t.Fatalf("got %d items, want 5", len(sc.Items))
	}
	proxy.CutAfter(250 << 10)
	start := time.Now()
	err := s.Fetch(e.ctx, sc.Items, func(it mailbox.Item, r io.Reader) error {
		if r == nil {
			return nil
		}
		_, err := io.Copy(io.Discard, r)
		return err
	})
	if err == nil {
		t.Fatalf("fetch over a connection cut after 250 KB: got nil error, want one")
	}
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("fetch took %v to notice the cut, want well under the 10s timeout", took)
	}
	t.Logf("fetch error: %v", err)
	s.Close()
	s2 := e.open(nil)
	got := e.fetchAll(s2, e.scan(s2, "").Items)
	if len(got) != len(raws) {
		t.Fatalf("new session: got %d messages, want %d", len(got), len(raws))
	}
	for i := range raws {
		if !bytes.Equal(got[i], raws[i]) {
			t.Errorf("new session, item %d: got %d bytes, want the %d delivered", i, len(got[i]), len(raws[i]))
		}
	}
}

func testVanished(t *testing.T, e *env) {
	raws := e.deliver("", 3, 100)
	s := e.open(nil)
	sc := e.scan(s, "")
	s2 := e.open(nil)
	if errs := s2.Dispose(e.ctx, []mailbox.Disposition{{Source: sc.Items[1].Source, Action: mailbox.Delete}}); errs[0] != nil {
		t.Fatalf("delete: %v", errs[0])
	}
	if err := s2.(mailbox.Purger).Purge(e.ctx); err != nil {
		t.Fatalf("purge: %v", err)
	}
	s2.Close()
	got := e.fetchAll(s, sc.Items)
	if got[1] != nil {
		t.Errorf("vanished item: got %d bytes, want a nil body", len(got[1]))
	}
	for _, i := range []int{0, 2} {
		if !bytes.Equal(got[i], raws[i]) {
			t.Errorf("item %d: got %d bytes, want the delivered %d", i, len(got[i]), len(raws[i]))
		}
	}
	errs := s.Dispose(e.ctx, []mailbox.Disposition{{Source: sc.Items[1].Source, Action: mailbox.MarkRead}})
	if !errors.Is(errs[0], mailbox.ErrGone) {
		t.Errorf("dispose of a vanished message: got %v, want ErrGone", errs[0])
	}
}

func testFolderNames(t *testing.T, e *env) {
	raws := e.deliver("INBOX/Support", 1, 100)
	var folders []string
	for _, name := range []string{"INBOX/Support", "INBOX.Support", "inbox/Support"} {
		s := e.open(func(s *job.Server) { s.Folder = name })
		sc := e.scan(s, "")
		if len(sc.Items) != 1 {
			t.Errorf("folder %q: got %d items, want 1", name, len(sc.Items))
			continue
		}
		got := e.fetchAll(s, sc.Items)
		if !bytes.Equal(got[0], raws[0]) {
			t.Errorf("folder %q: got another message", name)
		}
		folders = append(folders, s.Info().Folder)
		if sc.Items[0].Source.Folder != s.Info().Folder {
			t.Errorf("folder %q: got source folder %q, want the server's name %q", name, sc.Items[0].Source.Folder, s.Info().Folder)
		}
	}
	for _, f := range folders {
		if f != folders[0] {
			t.Errorf("got server folder names %v, want one name", folders)
		}
	}
}

// connectErr opens with mod applied and returns the ConnectError.
func (e *env) connectErr(srv job.Server, creds secrets.Credentials) *mailbox.ConnectError {
	e.t.Helper()
	s, err := e.h.Open(e.ctx, srv, creds)
	if err == nil {
		s.Close()
		e.t.Fatalf("open: got a session, want an error")
	}
	var ce *mailbox.ConnectError
	if !errors.As(err, &ce) {
		e.t.Fatalf("open: got %T %v, want a *mailbox.ConnectError", err, err)
	}
	return ce
}

func testWrongPassword(t *testing.T, e *env) {
	creds := e.box.Credentials()
	creds.Password = "Wr0ng-Secret-Value-42"
	ce := e.connectErr(e.box.Server(), creds)
	if ce.Step != mailbox.StepAuth {
		t.Errorf("got step %s (%v), want %s", ce.Step, ce, mailbox.StepAuth)
	}
	if strings.Contains(ce.Error(), creds.Password) || strings.Contains(fmt.Sprintf("%+v %#v", ce, ce), creds.Password) {
		t.Errorf("error %q shows the password", ce.Error())
	}
}

func testMissingFolder(t *testing.T, e *env) {
	srv := e.box.Server()
	srv.Folder = "INBOX/Does/Not/Exist"
	if ce := e.connectErr(srv, e.box.Credentials()); ce.Step != mailbox.StepFolder {
		t.Errorf("got step %s (%v), want %s", ce.Step, ce, mailbox.StepFolder)
	}
}

func testWrongPort(t *testing.T, e *env) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	srv := e.box.Server()
	srv.Host, srv.Port = "127.0.0.1", port
	if ce := e.connectErr(srv, e.box.Credentials()); ce.Step != mailbox.StepTCP {
		t.Errorf("got step %s (%v), want %s", ce.Step, ce, mailbox.StepTCP)
	}
}

func testSTARTTLSRequired(t *testing.T, e *env) {
	srv, ok := e.h.NoTLS(t)
	if !ok {
		t.Log("the harness has no server without TLS: nothing to check")
		return
	}
	srv.Security = job.SecuritySTARTTLS
	if ce := e.connectErr(srv, e.box.Credentials()); ce.Step != mailbox.StepSTARTTLS {
		t.Errorf("got step %s (%v), want %s", ce.Step, ce, mailbox.StepSTARTTLS)
	}
}

func testCertificates(t *testing.T, e *env) {
	srv, caFile, ok := e.h.TLS(t, e.box)
	if !ok {
		t.Log("the harness has no TLS server: nothing to check")
		return
	}
	no := false
	cases := []struct {
		name     string
		mod      func(*job.Server)
		wantStep mailbox.Step // "" means it opens
	}{
		{"untrusted CA", func(*job.Server) {}, mailbox.StepCertificate},
		{"trusted via caFile", func(s *job.Server) { s.CAFile = caFile }, ""},
		{"verification off", func(s *job.Server) { s.RejectInvalidCertificates = &no }, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := srv
			c.mod(&s)
			if c.wantStep == "" {
				sess, err := e.h.Open(e.ctx, s, e.box.Credentials())
				if err != nil {
					t.Fatalf("open: got %v, want a session", err)
				}
				if info := sess.Info(); info.Security == "none" || info.Security == "" {
					t.Errorf("got security %q, want tls or starttls", info.Security)
				}
				sess.Close()
				return
			}
			sess, err := e.h.Open(e.ctx, s, e.box.Credentials())
			if err == nil {
				sess.Close()
				t.Fatalf("open: got a session, want step %s", c.wantStep)
			}
			var ce *mailbox.ConnectError
			if !errors.As(err, &ce) || ce.Step != c.wantStep {
				t.Errorf("got %v, want a ConnectError at step %s", err, c.wantStep)
			}
		})
	}
}

func testDeleteOnClose(t *testing.T, e *env) {
	raws := e.deliver("", 3, 200)
	srv := e.box.Server()
	proxy := NewFaultProxy(t, net.JoinHostPort(srv.Host, strconv.Itoa(srv.Port)))
	s := e.open(func(s *job.Server) { s.Host, s.Port = "127.0.0.1", proxy.Addr().Port })
	sc := e.scan(s, "")
	if len(sc.Items) != 3 {
		t.Fatalf("got %d items, want 3", len(sc.Items))
	}
	del := []mailbox.Disposition{{Source: sc.Items[0].Source, Action: mailbox.Delete}, {Source: sc.Items[1].Source, Action: mailbox.Delete}}
	for i, err := range s.Dispose(e.ctx, del) {
		if err != nil {
			t.Fatalf("delete %s: %v", del[i].Source, err)
		}
	}
	if st := e.state(); len(st) != 3 {
		t.Errorf("during the session: got %d messages, want all 3 (deletion waits for the clean close)", len(st))
	}
	// A crash: the connection ends without the clean close.
	proxy.Close()
	s.Close()
	if st := e.state(); len(st) != 3 {
		t.Fatalf("after a crash: got %d messages, want all 3 (nothing deleted)", len(st))
	}
	// The rerun sees the same identities: the ledger makes no duplicate.
	s2 := e.open(nil)
	sc2 := e.scan(s2, "")
	if len(sc2.Items) != 3 {
		t.Fatalf("rerun: got %d items, want 3", len(sc2.Items))
	}
	for i := range sc.Items {
		if sc2.Items[i].Source.Key() != sc.Items[i].Source.Key() {
			t.Errorf("rerun item %d: got identity %s, want %s (same as before the crash)", i, sc2.Items[i].Source, sc.Items[i].Source)
		}
	}
	for i, err := range s2.Dispose(e.ctx, del) {
		if err != nil {
			t.Fatalf("rerun delete %s: %v", del[i].Source, err)
		}
	}
	if err := s2.Close(); err != nil {
		t.Fatalf("clean close: %v", err)
	}
	st := e.state()
	if len(st) != 1 {
		t.Errorf("after the clean close: got %d messages, want 1", len(st))
	}
	if _, ok := st[messageID(raws[2])]; !ok {
		t.Errorf("the kept message %s is gone", messageID(raws[2]))
	}
}
