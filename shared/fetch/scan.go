package fetch

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"mailconnector/shared/blob"
	"mailconnector/shared/freelist"
	"mailconnector/shared/ledger"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/run"
	"mailconnector/shared/store"
)

// fetchNew lists mail after the cursor and takes it in batches.
func (rs *runState) fetchNew(ctx context.Context) error {
	st := rs.s.o.Store
	cursor, err := st.Cursor(ctx, rs.j.ID)
	if err != nil {
		return fmt.Errorf("job %s: read cursor: %w", rs.j.ID, err)
	}
	scan, err := rs.sess.Scan(ctx, cursor)
	if err != nil {
		return fmt.Errorf("job %s: list new mail: %w", rs.j.ID, err)
	}
	if scan.Reset {
		rs.r.Notes = append(rs.r.Notes, fmt.Sprintf("the folder was renumbered (cursor %q no longer applies): rescanning %d messages, the ledger skips those already taken", cursor, len(scan.Items)))
		rs.log.Warn("cursor reset by the server; rescanning", "cursor", cursor, "messages", len(scan.Items))
	}
	limit := rs.j.Limits.MaxMessagesPerRun
	if rs.req.MaxMessages > 0 {
		limit = rs.req.MaxMessages
	}
	// Batches overlap: while one is synced, recorded, queued and passed
	// by the cursor (landBatch), the next is fetched from the mailbox
	// (takeBatch). Only takeBatch uses the session, and batches land one
	// at a time and in order, so the cursor never passes mail that has
	// not landed. A batch that fails to land stops the fetching of the
	// next, whose raw messages are then written again by the run that
	// takes them.
	takeCtx, stopTaking := context.WithCancel(ctx)
	defer stopTaking()
	l := &lander{rs: rs, ctx: ctx, stop: stopTaking}
	err = rs.takeAll(takeCtx, scan.Items, limit, l)
	// A batch that failed to land explains a fetch stopped for it.
	if lerr := l.wait(); lerr != nil {
		return lerr
	}
	if err != nil {
		return err
	}
	if len(scan.Items) == 0 && scan.Cursor != "" && scan.Cursor != cursor {
		if err := st.SetCursor(ctx, rs.j.ID, scan.Cursor); err != nil {
			return fmt.Errorf("job %s: advance cursor: %w", rs.j.ID, err)
		}
	}
	return nil
}

// takeAll fetches items in batches, up to limit (0: all), handing each
// to l to land while it fetches the next; it returns once the last batch
// it fetched is handed over, without waiting for it to land.
func (rs *runState) takeAll(ctx context.Context, items []mailbox.Item, limit int, l *lander) error {
	// On a session that allows it, the messages processed while the run
	// fetches are disposed of every few batches, between two fetches,
	// rather than all at the end of the run.
	_, interleave := rs.sess.(mailbox.Interleaver)
	done := 0
	for batches := 0; len(items) > 0; batches++ {
		if limit > 0 && done >= limit {
			rs.r.More, rs.r.Backlog = true, len(items)
			rs.r.Notes = append(rs.r.Notes, run.LimitNote)
			return nil
		}
		if rs.s.o.Now().After(rs.deadline) {
			rs.r.More, rs.r.Backlog = true, len(items)
			return nil
		}
		n := min(rs.j.Limits.BatchSize, len(items))
		if limit > 0 {
			n = min(n, limit-done)
		}
		if t := rs.s.o.Throttle; t != nil {
			if err := t(ctx); err != nil {
				return err
			}
		}
		if interleave && batches > 0 && batches%disposeEvery == 0 {
			if err := rs.dispose(ctx); err != nil {
				return err
			}
		}
		t, err := rs.takeBatch(ctx, items[:n])
		if err != nil {
			return err
		}
		if err := l.wait(); err != nil {
			return err
		}
		items = items[n:]
		done += n
		l.start(t, len(items))
	}
	return nil
}

// lander lands the batches takeAll fetched, each in a goroutine of its
// own, one at a time and in order. A batch that fails to land stops the
// fetching (stop cancels the context takeBatch runs in); so does one whose
// landing panics, which would otherwise escape whatever recovers the
// run's own goroutine (the local scheduler's).
type lander struct {
	rs      *runState
	ctx     context.Context // the run's
	stop    context.CancelFunc
	landing chan error // the batch landing, nil when none
}

