package storetest

import (
	"context"
	"testing"

	"mailconnector/shared/ledger"
)

// testErrorFolder: the entries whose message sits in the error folder are
// listed per job, oldest first, and leave the list when moved back or
// cleared; that is a change to the disposition an outcome still allows.
func testErrorFolder(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	var entries []ledger.Entry
	for i, key := range []string{"e3", "e1", "e2", "ok"} {
		e := newEntry("job-a", key, []int{30, 10, 20, 5}[i])
		e.State = ledger.Rejected
		entries = append(entries, e)
	}
	other := newEntry("job-b", "o1", 1)
	other.State = ledger.Failed
	record(t, s, append(entries, other)...)

	toErrorFolder := func(jobID, key string, minute int) {
		t.Helper()
		e := getEntry(t, s, jobID, key)
		e.Disposed, e.Disposition, e.InErrorFolder, e.UpdatedAt = true, "move Connector Errors", true, at(minute)
		_, err := s.Update(ctx, e)
		noErr(t, "move "+key+" to the error folder", err)
	}
	toErrorFolder("job-a", "e3", 33)
	toErrorFolder("job-a", "e1", 31)
	toErrorFolder("job-a", "e2", 32)
	toErrorFolder("job-b", "o1", 34)
	ok := getEntry(t, s, "job-a", "ok")
	ok.Disposed, ok.Disposition, ok.UpdatedAt = true, "markRead", at(35)
	_, err := s.Update(ctx, ok)
	noErr(t, "dispose ok", err)

	got, err := s.ErrorFolder(ctx, "job-a", 0)
	noErr(t, "ErrorFolder", err)
	diff(t, "ErrorFolder keys", []string{"e1", "e2", "e3"}, keys(got))
	got, err = s.ErrorFolder(ctx, "job-a", 2)
	noErr(t, "ErrorFolder", err)
	diff(t, "ErrorFolder keys, limit 2", []string{"e1", "e2"}, keys(got))
	if len(got) > 0 {
		diff(t, "ErrorFolder entry", getEntry(t, s, "job-a", "e1"), got[0])
	}

	e1 := getEntry(t, s, "job-a", "e1")
	e1.InErrorFolder, e1.Disposition, e1.UpdatedAt = false, "move Connector Errors; moved back", at(40)
	_, err = s.Update(ctx, e1)
	noErr(t, "move e1 back", err)
	got, err = s.ErrorFolder(ctx, "job-a", 0)
	noErr(t, "ErrorFolder", err)
	diff(t, "ErrorFolder keys after a move back", []string{"e2", "e3"}, keys(got))

	got, err = s.ErrorFolder(ctx, "job-none", 0)
	noErr(t, "ErrorFolder of unknown job", err)
	if len(got) != 0 {
		t.Errorf("ErrorFolder of unknown job: got %v, want none", keys(got))
	}
}
