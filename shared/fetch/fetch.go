// Package fetch is the first pipeline stage: one Run is one job run. It
// takes the job's lease, tells the mailbox what became of messages whose
// outcome is known, lists new mail after the job's cursor, streams each raw
// message to the blob store, records it in the ledger, sends a pointer to
// the preprocess queue, advances the cursor, purges, and records the run.
//
// The order of those steps is what keeps the invariants: a message is in
// the blob store before the ledger names it, in the ledger before a queue
// points at it, and behind the cursor only once all of that happened. A
// crash between any two steps leaves it either still ahead of the cursor in
// the mailbox (the next run fetches it again and the ledger refuses a
// second entry) or recorded in the ledger, from where the next run puts it
// back on the queue. Nothing is removed from the mailbox before the ledger
// holds its outcome.
package fetch

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/textproto"
	"strings"
	"sync"
	"time"

	"mailconnector/shared/blob"
	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/notify"
	"mailconnector/shared/queue"
	"mailconnector/shared/run"
	"mailconnector/shared/store"
)

// Store is the state the fetch stage reads and writes.
type Store interface {
	store.Leases
	store.Cursors
	store.Ledger
	store.Runs
	store.JobStates
}

// Opener opens a session on a job's mailbox.
type Opener interface {
	Open(ctx context.Context, j *job.Job) (mailbox.Session, error)
}

// OpenerFunc adapts a function to Opener.
type OpenerFunc func(ctx context.Context, j *job.Job) (mailbox.Session, error)

// Open calls f.
func (f OpenerFunc) Open(ctx context.Context, j *job.Job) (mailbox.Session, error) { return f(ctx, j) }

// Sender sends pointers to the preprocess queue.
type Sender interface {
	Send(ctx context.Context, msgs []queue.Message) error
}

// Step names a point in a run, for crash injection in tests.
type Step string

// The steps at which Options.Crash is consulted.
const (
	AfterBlob       Step = "after-blob"        // raw message written, ledger not yet
	AfterLedger     Step = "after-ledger"      // ledger entries recorded, nothing queued
	AfterEnqueue    Step = "after-enqueue"     // pointers sent, entries not yet marked queued
	AfterMarkQueued Step = "after-mark-queued" // entries marked queued, cursor not advanced
	BeforeDispose   Step = "before-dispose"    // outcome known, mailbox not yet told
	AfterDispose    Step = "after-dispose"     // mailbox told, ledger not yet marked disposed
	AfterCursor     Step = "after-cursor"      // cursor advanced past a batch
)

// ErrCrash is what a Crash hook returns to simulate a crash.
var ErrCrash = errors.New("fetch: injected crash")

// Options configure a Service. Store, Blobs, Queue and Opener are required.
type Options struct {
	Store    Store
	Blobs    blob.Store
	Queue    Sender
	Opener   Opener
	Notifier notify.Notifier // nil: alerts are only logged
	Logger   *slog.Logger
	Now      func() time.Time
	// LeaseTTL is how long a run may hold a job; default the job's
	// MaxRunTime plus a minute.
	LeaseTTL time.Duration
	// RequeueAfter puts messages back on the queue that have had no outcome
	// for this long (lost with a crash or a purged queue). Default 1h.
	RequeueAfter time.Duration
	// SafetyMargin stops a run this long before its deadline. Default 30s.
	SafetyMargin time.Duration
	// Crash, when set, is called at each Step; an error from it aborts the
	// run there as a crash would. For tests.
	Crash func(step Step, keys []string) error
}

// Service runs jobs.
type Service struct {
	o Options
}

// New returns a Service.
func New(o Options) *Service {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RequeueAfter == 0 {
		o.RequeueAfter = time.Hour
	}
	if o.SafetyMargin == 0 {
		o.SafetyMargin = 30 * time.Second
	}
	return &Service{o: o}
}

