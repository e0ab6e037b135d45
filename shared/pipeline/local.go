// Package pipeline wires the stages together for one process: the local
// runner behind `connector run`. Fetch runs on the scheduler's ticks (or
// once), and workers consume the preprocess and rules queues the way the
// Lambda event source mappings do on AWS: at least once, with a visibility
// timeout, and a dead-letter queue whose messages are recorded as failed.
package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"mailconnector/shared/consume"
	"mailconnector/shared/fetch"
	"mailconnector/shared/job"
	"mailconnector/shared/queue"
	"mailconnector/shared/run"
	"mailconnector/shared/store"
)

// Handler handles one pointer from a queue.
type Handler = consume.Stage

// Queue is a queue the runner consumes, with its size.
type Queue interface {
	queue.Queue
	Len() int
}

// Options configure a Local runner. Every field up to Rules is required.
type Options struct {
	Jobs       *job.File
	Store      store.Store
	Fetch      *fetch.Service
	Preprocess Handler
	Rules      Handler
	// The queues: PreprocessDLQ and RulesDLQ receive what the others gave up on.
	PreprocessQueue, RulesQueue, PreprocessDLQ, RulesDLQ Queue
	Logger                                               *slog.Logger
	// Workers per queue (default 4).
	Workers int
	// Visibility hides a received message this long (default 30s): a
	// failed message comes back after it.
	Visibility time.Duration
}

// Local runs the whole pipeline in one process.
type Local struct {
	o        Options
	inflight atomic.Int64
	workers  atomic.Int64 // queue workers running
}

// maxQueued is how many messages the in-memory queues hold before the
// fetch stage waits for the workers (throttle): fetching runs ahead of
// processing, and a backlog of tens of thousands queued at once kept the
// heap growing with it until the collector ran without pause.
const maxQueued = 1000

