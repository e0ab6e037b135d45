// Package ticker is the local stand-in for EventBridge Scheduler: it fires
// each enabled job at each run time of its schedule (job.Schedule.Next),
// never runs one job twice at once, and lets the caller edit, disable and
// enable schedules while it runs, as an administrator does in the
// EventBridge console. The clock is injectable, so tests drive it without
// sleeping.
package ticker

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"mailconnector/shared/job"
)

// Options configure a Ticker; nil or zero fields take the defaults.
type Options struct {
	// Now reads the clock (default time.Now).
	Now func() time.Time
	// After waits for a duration (default time.After). The ticker keeps
	// at most one wait outstanding: each call supersedes the previous one.
	After func(d time.Duration) <-chan time.Time
	// Logger receives skipped ticks and schedule problems (default slog.Default()).
	Logger *slog.Logger
}

// Ticker fires jobs on their schedules. Its methods are safe for
// concurrent use; run one Run at a time.
type Ticker struct {
	now   func() time.Time
	after func(time.Duration) <-chan time.Time
	log   *slog.Logger

	mu      sync.Mutex
	entries map[string]*entry
	wake    chan struct{}
}

type entry struct {
	schedule    job.Schedule
	scheduleSet bool // by Set or Run
	enabled     bool
	stateSet    bool // by Disable or Enable: Run keeps it
	dirty       bool // next needs computing
	next        time.Time
	hasNext     bool
	running     bool
}

// New returns a Ticker.
func New(opts *Options) *Ticker {
	t := &Ticker{
		now:     time.Now,
		after:   time.After,
		log:     slog.Default(),
		entries: map[string]*entry{},
		wake:    make(chan struct{}, 1),
	}
	if opts != nil {
		if opts.Now != nil {
			t.now = opts.Now
		}
		if opts.After != nil {
			t.after = opts.After
		}
		if opts.Logger != nil {
			t.log = opts.Logger
		}
	}
	return t
}

// entry returns the entry of jobID, creating a disabled one; t.mu is held.
func (t *Ticker) entry(jobID string) *entry {
	e := t.entries[jobID]
	if e == nil {
		e = &entry{}
		t.entries[jobID] = e
	}
	return e
}

func (t *Ticker) poke() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// Set replaces the schedule of jobID; its next run is computed from now.
// A job the ticker does not know yet is added, enabled. An invalid
// schedule is refused and the old one kept. Set before Run takes
// precedence over the schedule in the jobs given to Run.
func (t *Ticker) Set(jobID string, s job.Schedule) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("ticker: set schedule of job %q: %w", jobID, err)
	}
	t.mu.Lock()
	e, known := t.entries[jobID]
	if !known {
		e = t.entry(jobID)
		e.enabled = true
	}
	e.schedule, e.scheduleSet, e.dirty = s, true, true
	t.mu.Unlock()
	t.poke()
	return nil
}

// Disable stops firing jobID until Enable; a run in progress goes on.
func (t *Ticker) Disable(jobID string) {
	t.mu.Lock()
	e := t.entry(jobID)
	e.enabled, e.stateSet = false, true
	t.mu.Unlock()
	t.poke()
}

// Enable fires jobID again, from its next run time after now.
func (t *Ticker) Enable(jobID string) {
	t.mu.Lock()
	e := t.entry(jobID)
	e.enabled, e.stateSet, e.dirty = true, true, true
	t.mu.Unlock()
	t.poke()
}

// Running reports whether a fire of jobID is in progress.
func (t *Ticker) Running(jobID string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entries[jobID]
	return e != nil && e.running
}

// Run fires each enabled job at each of its schedule's run times, calling
// fire in a goroutine of its own with ctx. A tick that comes while the
// previous fire of the same job is still running is skipped and logged.
// Disabled jobs never fire. After a pause of the clock (a laptop asleep)
// a job fires once, not once per missed time. Run returns when ctx is done,
// after every fire it started has returned.
func (t *Ticker) Run(ctx context.Context, jobs []*job.Job, fire func(ctx context.Context, jobID string)) {
	t.mu.Lock()
	for _, j := range jobs {
		e := t.entry(j.ID)
		if !e.scheduleSet {
			e.schedule, e.scheduleSet, e.dirty = j.Schedule, true, true
		}
		if !e.stateSet {
			e.enabled = j.IsEnabled()
		}
	}
	t.mu.Unlock()

	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		if ctx.Err() != nil {
			return
		}
		now := t.now()
		wait, ok := t.tick(ctx, now, &wg, fire)
		var timer <-chan time.Time
		if ok {
			timer = t.after(wait)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.wake:
		case <-timer:
		}
	}
}

// tick starts the fires due at now and returns how long to wait for the
// next one, false when no job has one.
func (t *Ticker) tick(ctx context.Context, now time.Time, wg *sync.WaitGroup, fire func(context.Context, string)) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var earliest time.Time
	found := false
	for id, e := range t.entries {
		if !e.enabled || !e.scheduleSet {
			continue
		}
		if e.dirty {
			e.dirty = false
			t.advance(id, e, now)
		} else if e.hasNext && !e.next.After(now) {
			if e.running {
				t.log.Warn("ticker: skipped tick, the previous run is still going", "job", id, "due", e.next)
			} else {
				t.start(ctx, id, e, wg, fire)
			}
			t.advance(id, e, now)
		}
		if e.hasNext && (!found || e.next.Before(earliest)) {
			earliest, found = e.next, true
		}
	}
	if !found {
		return 0, false
	}
	return earliest.Sub(now), true
}

// advance sets the next run time of e after now; t.mu is held.
func (t *Ticker) advance(id string, e *entry, now time.Time) {
	e.next, e.hasNext = e.schedule.Next(now)
	if !e.hasNext {
		if err := e.schedule.Validate(); err != nil {
			t.log.Error("ticker: invalid schedule, the job will not run", "job", id, "error", err)
		} else {
			t.log.Info("ticker: schedule has no further run times", "job", id)
		}
	}
}

// start fires e in a goroutine; t.mu is held.
func (t *Ticker) start(ctx context.Context, id string, e *entry, wg *sync.WaitGroup, fire func(context.Context, string)) {
	e.running = true
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer func() {
			if r := recover(); r != nil {
				t.log.Error("ticker: run panicked", "job", id, "panic", fmt.Sprint(r))
			}
			t.mu.Lock()
			e.running = false
			t.mu.Unlock()
		}()
		t.log.Debug("ticker: fire", "job", id)
		fire(ctx, id)
	}()
}