// start lands t, the batch after the last one started, which must have
// landed (wait); left is how many messages the scan still lists after it.
func (l *lander) start(t *taken, left int) {
	ch := make(chan error, 1)
	l.landing = ch
	go func() {
		var err error
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("job %s: landing a batch panicked: %v", l.rs.j.ID, p)
			}
			if err != nil {
				l.stop()
			}
			ch <- err
		}()
		err = l.rs.landBatch(l.ctx, t, left)
	}()
}

// wait waits for the batch landing, if any, and returns its error.
func (l *lander) wait() error {
	if l.landing == nil {
		return nil
	}
	err := <-l.landing
	l.landing = nil
	return err
}

// rawWriters is how many raw messages a run writes to the blob store at
// once while it reads on; handOff is the largest it reads into memory to
// hand over (a larger one streams to the store as it is read).
const (
	rawWriters = 4
	handOff    = 1 << 20
)

// rawBuffers hold the raw messages handed over to the writers: one for
// each writer and two for the session to read into meanwhile. A buffer
// grown past keepBuffer for a rare large message is not kept.
var rawBuffers = freelist.New(rawWriters+2, func() *bytes.Buffer { return new(bytes.Buffer) })

const keepBuffer = 256 << 10

func putRawBuffer(b *bytes.Buffer) {
	if b.Cap() <= keepBuffer {
		rawBuffers.Put(b)
	}
}

// disposeEvery is how many batches a run fetches between two rounds of
// dispositions on a mailbox.Interleaver.
const disposeEvery = 5

// taken is one batch of new mail as takeBatch leaves it: the raw
// messages stored, nothing yet in the ledger, the queue or the cursor.
type taken struct {
	batch []mailbox.Item
	now   time.Time
	// entries are the messages fetched, their raw message stored, to be
	// recorded; oversized are those over the size limit, to be recorded
	// as failed without being fetched; requeue are entries the ledger has
	// that never reached the queue.
	entries, oversized, requeue []ledger.Entry
	// back holds, by source key, the attempt a message seen again under a
	// key the ledger has was moved back after (see comeBack).
	back  map[string]ledger.Entry
	bytes int64
}