// Request says how to run a job.
type Request struct {
	Trigger string // schedule, push, manual, continue
	// Deadline stops the run early (a Lambda's deadline); zero: the job's
	// MaxRunTime from now.
	Deadline time.Time
	// MaxMessages overrides the job's limit when not zero.
	MaxMessages int
	// RequeueAll puts every message without an outcome back on the queue,
	// whatever its age: for a local runner whose in-process queue did not
	// survive a restart.
	RequeueAll bool
}

// LeaseHeldError is returned when another run holds the job.
type LeaseHeldError struct{ JobID string }

func (e *LeaseHeldError) Error() string {
	return fmt.Sprintf("fetch: job %s: another run holds the job's lease", e.JobID)
}

// Run runs one job: see the package comment. The returned Run is also
// stored; its More field says whether mail is left for a follow-up run.
// The error is non-nil when the run failed (connection, store, blob or
// queue trouble); message-level problems are recorded in the ledger and do
// not fail the run.
func (s *Service) Run(ctx context.Context, j *job.Job, req Request) (run.Run, error) {
	now := s.o.Now()
	r := run.Run{JobID: j.ID, ID: newRunID(now), Trigger: req.Trigger, StartedAt: now, Status: run.Running}
	log := s.o.Logger.With("job", j.ID, "run", r.ID)
	deadline := req.Deadline
	if deadline.IsZero() || deadline.Sub(now) > j.Limits.MaxRunTime.D()+s.o.SafetyMargin {
		deadline = now.Add(j.Limits.MaxRunTime.D() + s.o.SafetyMargin)
	}
	ttl := s.o.LeaseTTL
	if ttl == 0 {
		ttl = deadline.Sub(now) + time.Minute
	}
	if err := s.o.Store.AcquireLease(ctx, j.ID, r.ID, ttl); err != nil {
		if errors.Is(err, store.ErrLeaseHeld) {
			log.Info("run skipped: another run holds the job")
			r.Status = run.Skipped
			r.EndedAt = s.o.Now()
			r.Notes = append(r.Notes, "another run held the job's lease")
			_ = s.o.Store.PutRun(ctx, r)
			return r, &LeaseHeldError{JobID: j.ID}
		}
		return r, fmt.Errorf("job %s: take lease: %w", j.ID, err)
	}
	defer func() {
		// A released lease lets the next run start at once; a crash leaves
		// it to expire.
		if err := s.o.Store.ReleaseLease(context.WithoutCancel(ctx), j.ID, r.ID); err != nil {
			log.Warn("release lease", "err", err)
		}
	}()
	if err := s.o.Store.PutRun(ctx, r); err != nil {
		return r, fmt.Errorf("job %s: record run start: %w", j.ID, err)
	}

	rs := &runState{s: s, j: j, r: &r, log: log, deadline: deadline.Add(-s.o.SafetyMargin), req: req}
	err := rs.do(ctx)
	if errors.Is(err, ErrCrash) {
		// A simulated crash leaves everything as a real one would: no run
		// record, no lease release beyond what the defer does.
		return r, err
	}
	r.EndedAt = s.o.Now()
	switch {
	case errors.Is(err, mailbox.ErrThrottled):
		// Not a failure: everything recorded stays recorded, the cursor
		// stands at the last safe point, and the next run resumes there.
		r.Status = run.Throttled
		r.Notes = append(r.Notes, "the server throttled the connector; stopped cleanly, the next run resumes: "+err.Error())
		log.Warn("run stopped: throttled by the server", "err", err)
		err = nil
	case err != nil:
		r.Status = run.Failed
		r.Errors = append(r.Errors, err.Error())
	case r.More:
		r.Status = run.Partial
	default:
		r.Status = run.OK
	}
	bg := context.WithoutCancel(ctx)
	r.ConsecutiveFailures = s.health(bg, j, r, err, log)
	if perr := s.o.Store.PutRun(bg, r); perr != nil {
		log.Error("record run", "err", perr)
	}
	log.Info("run ended", "status", r.Status, "fetched", r.Fetched, "bytes", r.Bytes, "duplicates", r.Duplicates,
		"disposed", r.Disposed, "requeued", r.Requeued, "more", r.More, "duration", r.EndedAt.Sub(r.StartedAt).String())
	return r, err
}

