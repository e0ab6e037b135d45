package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"mailconnector/shared/ledger"
	"mailconnector/shared/run"
	"mailconnector/shared/store"
)

// testForgetJob: ForgetJob removes one job's cursor and ledger entries
// with every index that finds them, so the same messages record afresh;
// the job's runs and the other jobs stay; forgetting again finds nothing.
func testForgetJob(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	pending := newEntry("job-a", "a1", 1)
	undisposed := newEntry("job-a", "a2", 2)
	undisposed.State = ledger.Processed
	undisposed.Describe("ann@example.com", "Ann", "Printer", at(2), "")
	inErrors := newEntry("job-a", "a3", 3)
	inErrors.State, inErrors.Disposed, inErrors.InErrorFolder, inErrors.Disposition = ledger.Rejected, true, true, "move Errors"
	other := newEntry("job-b", "b1", 4)
	other.MessageID = undisposed.MessageID // the same mail in both mailboxes
	record(t, s, pending, undisposed, inErrors, other)
	noErr(t, "SetCursor job-a", s.SetCursor(ctx, "job-a", "7:3"))
	noErr(t, "SetCursor job-b", s.SetCursor(ctx, "job-b", "9:4"))
	r := run.Run{JobID: "job-a", ID: "run-1", Trigger: "manual", Status: run.OK, StartedAt: at(1), EndedAt: at(2)}
	noErr(t, "PutRun", s.PutRun(ctx, r))

	got, err := s.ForgetJob(ctx, "job-a")
	noErr(t, "ForgetJob", err)
	diff(t, "ForgetJob", store.Forgotten{Entries: 3, Cursor: true}, got)

	for _, k := range []string{"a1", "a2", "a3"} {
		if _, err := s.Entry(ctx, "job-a", k); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Entry %s after ForgetJob: got %v, want ErrNotFound", k, err)
		}
	}
	type lister struct {
		name string
		list func() ([]ledger.Entry, error)
	}
	lists := []lister{
		{"Undisposed", func() ([]ledger.Entry, error) { return s.Undisposed(ctx, "job-a", 0) }},
		{"Unfinished", func() ([]ledger.Entry, error) { return s.Unfinished(ctx, "job-a", at(100), 0) }},
		{"ErrorFolder", func() ([]ledger.Entry, error) { return s.ErrorFolder(ctx, "job-a", 0) }},
	}
	if m, ok := s.(store.Messages); ok {
		lists = append(lists,
			lister{"Messages", func() ([]ledger.Entry, error) { return m.Messages(ctx, store.MessageQuery{JobID: "job-a"}) }},
			lister{"FindMessages by sender", func() ([]ledger.Entry, error) { return m.FindMessages(ctx, "ann@example.com", 0) }})
	}
	for _, l := range lists {
		es, err := l.list()
		noErr(t, l.name+" after ForgetJob", err)
		if len(es) != 0 {
			t.Errorf("%s after ForgetJob: got %v, want none", l.name, keys(es))
		}
	}
	if _, err := s.EntryByMessageID(ctx, "job-a", undisposed.MessageID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("EntryByMessageID after ForgetJob: got %v, want ErrNotFound", err)
	}
	if c, err := s.Cursor(ctx, "job-a"); err != nil || c != "" {
		t.Errorf("Cursor after ForgetJob: got %q, %v; want none", c, err)
	}
	if runs, err := s.Runs(ctx, "job-a", 0); err != nil || len(runs) != 1 {
		t.Errorf("Runs after ForgetJob: got %d, %v; want the one run kept", len(runs), err)
	}

	// The job's other mailbox, untouched.
	diff(t, "other job's entry", other.Key, getEntry(t, s, "job-b", "b1").Key)
	if e, err := s.EntryByMessageID(ctx, "job-b", other.MessageID); err != nil || e.Key != "b1" {
		t.Errorf("other job's EntryByMessageID: got %v, %v", e.Key, err)
	}
	if c, err := s.Cursor(ctx, "job-b"); err != nil || c != "9:4" {
		t.Errorf("other job's cursor: got %q, %v; want 9:4", c, err)
	}

	// Fetched again, the same messages are new: no key or fingerprint of
	// theirs is left.
	again := []ledger.Entry{newEntry("job-a", "a1", 1), newEntry("job-a", "a2", 2), newEntry("job-a", "a3", 3)}
	record(t, s, again...)
	un, err := s.Unfinished(ctx, "job-a", at(100), 0)
	noErr(t, "Unfinished after recording again", err)
	diff(t, "Unfinished after recording again", []string{"a1", "a2", "a3"}, keys(un))

	noErr(t, "ForgetJob again", func() error { _, err := s.ForgetJob(ctx, "job-a"); return err }())
	got, err = s.ForgetJob(ctx, "job-a")
	noErr(t, "ForgetJob of a forgotten job", err)
	diff(t, "ForgetJob of a forgotten job", store.Forgotten{}, got)
	if _, err := s.ForgetJob(ctx, ""); err == nil {
		t.Error("ForgetJob without a job: got no error")
	}
}

// testLeaseHolder: Lease names who holds a job's lease, until it is
// released.
func testLeaseHolder(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	if _, err := s.Lease(ctx, "job-a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Lease of a job without one: got %v, want ErrNotFound", err)
	}
	noErr(t, "AcquireLease", s.AcquireLease(ctx, "job-a", "run-7", time.Hour))
	if err := s.AcquireLease(ctx, "job-a", "reset-1", time.Hour); !errors.Is(err, store.ErrLeaseHeld) {
		t.Fatalf("AcquireLease by another owner: got %v, want ErrLeaseHeld", err)
	}
	l, err := s.Lease(ctx, "job-a")
	noErr(t, "Lease", err)
	if l.Owner != "run-7" || l.Expires.IsZero() {
		t.Errorf("Lease: got %+v, want owner run-7 and its expiry", l)
	}
	noErr(t, "ReleaseLease", s.ReleaseLease(ctx, "job-a", "run-7"))
	if _, err := s.Lease(ctx, "job-a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Lease after ReleaseLease: got %v, want ErrNotFound", err)
	}
}
