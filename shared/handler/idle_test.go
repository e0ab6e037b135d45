package handler

import (
	"context"
	"testing"

	"mailconnector/shared/run"
)

// TestFetchQuietMailboxNotDue: a scheduled run that the fetch stage ended
// at once (a quiet mailbox not yet due, job schedule.idleEvery) is a skip
// with its reason, starts no follow-up and writes no metrics.
func TestFetchQuietMailboxNotDue(t *testing.T) {
	const why = "nothing new since 2026-12-01T08:00:00Z: the mailbox is polled every 15m once nothing came for 1h (schedule.idleEvery), next after 2026-12-01T09:15:00Z"
	inv := &fakeInvoker{}
	h := &Fetch{Jobs: testJobs(t), Invoker: inv,
		Runner: &fakeRunner{fn: func() (run.Run, error) { return run.Run{Status: run.Skipped, Notes: []string{why}}, nil }}}
	res, err := h.Handle(context.Background(), SchedulerPayload{JobID: "support"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != why || res.Continue || len(inv.payloads) != 0 {
		t.Errorf("got skipped %q, continued %v, %d invocations; want skipped %q and nothing more", res.Skipped, res.Continue, len(inv.payloads), why)
	}
}