// takeBatch fetches one batch of new mail and stores its raw messages. It
// is the only step of a batch that uses the mailbox session; landBatch
// does the rest.
func (rs *runState) takeBatch(ctx context.Context, batch []mailbox.Item) (*taken, error) {
	st := rs.s.o.Store
	jobID := rs.j.ID
	now := rs.s.o.Now()

	// Skip what the ledger already has (a rerun after a crash, a rescan
	// after renumbering, POP3's full listing); put back on the queue what
	// never reached it.
	var want []mailbox.Item
	var requeue []ledger.Entry
	var oversized []ledger.Entry
	back := map[string]ledger.Entry{}
	for _, it := range batch {
		key := it.Source.Key()
		e, err := st.Entry(ctx, jobID, key)
		switch {
		case err == nil:
			if unsent(e) {
				requeue = append(requeue, e)
				continue
			}
			last, ok, err := comeBack(ctx, st, e)
			if err != nil {
				return nil, fmt.Errorf("job %s: look up the attempts at %s in the ledger: %w", jobID, it.Source, err)
			}
			if !ok {
				continue
			}
			back[key] = last
			key = retryKey(last)
		case !errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("job %s: look up %s in the ledger: %w", jobID, it.Source, err)
		}
		if max := int64(rs.j.Limits.MaxMessageSize); max > 0 && it.Size > max {
			oversized = append(oversized, ledger.Entry{
				JobID: jobID, Key: key, Source: it.Source, Size: it.Size, State: ledger.Failed,
				Reason:  fmt.Sprintf("message is %d bytes, over limits.maxMessageSize (%d); not fetched", it.Size, max),
				RetryOf: back[it.Source.Key()].Key, RunID: rs.r.ID, FetchedAt: now, UpdatedAt: now,
			})
			continue
		}
		want = append(want, it)
	}
	var entries []ledger.Entry
	var total int64
	if len(want) > 0 {
		// A raw message up to handOff bytes is read into memory and
		// written to the blob store by one of rawWriters goroutines while
		// the session reads on: where creating a file costs a few hundred
		// microseconds, writing each one before reading the next held the
		// download up. A larger one streams to the store as it is read.
		// All are written before takeBatch returns, so the batch lands
		// only with every raw message stored.
		writes, wctx := errgroup.WithContext(ctx)
		writes.SetLimit(rawWriters)
		err := rs.sess.Fetch(ctx, want, func(it mailbox.Item, body io.Reader) error {
			if err := wctx.Err(); err != nil {
				// A write failed (or the run ends): stop reading.
				if werr := writes.Wait(); werr != nil {
					return werr
				}
				return err
			}
			if body == nil {
				rs.log.Info("message vanished before it was fetched", "source", it.Source.String())
				return nil
			}
			key := it.Source.Key()
			last, again := back[key]
			if again {
				key = retryKey(last)
			}
			// Recorded as queued: its pointer is sent right after the
			// record (landBatch), and a run that lists it again before
			// the cursor has moved past it sends it again (unsent).
			e := ledger.Entry{JobID: jobID, Key: key, Source: it.Source, State: ledger.Queued,
				RawKey: ledger.RawKey(jobID, key), RunID: rs.r.ID, FetchedAt: now, UpdatedAt: now}
			h := sha256.New()
			hs := &headSniffer{}
			src := io.TeeReader(body, io.MultiWriter(h, hs))
			// Read into the buffer: up to handOff bytes and one more to
			// tell a larger message; nothing of one the server says is
			// larger, which streams from its first byte.
			read := int64(handOff + 1)
			buf := rawBuffers.Get()
			buf.Reset()
			switch {
			case it.Size > handOff:
				read = 0
			case it.Size > 0:
				// The room ReadFrom wants to see the end, too: read
				// without growing on the way.
				buf.Grow(int(it.Size) + bytes.MinRead)
			}
			n, err := buf.ReadFrom(io.LimitReader(src, read))
			if err != nil {
				putRawBuffer(buf)
				return fmt.Errorf("read raw %s: %w", it.Source, err)
			}
			if n < read { // the whole message
				rawKey, source := e.RawKey, it.Source
				writes.Go(func() error {
					defer putRawBuffer(buf)
					if _, err := rs.s.o.Blobs.Put(wctx, rawKey, bytes.NewReader(buf.Bytes())); err != nil {
						return fmt.Errorf("store raw %s: %w", source, err)
					}
					return nil
				})
			} else {
				n, err = rs.s.o.Blobs.Put(ctx, e.RawKey, io.MultiReader(bytes.NewReader(buf.Bytes()), src))
				putRawBuffer(buf)
				if err != nil {
					return fmt.Errorf("store raw %s: %w", it.Source, err)
				}
			}
			e.Size = n
			e.MessageID = hs.messageID()
			e.Fingerprint = ledger.Fingerprint(e.MessageID, hex.EncodeToString(h.Sum(nil)))
			if again {
				// Back under its old identity: a new attempt linked to the
				// last one; the fingerprint stays with the first entry.
				rs.log.Info("message moved back: processing it again", "ledgerKey", e.Key, "retryOf", last.Key, "earlier", last.State)
				e.RetryOf, e.Fingerprint = last.Key, ""
			}
			entries = append(entries, e)
			total += n
			return nil
		})
		if werr := writes.Wait(); werr != nil {
			err = werr // the write that failed, rather than the stop it caused
		}
		if err != nil {
			return nil, fmt.Errorf("job %s: fetch: %w", jobID, err)
		}
	}
	return &taken{batch: batch, now: now, entries: entries, oversized: oversized, requeue: requeue, back: back, bytes: total}, nil
}