type runState struct {
	s        *Service
	j        *job.Job
	r        *run.Run
	log      *slog.Logger
	deadline time.Time
	req      Request
	sess     mailbox.Session
}

func (rs *runState) crash(step Step, keys []string) error {
	if rs.s.o.Crash == nil {
		return nil
	}
	return rs.s.o.Crash(step, keys)
}

func (rs *runState) do(ctx context.Context) error {
	sess, err := rs.s.o.Opener.Open(ctx, rs.j)
	if err != nil {
		return fmt.Errorf("job %s: connect: %w", rs.j.ID, err)
	}
	rs.sess = sess
	defer func() {
		if err := sess.Close(); err != nil {
			rs.log.Warn("close mailbox session", "err", err)
		}
	}()
	info := sess.Info()
	rs.r.Notes = append(rs.r.Notes, info.Notes...)

	if err := rs.dispose(ctx); err != nil {
		return err
	}
	if err := rs.requeue(ctx); err != nil {
		return err
	}
	if err := rs.fetchNew(ctx); err != nil {
		return err
	}
	// Messages processed while this run fetched get their disposition now
	// rather than at the next run.
	if err := rs.dispose(ctx); err != nil {
		return err
	}
	if rs.j.Incoming.Purge {
		if p, ok := sess.(mailbox.Purger); ok {
			if err := p.Purge(ctx); err != nil {
				return fmt.Errorf("job %s: purge: %w", rs.j.ID, err)
			}
		}
	}
	return nil
}

// Dispose applies pending dispositions (and purges) without fetching new
// mail: the end of a local run, once the queues have drained.
func (s *Service) Dispose(ctx context.Context, j *job.Job) (run.Run, error) {
	now := s.o.Now()
	r := run.Run{JobID: j.ID, ID: newRunID(now), Trigger: "dispose", StartedAt: now}
	if err := s.o.Store.AcquireLease(ctx, j.ID, r.ID, j.Limits.MaxRunTime.D()+time.Minute); err != nil {
		if errors.Is(err, store.ErrLeaseHeld) {
			return r, &LeaseHeldError{JobID: j.ID}
		}
		return r, fmt.Errorf("job %s: take lease: %w", j.ID, err)
	}
	defer s.o.Store.ReleaseLease(context.WithoutCancel(ctx), j.ID, r.ID)
	rs := &runState{s: s, j: j, r: &r, log: s.o.Logger.With("job", j.ID, "run", r.ID), deadline: now.Add(j.Limits.MaxRunTime.D())}
	sess, err := s.o.Opener.Open(ctx, j)
	if err != nil {
		return r, fmt.Errorf("job %s: connect: %w", j.ID, err)
	}
	defer sess.Close()
	rs.sess = sess
	if err := rs.dispose(ctx); err != nil {
		return r, err
	}
	if j.Incoming.Purge {
		if p, ok := sess.(mailbox.Purger); ok {
			if err := p.Purge(ctx); err != nil {
				return r, fmt.Errorf("job %s: purge: %w", j.ID, err)
			}
		}
	}
	r.EndedAt = s.o.Now()
	r.Status = run.OK
	return r, nil
}