// throttle waits while the queues hold maxQueued messages or more and
// workers consume them; without workers (fetch only) it does not wait. It
// gives up waiting when the queues stop going down for a minute.
func (l *Local) throttle(ctx context.Context) error {
	least, since := -1, time.Now()
	for l.workers.Load() > 0 {
		n := l.o.PreprocessQueue.Len() + l.o.RulesQueue.Len()
		if n < maxQueued {
			return nil
		}
		switch {
		case least < 0 || n < least:
			least, since = n, time.Now()
		case time.Since(since) > time.Minute:
			return nil // the queues stopped going down: fetch on
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// New returns a Local runner.
func New(o Options) *Local {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Workers == 0 {
		o.Workers = 4
	}
	if o.Visibility == 0 {
		o.Visibility = 30 * time.Second
	}
	return &Local{o: o}
}

// Fetch is the fetch stage the runner runs jobs with: for retries and
// clearing the error folder, whose messages its workers then process.
func (l *Local) Fetch() *fetch.Service { return l.o.Fetch }

// Start starts the queue workers; they stop when ctx is done. Wait for
// them with the returned function.
func (l *Local) Start(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	start := func(q Queue, n int, h func(context.Context, consume.Delivery) consume.Verdict) {
		for i := 0; i < n; i++ {
			wg.Add(1)
			l.workers.Add(1)
			go func() {
				defer wg.Done()
				defer l.workers.Add(-1)
				l.consume(ctx, q, h)
			}()
		}
	}
	stage := func(name string, h Handler) func(context.Context, consume.Delivery) consume.Verdict {
		return consume.New(consume.Options{Name: name, Stage: h, Ledger: l.o.Store, Logger: l.o.Logger, Visibility: l.o.Visibility}).Consume
	}
	dead := &consume.DeadLetter{Ledger: l.o.Store, Logger: l.o.Logger}
	deadLetter := func(name string) func(context.Context, consume.Delivery) consume.Verdict {
		return func(ctx context.Context, d consume.Delivery) consume.Verdict { return dead.Consume(ctx, name, d) }
	}
	start(l.o.PreprocessQueue, l.o.Workers, stage("preprocess", l.o.Preprocess))
	start(l.o.RulesQueue, l.o.Workers, stage("rules", l.o.Rules))
	start(l.o.PreprocessDLQ, 1, deadLetter("preprocess"))
	start(l.o.RulesDLQ, 1, deadLetter("rules"))
	return wg.Wait
}

// consume receives from q and hands each delivery to h, which keeps it
// hidden while it works when q can extend a delivery's visibility.
func (l *Local) consume(ctx context.Context, q Queue, h func(context.Context, consume.Delivery) consume.Verdict) {
	ext, _ := q.(queue.Extender)
	for ctx.Err() == nil {
		ds, err := q.Receive(ctx, 10, 200*time.Millisecond, l.o.Visibility)
		if err != nil {
			if ctx.Err() == nil {
				l.o.Logger.Error("receive", "err", err)
				time.Sleep(100 * time.Millisecond)
			}
			continue
		}
		for _, d := range ds {
			l.inflight.Add(1)
			cd := consume.Delivery{ID: d.ID, Body: d.Body, ReceiveCount: d.ReceiveCount, Receipt: d.Receipt, Queue: ext}
			if h(ctx, cd) == consume.Delete {
				if err := q.Delete(context.WithoutCancel(ctx), d.Receipt); err != nil {
					l.o.Logger.Error("delete from queue", "err", err)
				}
			}
			l.inflight.Add(-1)
		}
	}
}

// Idle reports whether every queue is empty and no message is in hand.
func (l *Local) Idle() bool {
	return l.inflight.Load() == 0 && l.o.PreprocessQueue.Len() == 0 && l.o.RulesQueue.Len() == 0 &&
		l.o.PreprocessDLQ.Len() == 0 && l.o.RulesDLQ.Len() == 0
}

// Drain waits until the queues are empty and no message is in hand. A
// message is counted by its queue until it is deleted, and a handler sends
// it on before that, so it is never in neither; a redrive to a dead-letter
// queue is the one move that is not atomic, hence two looks.
func (l *Local) Drain(ctx context.Context) error {
	idle := 0
	for {
		if l.Idle() {
			idle++
			if idle >= 2 {
				return nil
			}
		} else {
			idle = 0
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// FetchJob runs the fetch stage of one job until no mail is left, without
// waiting for the messages to be processed: what it queued is processed by
// whoever consumes the queues (in a new process: the next run, which puts
// it back on the queue).
func (l *Local) FetchJob(ctx context.Context, j *job.Job, trigger string) ([]run.Run, error) {
	return l.FetchJobWith(ctx, j, fetch.RunOptions{Trigger: trigger})
}

// FetchJobWith is FetchJob with the first run's options; the follow-up
// runs keep its Force and Trace.
func (l *Local) FetchJobWith(ctx context.Context, j *job.Job, req fetch.RunOptions) ([]run.Run, error) {
	var runs []run.Run
	for {
		r, err := l.o.Fetch.Run(ctx, j, req)
		runs = append(runs, r)
		if err != nil || !r.More {
			return runs, err
		}
		req = fetch.RunOptions{Trigger: "continue", Force: req.Force, Trace: req.Trace}
	}
}

// RunJob runs one job until no mail is left (following up partial runs),
// waits for the queues to drain, and applies the dispositions. Workers
// must be started.
func (l *Local) RunJob(ctx context.Context, j *job.Job, trigger string, requeueAll bool) ([]run.Run, error) {
	return l.RunJobWith(ctx, j, fetch.RunOptions{Trigger: trigger, RequeueAll: requeueAll})
}

// RunJobWith is RunJob with the first run's options; the follow-up runs
// keep its Force and Trace. A disabled job's run ends at once (run.Disabled),
// as does the scheduled run of a quiet mailbox not yet due (run.Skipped),
// and nothing else touches its mailbox.
func (l *Local) RunJobWith(ctx context.Context, j *job.Job, req fetch.RunOptions) ([]run.Run, error) {
	var runs []run.Run
	for {
		r, err := l.o.Fetch.Run(ctx, j, req)
		runs = append(runs, r)
		if err != nil || r.Status == run.Disabled || r.Status == run.Skipped {
			// Switched off, or a quiet mailbox not yet due
			// (schedule.idleEvery): nothing else touches the mailbox.
			return runs, err
		}
		if !r.More {
			break
		}
		req = fetch.RunOptions{Trigger: "continue", Force: req.Force, Trace: req.Trace}
	}
	if err := l.Drain(ctx); err != nil {
		return runs, err
	}
	// Tell the mailbox what became of the mail processed meanwhile; when
	// there is nothing to tell, spare it a second session.
	if pending, err := l.o.Store.Undisposed(ctx, j.ID, 1); err != nil || len(pending) == 0 {
		return runs, err
	}
	r, err := l.o.Fetch.Dispose(ctx, j)
	if err != nil {
		return runs, fmt.Errorf("job %s: apply dispositions: %w", j.ID, err)
	}
	if r.Disposed > 0 {
		runs = append(runs, r)
	}
	return runs, nil
}
