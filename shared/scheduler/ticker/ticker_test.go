package ticker_test

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/scheduler/ticker"
)

// fakeClock is a hand-driven clock. The ticker keeps one wait outstanding,
// so the clock remembers the deadline of the latest After call.
type fakeClock struct {
	mu       sync.Mutex
	now      time.Time
	calls    int
	deadline time.Time
	waiters  []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(tb testing.TB, start string) *fakeClock {
	tb.Helper()
	t, err := time.Parse(time.RFC3339, start)
	if err != nil {
		tb.Fatalf("parse %q: %v", start, err)
	}
	return &fakeClock{now: t}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	ch := make(chan time.Time, 1)
	c.deadline = c.now.Add(d)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{at: c.deadline, ch: ch})
	return ch
}

func (c *fakeClock) Calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

func (c *fakeClock) Deadline() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deadline
}

// Advance moves the clock to t and wakes the waits that are due.
func (c *fakeClock) Advance(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(t) {
			kept = append(kept, w)
			continue
		}
		w.ch <- t
	}
	c.waiters = kept
}

// waitCalls waits until the ticker has called After n times, that is, until
// it has handled what woke it and is waiting again.
func waitCalls(tb testing.TB, c *fakeClock, n int) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.Calls() < n {
		if time.Now().After(deadline) {
			tb.Fatalf("ticker made %d After calls, want %d", c.Calls(), n)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// step moves the clock to the ticker's deadline and waits until the ticker
// waits again; it returns the deadline.
func step(tb testing.TB, c *fakeClock) time.Time {
	tb.Helper()
	n := c.Calls()
	d := c.Deadline()
	c.Advance(d)
	waitCalls(tb, c, n+1)
	return d
}

// waitIdle waits until no fire of ids is running, so that the next step
// does not see a fire that has sent its id but not yet returned.
func waitIdle(tb testing.TB, tk *ticker.Ticker, ids ...string) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for slices.ContainsFunc(ids, tk.Running) {
		if time.Now().After(deadline) {
			tb.Fatalf("fires of %v still running", ids)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// expectFires receives the ids fired at one step.
func expectFires(tb testing.TB, fired <-chan string, want ...string) {
	tb.Helper()
	var got []string
	timeout := time.After(5 * time.Second)
	for len(got) < len(want) {
		select {
		case id := <-fired:
			got = append(got, id)
		case <-timeout:
			tb.Fatalf("got fires %v, want %v", got, want)
		}
	}
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		tb.Fatalf("got fires %v, want %v", got, want)
	}
}

func expectNoMoreFires(tb testing.TB, fired <-chan string) {
	tb.Helper()
	select {
	case id := <-fired:
		tb.Fatalf("got an unexpected fire of %q", id)
	default:
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newJob(id string, enabled bool, s job.Schedule) *job.Job {
	return &job.Job{ID: id, Enabled: &enabled, Schedule: s}
}

func every(d time.Duration) job.Schedule { return job.Schedule{Every: job.Duration(d)} }

type harness struct {
	clock  *fakeClock
	ticker *ticker.Ticker
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan struct{}
}

func start(tb testing.TB, jobs []*job.Job, fire func(ctx context.Context, id string), before func(*ticker.Ticker)) *harness {
	tb.Helper()
	h := &harness{clock: newFakeClock(tb, "2026-03-02T08:00:30Z"), logs: &syncBuffer{}, done: make(chan struct{})}
	h.ticker = ticker.New(&ticker.Options{
		Now:    h.clock.Now,
		After:  h.clock.After,
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if before != nil {
		before(h.ticker)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		defer close(h.done)
		h.ticker.Run(ctx, jobs, fire)
	}()
	tb.Cleanup(func() {
		cancel()
		<-h.done
	})
	waitCalls(tb, h.clock, 1)
	return h
}

func (h *harness) stop(tb testing.TB) {
	tb.Helper()
	h.cancel()
	select {
	case <-h.done:
	case <-time.After(5 * time.Second):
		tb.Fatal("Run did not return after cancel")
	}
}

func TestRunFiresEnabledJobsOnTheirSchedule(t *testing.T) {
	fired := make(chan string, 100)
	jobs := []*job.Job{
		newJob("a", true, every(5*time.Minute)),
		newJob("b", true, every(10*time.Minute)),
		newJob("off", false, every(time.Minute)),
		newJob("disabled-before-run", true, every(time.Minute)),
		newJob("invalid", true, every(7*time.Minute)),
		newJob("berlin", true, job.Schedule{At: "09:12", TimeZone: "Europe/Berlin"}),
	}
	h := start(t, jobs, func(_ context.Context, id string) { fired <- id }, func(tk *ticker.Ticker) { tk.Disable("disabled-before-run") })

	steps := []struct {
		at   string
		want []string
	}{
		{"2026-03-02T08:05:00Z", []string{"a"}},
		{"2026-03-02T08:10:00Z", []string{"a", "b"}},
		{"2026-03-02T08:12:00Z", []string{"berlin"}},
		{"2026-03-02T08:15:00Z", []string{"a"}},
		{"2026-03-02T08:20:00Z", []string{"a", "b"}},
	}
	for _, s := range steps {
		at := step(t, h.clock)
		if got := at.UTC().Format(time.RFC3339); got != s.at {
			t.Fatalf("got tick at %s, want %s", got, s.at)
		}
		expectFires(t, fired, s.want...)
		waitIdle(t, h.ticker, s.want...)
	}
	h.stop(t)
	expectNoMoreFires(t, fired)
	if !strings.Contains(h.logs.String(), "job=invalid") {
		t.Errorf("got logs %q, want the invalid schedule of job invalid logged", h.logs.String())
	}
}

func TestRunSkipsTickWhilePreviousRunIsGoing(t *testing.T) {
	fired := make(chan string, 100)
	release := make(chan struct{})
	var mu sync.Mutex
	active, maxActive, calls := 0, 0, 0
	fire := func(_ context.Context, id string) {
		mu.Lock()
		active++
		calls++
		maxActive = max(maxActive, active)
		first := calls == 1
		mu.Unlock()
		fired <- id
		if first {
			<-release
		}
		mu.Lock()
		active--
		mu.Unlock()
	}
	h := start(t, []*job.Job{newJob("a", true, every(5*time.Minute))}, fire, nil)

	step(t, h.clock) // 08:05: fires, blocks
	expectFires(t, fired, "a")
	step(t, h.clock) // 08:10: still running, skipped
	expectNoMoreFires(t, fired)
	if !strings.Contains(h.logs.String(), "skipped tick") || !strings.Contains(h.logs.String(), "job=a") {
		t.Errorf("got logs %q, want a skipped tick of job a", h.logs.String())
	}
	if !h.ticker.Running("a") {
		t.Errorf("got Running(a) = false during the first run, want true")
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for h.ticker.Running("a") {
		if time.Now().After(deadline) {
			t.Fatal("the first run did not finish")
		}
		time.Sleep(100 * time.Microsecond)
	}
	if at := step(t, h.clock); at.Minute() != 15 {
		t.Fatalf("got tick at %s, want 08:15", at)
	}
	expectFires(t, fired, "a")
	h.stop(t)
	mu.Lock()
	defer mu.Unlock()
	if calls != 2 || maxActive != 1 {
		t.Errorf("got %d calls with at most %d at once, want 2 with at most 1", calls, maxActive)
	}
}

func TestRunWaitsForRunningFires(t *testing.T) {
	fired := make(chan string, 1)
	release := make(chan struct{})
	sawCancel := make(chan bool, 1)
	fire := func(ctx context.Context, id string) {
		fired <- id
		<-ctx.Done()
		sawCancel <- ctx.Err() != nil
		<-release
	}
	h := start(t, []*job.Job{newJob("a", true, every(5*time.Minute))}, fire, nil)
	step(t, h.clock)
	expectFires(t, fired, "a")

	h.cancel()
	if !<-sawCancel {
		t.Fatal("got a fire context that was not cancelled, want it cancelled")
	}
	select {
	case <-h.done:
		t.Fatal("got Run returned while a fire was running, want it to wait")
	case <-time.After(5 * time.Millisecond):
	}
	close(release)
	h.stop(t)
}

func TestSetDisableEnableWhileRunning(t *testing.T) {
	fired := make(chan string, 100)
	jobs := []*job.Job{
		newJob("keep", true, every(time.Hour)),
		newJob("a", true, every(5*time.Minute)),
	}
	h := start(t, jobs, func(_ context.Context, id string) { fired <- id }, nil)
	edit := func(f func()) {
		t.Helper()
		n := h.clock.Calls()
		f()
		waitCalls(t, h.clock, n+1)
	}
	wantDeadline := func(want string) {
		t.Helper()
		if got := h.clock.Deadline().UTC().Format(time.RFC3339); got != want {
			t.Fatalf("got next tick at %s, want %s", got, want)
		}
	}

	step(t, h.clock) // 08:05
	expectFires(t, fired, "a")
	waitIdle(t, h.ticker, "a")

	edit(func() { h.ticker.Disable("a") })
	wantDeadline("2026-03-02T09:00:00Z")
	edit(func() {
		if err := h.ticker.Set("a", every(time.Minute)); err != nil {
			t.Fatalf("got error %v, want none", err)
		}
	})
	wantDeadline("2026-03-02T09:00:00Z") // still disabled
	edit(func() { h.ticker.Enable("a") })
	wantDeadline("2026-03-02T08:06:00Z")
	step(t, h.clock)
	expectFires(t, fired, "a")
	waitIdle(t, h.ticker, "a")

	edit(func() {
		if err := h.ticker.Set("b", job.Schedule{Expression: "rate(2 minutes)"}); err != nil {
			t.Fatalf("got error %v, want none", err)
		}
	})
	if err := h.ticker.Set("b", every(7*time.Minute)); err == nil {
		t.Fatal("got no error for an invalid schedule, want one")
	}
	step(t, h.clock) // 08:07
	expectFires(t, fired, "a")
	waitIdle(t, h.ticker, "a")
	step(t, h.clock) // 08:08
	expectFires(t, fired, "a", "b")
	waitIdle(t, h.ticker, "a", "b")

	edit(func() { h.ticker.Disable("a") })
	edit(func() { h.ticker.Disable("b") })
	wantDeadline("2026-03-02T09:00:00Z")
	step(t, h.clock)
	expectFires(t, fired, "keep")
	h.stop(t)
	expectNoMoreFires(t, fired)
}

func TestRunWithoutEnabledJobsWaitsForEdits(t *testing.T) {
	fired := make(chan string, 10)
	clock := newFakeClock(t, "2026-03-02T08:00:30Z")
	tk := ticker.New(&ticker.Options{Now: clock.Now, After: clock.After, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tk.Run(ctx, []*job.Job{newJob("a", false, every(time.Minute))}, func(_ context.Context, id string) { fired <- id })
	}()
	tk.Enable("a")
	waitCalls(t, clock, 1)
	step(t, clock)
	expectFires(t, fired, "a")
	cancel()
	<-done
}