// dispositionFor says what to do on the mailbox with a message whose
// outcome is e.State; ok is false when nothing is to be done.
func dispositionFor(j *job.Job, e ledger.Entry) (mailbox.Disposition, bool) {
	d := mailbox.Disposition{Source: e.Source}
	var act job.Disposition
	var folder string
	switch e.State {
	case ledger.Processed, ledger.Duplicate:
		act, folder = j.Incoming.OnSuccess, j.Incoming.MoveTo
	case ledger.Rejected, ledger.Failed:
		act, folder = j.Incoming.OnError.Action, j.Incoming.OnError.Folder
	default:
		return d, false
	}
	if j.Server.Protocol == job.POP3 {
		// POP3 has no flags and no folders: a message is deleted once its
		// outcome is recorded unless the job keeps mail on the server; the
		// ledger keeps it from being fetched twice.
		if j.Incoming.KeepOnServer {
			return d, false
		}
		d.Action = mailbox.Delete
		return d, true
	}
	switch act {
	case job.MarkRead:
		d.Action = mailbox.MarkRead
	case job.Delete:
		d.Action = mailbox.Delete
	case job.Move:
		d.Action, d.Folder = mailbox.Move, folder
	default:
		return d, false
	}
	return d, true
}

const disposeBatch = 200

// dispose tells the mailbox what became of every message with an outcome.
func (rs *runState) dispose(ctx context.Context) error {
	st := rs.s.o.Store
	for {
		if rs.s.o.Now().After(rs.deadline) {
			rs.r.More = true
			return nil
		}
		entries, err := st.Undisposed(ctx, rs.j.ID, disposeBatch)
		if err != nil {
			return fmt.Errorf("job %s: list messages to dispose: %w", rs.j.ID, err)
		}
		if len(entries) == 0 {
			return nil
		}
		var ds []mailbox.Disposition
		var which []int
		done := make([]string, len(entries)) // disposition note per entry; "" = keep for later
		for i, e := range entries {
			if e.State == ledger.Rejected || e.State == ledger.Failed {
				rs.r.ErrorMails++
			}
			d, ok := dispositionFor(rs.j, e)
			if !ok {
				done[i] = "left"
				continue
			}
			if e.Source.Protocol != "" && e.Source.Protocol != string(rs.j.Server.Protocol) {
				done[i] = "left: job changed protocol"
				continue
			}
			ds = append(ds, d)
			which = append(which, i)
		}
		keys := make([]string, len(entries))
		for i, e := range entries {
			keys[i] = e.Key
		}
		if err := rs.crash(BeforeDispose, keys); err != nil {
			return err
		}
		if len(ds) > 0 {
			errs := rs.sess.Dispose(ctx, ds)
			for n, i := range which {
				var err error
				if n < len(errs) {
					err = errs[n]
				}
				switch {
				case err == nil:
					done[i] = string(ds[n].Action)
					if ds[n].Folder != "" {
						done[i] += " " + ds[n].Folder
					}
				case errors.Is(err, mailbox.ErrGone):
					done[i] = "gone from the mailbox"
				case errors.Is(err, mailbox.ErrStaleSource):
					done[i] = "not disposed: the server renumbered the folder"
				default:
					rs.r.Errors = append(rs.r.Errors, fmt.Sprintf("dispose %s: %v", entries[i].Source, err))
					rs.log.Warn("dispose", "ledgerKey", entries[i].Key, "err", err)
				}
			}
		}
		if err := rs.crash(AfterDispose, keys); err != nil {
			return err
		}
		if c, ok := rs.sess.(mailbox.Committer); ok && len(ds) > 0 {
			// POP3: the deletions count only once QUIT confirmed them.
			if err := c.Commit(ctx); err != nil {
				rs.r.Errors = append(rs.r.Errors, fmt.Sprintf("commit dispositions: %v", err))
				rs.log.Warn("dispositions not committed; the next run applies them again", "err", err)
				for n, i := range which {
					if done[i] == string(ds[n].Action) {
						done[i] = ""
					}
				}
			}
		}
		progress := 0
		var mu sync.Mutex
		var firstErr error
		parallel(len(entries), 16, func(i int) {
			if done[i] == "" {
				return
			}
			e := entries[i]
			e.Disposed, e.Disposition, e.UpdatedAt = true, done[i], rs.s.o.Now()
			_, err := st.Update(ctx, e)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && !errors.Is(err, store.ErrConflict) {
				if firstErr == nil {
					firstErr = fmt.Errorf("job %s: mark %s disposed: %w", rs.j.ID, e.Key, err)
				}
				return
			}
			progress++
			rs.r.Disposed++
		})
		if firstErr != nil {
			return firstErr
		}
		if stop := rs.j.Incoming.OnError.StopAfter; stop > 0 && rs.r.ErrorMails >= stop {
			return fmt.Errorf("job %s: stopped after %d error mails (incoming.onError.stopAfter)", rs.j.ID, rs.r.ErrorMails)
		}
		if progress == 0 || len(entries) < disposeBatch {
			// Nothing more can be done now (the mailbox refused every
			// disposition); the next run tries again.
			return nil
		}
	}
}

