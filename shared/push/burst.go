package push

import (
	"context"
	"log/slog"
	"time"
)

// Pending is the part of the store that holds a job's pending mark.
type Pending interface {
	MarkPushPending(ctx context.Context, jobID string, now time.Time, stale time.Duration) (first bool, err error)
	TakePushPending(ctx context.Context, jobID string) (was bool, err error)
}

// RunEnd is how a fetch run ended, as far as the burst protocol cares.
type RunEnd int

const (
	// Done: the run left no mail behind.
	Done RunEnd = iota
	// More: the run left mail behind; its follow-up continues.
	More
	// Held: another run holds the job; this one did nothing.
	Held
)

// Burst is the fetch side of collapsing a burst of notifications into one
// fetch (see the package comment); the notification side is Service.Notify.
type Burst struct {
	Store  Pending
	Logger *slog.Logger
	Now    func() time.Time
}

// Run runs one fetch of the job inside the protocol. It clears the job's
// pending mark as the run starts, since the run's scan covers every
// notification so far. When another run holds the job and this one was
// started by a notification (trigger "push"), it marks the job pending
// again, since the run in progress may have scanned before this
// notification's mail. When the run ends with no mail left and a
// notification came meanwhile, it calls again to start one more run and
// reports continued; with no again the mark stays for the next run. A
// failed run, or a nil b, only runs. Failures of the
// mark are logged: the job's schedule is the safety net.
func (b *Burst) Run(ctx context.Context, jobID, trigger string, run func(context.Context) (RunEnd, error), again func(context.Context) error) (continued bool, err error) {
	if b == nil || b.Store == nil {
		_, err := run(ctx)
		return false, err
	}
	log := b.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("job", jobID)
	if _, err := b.Store.TakePushPending(ctx, jobID); err != nil {
		log.Warn("clear pending notifications", "err", err)
	}
	end, err := run(ctx)
	if err != nil {
		return false, err
	}
	switch end {
	case Held:
		if trigger == "push" {
			now := time.Now
			if b.Now != nil {
				now = b.Now
			}
			if _, err := b.Store.MarkPushPending(ctx, jobID, now(), StaleAfter); err != nil {
				log.Warn("mark pending notification", "err", err)
			}
		}
		return false, nil
	case More:
		return false, nil
	}
	if again == nil {
		return false, nil // the mark stays for the next run
	}
	was, err := b.Store.TakePushPending(ctx, jobID)
	if err != nil {
		log.Warn("read pending notifications", "err", err)
		return false, nil
	}
	if !was {
		return false, nil
	}
	// A notification came while this run went on.
	if err := again(ctx); err != nil {
		log.Error("invoke a run for notifications that came during this one", "err", err)
		return false, nil
	}
	return true, nil
}
