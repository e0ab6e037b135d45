package handler_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mailconnector/shared/fetch"
	"mailconnector/shared/handler"
	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/queue/sqsqueue"
	"mailconnector/shared/run"
	"mailconnector/shared/store"
	"mailconnector/shared/testkit/localtest"
)

// switchStore is what the disable test reads and writes.
type switchStore interface {
	store.JobControls
	store.Runs
}

// assertDisabledRun invokes the job on its schedule and checks that the
// run ended at once as disabled, recorded with the reason, without
// opening the mailbox.
func assertDisabledRun(t *testing.T, h *handler.Fetch, st switchStore, opened *atomic.Int64) {
	t.Helper()
	ctx := context.Background()
	before := opened.Load()
	res, err := h.Handle(ctx, handler.SchedulerPayload{JobID: "support"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Run.Status != run.Disabled || !strings.Contains(res.Skipped, "disabled by ann@desk") || !strings.Contains(res.Skipped, "mailbox migration") {
		t.Errorf("got status %q, skipped %q; want disabled, naming who and why", res.Run.Status, res.Skipped)
	}
	if n := opened.Load() - before; n != 0 {
		t.Errorf("a disabled job's run opened its mailbox %d times, want 0", n)
	}
	runs, err := st.Runs(ctx, "support", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Status != run.Disabled {
		t.Errorf("got runs %+v, want the newest recorded as disabled", runs)
	}
}

func disable(t *testing.T, st store.JobControls) {
	t.Helper()
	c := store.JobControl{JobID: "support", Disabled: true, Reason: "mailbox migration", By: "ann@desk", At: time.Now()}
	if err := st.PutJobControl(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

func TestDisabledJobEndsAtOnceOnTheEmbeddedStore(t *testing.T) {
	st := localtest.Store(t, t.TempDir())
	jobs, err := job.Parse([]byte(`
jobs:
  - id: support
    server: {protocol: imap, host: 127.0.0.1, port: 1, security: none, auth: {secret: s}}
`))
	if err != nil {
		t.Fatal(err)
	}
	var opened atomic.Int64
	open := fetch.OpenerFunc(func(ctx context.Context, j *job.Job) (mailbox.Session, error) {
		opened.Add(1)
		return nil, &mailbox.ConnectError{Step: mailbox.StepTCP, Err: context.DeadlineExceeded}
	})
	svc := fetch.New(fetch.Options{Store: st, Opener: open})
	h := &handler.Fetch{Jobs: jobs, Runner: svc}
	disable(t, st)
	assertDisabledRun(t, h, st, &opened)

	// A forced run (connector run --job) runs anyway.
	if _, err := h.Handle(context.Background(), handler.SchedulerPayload{JobID: "support", Trigger: "manual", Force: true}); err == nil {
		t.Error("a forced run of a disabled job did not try its mailbox")
	}
	if opened.Load() != 1 {
		t.Errorf("a forced run opened the mailbox %d times, want 1", opened.Load())
	}
}

func TestDisabledJobEndsAtOnceOnDynamoDB(t *testing.T) {
	s := newStack(t, nil, nil)
	s.deliver(3, 7)
	var opened atomic.Int64
	svc := fetch.New(fetch.Options{Store: s.store, Blobs: s.blobs, Queue: sqsqueue.New(s.sqs, s.prepURL), Logger: s.log,
		Opener: fetch.OpenerFunc(func(ctx context.Context, j *job.Job) (mailbox.Session, error) {
			opened.Add(1)
			return s.open(ctx, j)
		})})
	h := &handler.Fetch{Jobs: s.jobs, Runner: svc, Logger: s.log}
	disable(t, s.store)
	assertDisabledRun(t, h, s.store, &opened)
	if cur, err := s.store.Cursor(context.Background(), "support"); err != nil || cur != "" {
		t.Errorf("a disabled run moved the cursor to %q (%v), want none", cur, err)
	}

	// Enabled again, the next scheduled run fetches.
	enable := store.JobControl{JobID: "support", By: "bob@desk", At: time.Now()}
	if err := s.store.PutJobControl(context.Background(), enable); err != nil {
		t.Fatal(err)
	}
	res, err := h.Handle(context.Background(), handler.SchedulerPayload{JobID: "support"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Run.Status == run.Disabled || res.Run.Fetched != 3 || opened.Load() != 1 {
		t.Errorf("after enable: got status %q, fetched %d, %d sessions; want 3 fetched in one session", res.Run.Status, res.Run.Fetched, opened.Load())
	}
}