// landBatch takes a batch takeBatch fetched into the ledger and the
// queue, then moves the cursor past it.
func (rs *runState) landBatch(ctx context.Context, t *taken, left int) error {
	st := rs.s.o.Store
	jobID := rs.j.ID
	now, entries, oversized, requeue, back := t.now, t.entries, t.oversized, t.requeue, t.back
	var fresh []ledger.Entry // recorded by this batch: sent, not marked again
	if len(oversized) > 0 {
		res, err := st.Record(ctx, oversized)
		if err != nil {
			return fmt.Errorf("job %s: record oversized messages: %w", jobID, err)
		}
		for i, rr := range res {
			if last, ok := back[oversized[i].Source.Key()]; ok && rr.Err == nil {
				if err := leftErrorFolder(ctx, st, last, "moved back as "+oversized[i].Key, now); err != nil {
					return fmt.Errorf("job %s: %w", jobID, err)
				}
			}
		}
		rs.r.Oversized += len(oversized)
		for _, e := range oversized {
			rs.log.Warn("message over the size limit", "ledgerKey", e.Key, "size", e.Size)
		}
	}

	rs.r.Bytes += t.bytes
	keys := make([]string, len(entries))
	for i, e := range entries {
		keys[i] = e.Key
	}
	if sy, ok := rs.s.o.Blobs.(blob.Syncer); ok && len(entries) > 0 {
		// The ledger must never name a raw message that a power cut could
		// take back: one sync for the whole batch.
		if err := sy.Sync(ctx); err != nil {
			return fmt.Errorf("job %s: sync raw messages: %w", jobID, err)
		}
	}
	if err := rs.crash(AfterBlob, keys); err != nil {
		return err
	}
	if len(entries) > 0 {
		res, err := st.Record(ctx, entries)
		if err != nil {
			return fmt.Errorf("job %s: record %d messages in the ledger: %w", jobID, len(entries), err)
		}
		var dups, retries, earlier []ledger.Entry
		for i, rr := range res {
			e := entries[i]
			switch {
			case rr.Err == nil:
				fresh = append(fresh, e)
				rs.r.Fetched++
				if last, ok := back[e.Source.Key()]; ok {
					rs.r.MovedBack++
					if err := leftErrorFolder(ctx, st, last, "moved back as "+e.Key, now); err != nil {
						return fmt.Errorf("job %s: %w", jobID, err)
					}
				}
			case errors.Is(rr.Err, store.ErrExists):
				// Another run took it between our look-up and now.
				if unsent(rr.Existing) {
					requeue = append(requeue, rr.Existing)
				}
			case errors.Is(rr.Err, store.ErrDuplicate) && sentAway(rr.Existing):
				// Moved back after its outcome sent it away: a new attempt
				// under the current rules. The fingerprint stays with the
				// first entry, so this one is recorded without it.
				rs.log.Info("message moved back: processing it again", "ledgerKey", e.Key, "retryOf", rr.Existing.Key, "earlier", rr.Existing.State)
				e.RetryOf, e.Fingerprint = rr.Existing.Key, ""
				retries = append(retries, e)
				earlier = append(earlier, rr.Existing)
			case errors.Is(rr.Err, store.ErrDuplicate):
				// Same bytes under another identity: the server renumbered
				// the folder, or the message was copied. It is recorded so
				// its disposition follows, and processed once only.
				rs.log.Debug("same message already taken", "ledgerKey", e.Key, "duplicateOf", rr.Existing.Key)
				e.State, e.DuplicateOf, e.Fingerprint = ledger.Duplicate, rr.Existing.Key, ""
				e.RawKey = rr.Existing.RawKey
				dups = append(dups, e)
				if err := rs.s.o.Blobs.Delete(ctx, ledger.RawKey(jobID, e.Key)); err != nil {
					rs.log.Warn("delete duplicate raw message", "ledgerKey", e.Key, "err", err)
				}
			default:
				return fmt.Errorf("job %s: record %s in the ledger: %w", jobID, e.Source, rr.Err)
			}
		}
		if len(retries) > 0 {
			rres, err := st.Record(ctx, retries)
			if err != nil {
				return fmt.Errorf("job %s: record messages moved back: %w", jobID, err)
			}
			for i, rr := range rres {
				switch {
				case rr.Err == nil:
					fresh = append(fresh, retries[i])
					rs.r.Fetched++
					rs.r.MovedBack++
					if err := leftErrorFolder(ctx, st, earlier[i], "moved back as "+retries[i].Key, now); err != nil {
						return fmt.Errorf("job %s: %w", jobID, err)
					}
				case errors.Is(rr.Err, store.ErrExists):
					if unsent(rr.Existing) {
						requeue = append(requeue, rr.Existing)
					}
				default:
					return fmt.Errorf("job %s: record %s in the ledger: %w", jobID, retries[i].Source, rr.Err)
				}
			}
		}
		if len(dups) > 0 {
			if _, err := st.Record(ctx, dups); err != nil {
				return fmt.Errorf("job %s: record duplicates: %w", jobID, err)
			}
			rs.r.Duplicates += len(dups)
		}
	}
	if err := rs.crash(AfterLedger, keys); err != nil {
		return err
	}
	if err := rs.enqueue(ctx, fresh, requeue); err != nil {
		return err
	}
	if err := st.SetCursor(ctx, jobID, t.batch[len(t.batch)-1].Cursor); err != nil {
		return fmt.Errorf("job %s: advance cursor: %w", jobID, err)
	}
	if err := rs.crash(AfterCursor, nil); err != nil {
		return err
	}
	rs.progress(left)
	return nil
}