// requeue puts back on the queue messages that are in the ledger without an
// outcome and have not moved for RequeueAfter: a crash between the ledger
// write and the enqueue, or a queue that lost them.
func (rs *runState) requeue(ctx context.Context) error {
	before := rs.s.o.Now().Add(-rs.s.o.RequeueAfter)
	if rs.req.RequeueAll {
		before = rs.s.o.Now().Add(time.Second)
	}
	// Entries marked stored never reached the queue; those are requeued
	// whatever their age.
	for {
		entries, err := rs.s.o.Store.Unfinished(ctx, rs.j.ID, rs.s.o.Now().Add(time.Second), 500)
		if err != nil {
			return fmt.Errorf("job %s: list unfinished messages: %w", rs.j.ID, err)
		}
		var todo []ledger.Entry
		for _, e := range entries {
			if e.State == ledger.Stored || e.UpdatedAt.Before(before) {
				todo = append(todo, e)
			}
		}
		if len(todo) == 0 {
			return nil
		}
		if err := rs.enqueue(ctx, todo); err != nil {
			return err
		}
		rs.r.Requeued += len(todo)
		if len(entries) < 500 || rs.s.o.Now().After(rs.deadline) {
			return nil
		}
	}
}

// enqueue sends pointers for entries and marks them queued (which also
// refreshes UpdatedAt so requeue leaves them alone for a while).
func (rs *runState) enqueue(ctx context.Context, entries []ledger.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	msgs := make([]queue.Message, len(entries))
	keys := make([]string, len(entries))
	for i, e := range entries {
		body, _ := json.Marshal(ledger.Pointer{JobID: e.JobID, Key: e.Key, RunID: rs.r.ID})
		msgs[i] = queue.Message{Body: body, Attributes: map[string]string{"jobId": e.JobID, "ledgerKey": e.Key}}
		keys[i] = e.Key
	}
	if err := rs.s.o.Queue.Send(ctx, msgs); err != nil {
		return fmt.Errorf("job %s: enqueue %d messages: %w", rs.j.ID, len(msgs), err)
	}
	if err := rs.crash(AfterEnqueue, keys); err != nil {
		return err
	}
	var mu sync.Mutex
	var firstErr error
	parallel(len(entries), 16, func(i int) {
		e := entries[i]
		for attempt := 0; attempt < 3; attempt++ {
			if e.State != ledger.Stored && e.State != ledger.Queued {
				return // a stage has moved it on already
			}
			e.State, e.UpdatedAt = ledger.Queued, rs.s.o.Now()
			_, err := rs.s.o.Store.Update(ctx, e)
			if err == nil || errors.Is(err, store.ErrFinal) {
				return
			}
			if errors.Is(err, store.ErrConflict) {
				if e, err = rs.s.o.Store.Entry(ctx, e.JobID, e.Key); err == nil {
					continue
				}
			}
			mu.Lock()
			if firstErr == nil {
				firstErr = fmt.Errorf("job %s: mark %s queued: %w", rs.j.ID, e.Key, err)
			}
			mu.Unlock()
			return
		}
	})
	if firstErr != nil {
		return firstErr
	}
	return rs.crash(AfterMarkQueued, keys)
}

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
	items := scan.Items
	done := 0
	for len(items) > 0 {
		if rs.s.o.Now().After(rs.deadline) || (limit > 0 && done >= limit) {
			rs.r.More, rs.r.Backlog = true, len(items)
			return nil
		}
		n := min(rs.j.Limits.BatchSize, len(items))
		if limit > 0 {
			n = min(n, limit-done)
		}
		batch := items[:n]
		if err := rs.fetchBatch(ctx, batch); err != nil {
			return err
		}
		if err := st.SetCursor(ctx, rs.j.ID, batch[len(batch)-1].Cursor); err != nil {
			return fmt.Errorf("job %s: advance cursor: %w", rs.j.ID, err)
		}
		if err := rs.crash(AfterCursor, nil); err != nil {
			return err
		}
		items = items[n:]
		done += n
	}
	if len(scan.Items) == 0 && scan.Cursor != "" && scan.Cursor != cursor {
		if err := st.SetCursor(ctx, rs.j.ID, scan.Cursor); err != nil {
			return fmt.Errorf("job %s: advance cursor: %w", rs.j.ID, err)
		}
	}
	return nil
}

