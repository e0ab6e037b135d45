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
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"mailconnector/shared/blob"
	"mailconnector/shared/job"
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
	store.JobControls
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
	AfterEnqueue    Step = "after-enqueue"     // pointers sent, cursor not advanced
	AfterMarkQueued Step = "after-mark-queued" // entries put back on the queue marked queued again
	BeforeDispose   Step = "before-dispose"    // outcome known, mailbox not yet told
	AfterDispose    Step = "after-dispose"     // mailbox told, ledger not yet marked disposed
	AfterCursor     Step = "after-cursor"      // cursor advanced past a batch
	BeforePurge     Step = "before-purge"      // dispositions recorded, nothing expunged
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
	// ErrorDetails keeps the details of each mail moved to the error
	// folder (reason, headers, raw .eml), sealed at rest (blob/sealed);
	// the plaintext copies of such a mail are then removed. nil: the
	// mail's raw copy stays as it is.
	ErrorDetails blob.Store
	Logger       *slog.Logger
	Now          func() time.Time
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
	// Progress, when set, is called after each batch of new mail.
	Progress func(Progress)
	// Throttle, when set, is called before each batch of new mail and may
	// wait: the local runner holds the fetch stage there while its
	// in-memory queues are full, so a backlog does not pile up in memory.
	Throttle func(context.Context) error
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

// RunOptions says how to run a job.
type RunOptions struct {
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
	// Force runs a disabled job (`connector run --job`); otherwise the
	// run of a job switched off (store.JobSwitch) ends at once as
	// run.Disabled.
	Force bool
	// Trace records the run's protocol conversation even when the job's
	// debug.trace is off.
	Trace bool
}

// Run runs one job: see the package comment. The returned Run is also
// stored; its More field says whether mail is left for a follow-up run.
// The error is non-nil when the run failed (connection, store, blob or
// queue trouble); message-level problems are recorded in the ledger and do
// not fail the run.
func (s *Service) Run(ctx context.Context, j *job.Job, req RunOptions) (run.Run, error) {
	now := s.o.Now()
	r := run.Run{JobID: j.ID, ID: newRunID(now), Trigger: req.Trigger, StartedAt: now, Status: run.Running}
	log := s.o.Logger.With("job", j.ID, "run", r.ID)
	deadline := req.Deadline
	if deadline.IsZero() || deadline.Sub(now) > j.Limits.MaxRunTime.D()+s.o.SafetyMargin {
		deadline = now.Add(j.Limits.MaxRunTime.D() + s.o.SafetyMargin)
	}
	// A quiet mailbox that is not due ends the scheduled run here, after
	// one read: no lease, no session, no run record (idle.go).
	if why, err := s.idle(ctx, j, req, now); err != nil {
		log.Warn("idle polling: poll anyway", "err", err)
	} else if why != "" {
		r.Status, r.EndedAt = run.Skipped, s.o.Now()
		r.Notes = append(r.Notes, why)
		log.Debug("run skipped", "reason", why)
		return r, nil
	}
	if !req.Force {
		if off, err := s.disabled(ctx, j, &r, log); off || err != nil {
			return r, err
		}
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
	ctx, rec := startTrace(ctx, j, req, now)
	err := rs.do(ctx)
	rs.noteKept()
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
	case err != nil && errors.Is(ctx.Err(), context.Canceled):
		// Ctrl-C or SIGTERM: not a failure. What was taken stays taken
		// and the cursor stands at the last safe point.
		r.Status = run.Interrupted
		r.Notes = append(r.Notes, fmt.Sprintf("stopped: %d taken, the next run resumes", r.Fetched))
		log.Warn("run interrupted", "fetched", r.Fetched)
	case err != nil:
		r.Status = run.Failed
		r.Errors = append(r.Errors, err.Error())
	case r.Status == run.Paused:
	case r.More:
		r.Status = run.Partial
	default:
		r.Status = run.OK
	}
	bg := context.WithoutCancel(ctx)
	s.saveTrace(bg, &r, rec, log)
	if r.Status != run.Interrupted {
		r.ConsecutiveFailures, r.Recovered = s.health(bg, j, r, err, log)
	}
	if perr := s.o.Store.PutRun(bg, r); perr != nil {
		log.Error("record run", "err", perr)
	}
	log.Info("run ended", "status", r.Status, "fetched", r.Fetched, "bytes", r.Bytes, "duplicates", r.Duplicates,
		"disposed", r.Disposed, "requeued", r.Requeued, "created", r.Created, "updated", r.Updated, "ignored", r.Ignored,
		"rejected", r.Rejected, "failed", r.Failed, "errorFolder", r.ErrorFolder, "more", r.More, "duration", r.Duration().String())
	return r, err
}

type runState struct {
	s        *Service
	j        *job.Job
	r        *run.Run
	log      *slog.Logger
	deadline time.Time
	req      RunOptions
	sess     mailbox.Session
	// keptErrors counts failed and rejected messages left on the server
	// because the job keeps them or their raw copy is not stored.
	keptErrors int
}

// noteKept reports the failed and rejected messages left on the server.
func (rs *runState) noteKept() {
	if rs.keptErrors > 0 {
		rs.r.Notes = append(rs.r.Notes, fmt.Sprintf("kept on server: %d failed or rejected messages (incoming.onError, or no raw copy stored)", rs.keptErrors))
	}
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
	if paused, err := rs.paused(ctx); err != nil || paused {
		if err == nil {
			err = rs.purge(ctx)
		}
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
	return rs.purge(ctx)
}