// sentAway reports whether e's outcome (rejected or failed) took the
// message out of the job's folder: moved to the error folder, or deleted.
// Such a message seen again was put back on purpose.
func sentAway(e ledger.Entry) bool {
	if e.State != ledger.Rejected && e.State != ledger.Failed {
		return false
	}
	return e.Disposed && (strings.HasPrefix(e.Disposition, string(mailbox.Move)) || e.Disposition == string(mailbox.Delete))
}

// comeBack reports whether a message the scan lists under the key of e,
// an entry with an outcome, came back after its outcome sent it away:
// a Graph message keeps its immutable id, and so its key, wherever it is
// moved, so a move back into the job's folder shows it under its old
// key. It follows e's retries to the last attempt at the message, which
// is returned: only when that one was sent away too is the message new
// work; when it made a request, or is still on its way, it is not.
func comeBack(ctx context.Context, st store.Ledger, e ledger.Entry) (ledger.Entry, bool, error) {
	if !sentAway(e) {
		return e, false, nil
	}
	for range 100 {
		var next ledger.Entry
		found := false
		for n := 1; ; n++ {
			r, err := st.Entry(ctx, e.JobID, e.Key+"#retry"+strconv.Itoa(n))
			if errors.Is(err, store.ErrNotFound) {
				break
			}
			if err != nil {
				return e, false, err
			}
			next, found = r, true
		}
		if !found {
			return e, sentAway(e), nil
		}
		e = next
	}
	return e, false, fmt.Errorf("%s: too many retries to follow", e.Key)
}

// retryKey is the key of the first attempt after last, which has none
// (the key a retry of last takes first, see recordRetry).
func retryKey(last ledger.Entry) string { return last.Key + "#retry1" }

// headSniffer keeps the header section of a message (up to 64 KB) as it
// streams past, to read its Message-ID.
type headSniffer struct {
	buf  bytes.Buffer
	done bool
}

const maxHead = 64 << 10

func (h *headSniffer) Write(p []byte) (int, error) {
	if !h.done {
		room := maxHead - h.buf.Len()
		h.buf.Write(p[:min(len(p), room)])
		if bytes.Contains(h.buf.Bytes(), []byte("\r\n\r\n")) || bytes.Contains(h.buf.Bytes(), []byte("\n\n")) || h.buf.Len() >= maxHead {
			h.done = true
		}
	}
	return len(p), nil
}

func (h *headSniffer) messageID() string {
	// A reader the header's size (bufio's default 4 KB is most of what a
	// message allocates here).
	r := textproto.NewReader(bufio.NewReaderSize(io.MultiReader(bytes.NewReader(h.buf.Bytes()), strings.NewReader("\r\n\r\n")), h.buf.Len()+4))
	hdr, _ := r.ReadMIMEHeader() // a broken header still gives what it could read
	id := strings.TrimSpace(hdr.Get("Message-Id"))
	id = strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	return id
}