// fetchBatch takes one batch of new mail into the ledger and the queue.
func (rs *runState) fetchBatch(ctx context.Context, batch []mailbox.Item) error {
	st := rs.s.o.Store
	jobID := rs.j.ID
	now := rs.s.o.Now()

	// Skip what the ledger already has (a rerun after a crash, a rescan
	// after renumbering, POP3's full listing); put back on the queue what
	// never reached it.
	var want []mailbox.Item
	var requeue []ledger.Entry
	var oversized []ledger.Entry
	for _, it := range batch {
		key := it.Source.Key()
		e, err := st.Entry(ctx, jobID, key)
		switch {
		case err == nil:
			if e.State == ledger.Stored {
				requeue = append(requeue, e)
			}
			continue
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("job %s: look up %s in the ledger: %w", jobID, it.Source, err)
		}
		if max := int64(rs.j.Limits.MaxMessageSize); max > 0 && it.Size > max {
			oversized = append(oversized, ledger.Entry{
				JobID: jobID, Key: key, Source: it.Source, Size: it.Size, State: ledger.Failed,
				Reason: fmt.Sprintf("message is %d bytes, over limits.maxMessageSize (%d); not fetched", it.Size, max),
				RunID:  rs.r.ID, FetchedAt: now, UpdatedAt: now,
			})
			continue
		}
		want = append(want, it)
	}
	if len(oversized) > 0 {
		if _, err := st.Record(ctx, oversized); err != nil {
			return fmt.Errorf("job %s: record oversized messages: %w", jobID, err)
		}
		rs.r.Oversized += len(oversized)
		for _, e := range oversized {
			rs.log.Warn("message over the size limit", "ledgerKey", e.Key, "size", e.Size)
		}
	}

	var entries []ledger.Entry
	if len(want) > 0 {
		err := rs.sess.Fetch(ctx, want, func(it mailbox.Item, body io.Reader) error {
			if body == nil {
				rs.log.Info("message vanished before it was fetched", "source", it.Source.String())
				return nil
			}
			key := it.Source.Key()
			e := ledger.Entry{JobID: jobID, Key: key, Source: it.Source, State: ledger.Stored,
				RawKey: ledger.RawKey(jobID, key), RunID: rs.r.ID, FetchedAt: now, UpdatedAt: now}
			h := sha256.New()
			hs := &headSniffer{}
			n, err := rs.s.o.Blobs.Put(ctx, e.RawKey, io.TeeReader(body, io.MultiWriter(h, hs)))
			if err != nil {
				return fmt.Errorf("store raw %s: %w", it.Source, err)
			}
			e.Size = n
			e.MessageID = hs.messageID()
			e.Fingerprint = ledger.Fingerprint(e.MessageID, hex.EncodeToString(h.Sum(nil)))
			entries = append(entries, e)
			rs.r.Bytes += n
			return nil
		})
		if err != nil {
			return fmt.Errorf("job %s: fetch: %w", jobID, err)
		}
	}
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
		var dups []ledger.Entry
		for i, rr := range res {
			e := entries[i]
			switch {
			case rr.Err == nil:
				requeue = append(requeue, e)
				rs.r.Fetched++
			case errors.Is(rr.Err, store.ErrExists):
				// Another run took it between our look-up and now.
				if rr.Existing.State == ledger.Stored {
					requeue = append(requeue, rr.Existing)
				}
			case errors.Is(rr.Err, store.ErrDuplicate):
				// Same bytes under another identity: the server renumbered
				// the folder, or the message was copied. It is recorded so
				// its disposition follows, and processed once only.
				rs.log.Info("same message already taken", "ledgerKey", e.Key, "duplicateOf", rr.Existing.Key)
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
	return rs.enqueue(ctx, requeue)
}

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
	r := textproto.NewReader(bufio.NewReader(io.MultiReader(bytes.NewReader(h.buf.Bytes()), strings.NewReader("\r\n\r\n"))))
	hdr, _ := r.ReadMIMEHeader() // a broken header still gives what it could read
	id := strings.TrimSpace(hdr.Get("Message-Id"))
	id = strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	return id
}

// health keeps the job's consecutive-failure count and alerts the
// administrators when it reaches the job's threshold, and again on
// recovery. It returns the count including this run, before any reset.
func (s *Service) health(ctx context.Context, j *job.Job, r run.Run, runErr error, log *slog.Logger) int {
	st, err := s.o.Store.JobState(ctx, j.ID)
	if err != nil {
		log.Warn("read job state", "err", err)
		return 0
	}
	count := 0
	st.JobID = j.ID
	before := st
	if runErr == nil {
		if st.Alerted {
			s.notify(ctx, notify.Notice{Kind: "recovery", JobID: j.ID, To: j.Notifications.Admins,
				Subject: fmt.Sprintf("Mail job %q is fetching again", j.Name),
				Body:    fmt.Sprintf("Run %s of job %s succeeded after earlier failures.", r.ID, j.ID)}, log)
		}
		st.ConsecutiveFailures, st.Alerted, st.LastSuccess, st.LastError = 0, false, r.EndedAt, ""
	} else {
		st.ConsecutiveFailures++
		count = st.ConsecutiveFailures
		st.LastError = runErr.Error()
		if st.ConsecutiveFailures >= j.Notifications.ConnectionFailures {
			s.notify(ctx, notify.Notice{Kind: "alert", JobID: j.ID, To: j.Notifications.Admins,
				Subject: fmt.Sprintf("Mail job %q failed %d runs in a row", j.Name, st.ConsecutiveFailures),
				Body:    fmt.Sprintf("The last error was: %s", runErr)}, log)
			st.ConsecutiveFailures, st.Alerted = 0, true
		}
	}
	if runErr == nil && before.ConsecutiveFailures == 0 && !before.Alerted && before.LastError == "" && !before.LastSuccess.IsZero() &&
		st.LastSuccess.Sub(before.LastSuccess) < time.Hour {
		// Nothing an administrator would miss changed: spare the store a
		// write on every quiet run (LastSuccess is refreshed hourly).
		return count
	}
	if err := s.o.Store.PutJobState(ctx, st); err != nil {
		log.Warn("write job state", "err", err)
	}
	return count
}

func (s *Service) notify(ctx context.Context, n notify.Notice, log *slog.Logger) {
	if s.o.Notifier == nil {
		log.Warn("notice", "kind", n.Kind, "subject", n.Subject)
		return
	}
	if err := s.o.Notifier.Notify(ctx, n); err != nil {
		log.Error("send notice", "kind", n.Kind, "err", err)
	}
}

func newRunID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// parallel calls fn(0..n-1) on up to workers goroutines.
func parallel(n, workers int, fn func(i int)) {
	if n <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}
