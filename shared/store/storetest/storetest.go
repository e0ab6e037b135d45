// Package storetest is the conformance suite every store.Store adapter
// passes (boltstore, dynamostore), so the embedded store behaves as the AWS
// one does. An adapter's test calls Run with a Harness.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mailconnector/shared/ledger"
	"mailconnector/shared/message"
	"mailconnector/shared/request"
	"mailconnector/shared/run"
	"mailconnector/shared/store"
)

// Harness builds the stores the suite tests.
type Harness struct {
	// New returns a fresh, empty store for one subtest and closes it with
	// t.Cleanup. Subtests run one after another.
	New func(t *testing.T) store.Store
	// Advance moves the lease clock of the stores New returns forward by d.
	// When nil, the suite waits for real and uses LeaseTTL.
	Advance func(d time.Duration)
	// LeaseTTL is the lease lifetime the suite uses when Advance is nil
	// (a real wait); 1s when zero. Keep it as short as the adapter's clock
	// resolution allows.
	LeaseTTL time.Duration
}

// Run runs the whole suite.
func Run(t *testing.T, h Harness) {
	if h.New == nil {
		t.Fatal("storetest: Harness.New is nil")
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"Leases", testLeases},
		{"LeaseExpiry", testLeaseExpiry},
		{"LeaseHolder", testLeaseHolder},
		{"Cursors", testCursors},
		{"JobStates", testJobStates},
		{"JobControls", testJobControls},
		{"Subscriptions", testSubscriptions},
		{"PushPending", testPushPending},
		{"PushPendingConcurrently", testPushPendingConcurrently},
		{"OneTime", testOneTime},
		{"Quotas", testQuotas},
		{"QuotasConcurrently", testQuotasConcurrently},
		{"RecordAndEntry", testRecord},
		{"RecordBatch", testRecordBatch},
		{"Update", testUpdate},
		{"UpdateFinal", testUpdateFinal},
		{"Undisposed", testUndisposed},
		{"Unfinished", testUnfinished},
		{"ErrorFolder", testErrorFolder},
		{"ForgetJob", testForgetJob},
		{"Messages", testMessages},
		{"Runs", testRuns},
		{"CommitNewRequests", testCommitNewRequests},
		{"CommitConversationOnExisting", testCommitConversation},
		{"CommitRefused", testCommitRefused},
		{"CommitTwice", testCommitTwice},
		{"CommitSameEntryConcurrently", testCommitSameEntryConcurrently},
		{"CommitNumbersConcurrently", testCommitNumbersConcurrently},
		{"CommitLarge", testCommitLarge},
		{"LargeRun", testLargeRun},
		{"Outbox", testOutbox},
		{"ListRequests", testListRequests},
		{"MessageIDIndex", testMessageIDIndex},
		{"EntryByMessageID", testEntryByMessageID},
		{"ScheduleRecords", testScheduleRecords},
		{"NotFound", testNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, h) })
	}
}

// base is the suite's reference time, whole milliseconds so that adapters
// that keep milliseconds compare equal.
var base = time.Date(2025, 3, 14, 9, 26, 53, 589_000_000, time.UTC)

func at(minutes int) time.Time { return base.Add(time.Duration(minutes) * time.Minute) }

// newEntry is a fresh ledger entry of the job, fetched and updated at
// minute n, with a fingerprint unique to the key.
func newEntry(jobID, key string, n int) ledger.Entry {
	return ledger.Entry{
		JobID:       jobID,
		Key:         key,
		Source:      ledger.Source{Protocol: "imap", Folder: "INBOX", Validity: 7, UID: uint32(n + 1)},
		Fingerprint: ledger.Fingerprint("<"+key+"@example.com>", fmt.Sprintf("%064x", n+1)),
		MessageID:   "<" + key + "@example.com>",
		Size:        int64(1000 + n),
		RawKey:      "raw/" + jobID + "/" + key,
		State:       ledger.Queued,
		RunID:       "run-1",
		FetchedAt:   at(n),
		UpdatedAt:   at(n),
	}
}

func record(tb testing.TB, s store.Store, entries ...ledger.Entry) []ledger.Entry {
	tb.Helper()
	res, err := s.Record(context.Background(), entries)
	if err != nil {
		tb.Fatalf("Record: %v", err)
	}
	if len(res) != len(entries) {
		tb.Fatalf("Record: got %d results, want %d", len(res), len(entries))
	}
	out := make([]ledger.Entry, len(entries))
	for i, r := range res {
		if r.Err != nil {
			tb.Fatalf("Record %s: got %v, want nil", entries[i].Key, r.Err)
		}
		out[i] = entries[i]
		out[i].Version = 1
	}
	return out
}

func getEntry(tb testing.TB, s store.Store, jobID, key string) ledger.Entry {
	tb.Helper()
	e, err := s.Entry(context.Background(), jobID, key)
	if err != nil {
		tb.Fatalf("Entry(%s, %s): %v", jobID, key, err)
	}
	return e
}

func wantErr(tb testing.TB, what string, err, want error) {
	tb.Helper()
	if !errors.Is(err, want) {
		tb.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func noErr(tb testing.TB, what string, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
}

// atOnce calls f from n goroutines at once and counts the calls that
// answered true.
func atOnce(n int, f func() bool) int {
	var wg sync.WaitGroup
	var yes atomic.Int32
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if f() {
				yes.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(yes.Load())
}

func diff(tb testing.TB, what string, want, got any) {
	tb.Helper()
	if d := cmp.Diff(want, got); d != "" {
		tb.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

func keys(entries []ledger.Entry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Key
	}
	return out
}

func testLeases(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	const ttl = time.Hour
	noErr(t, "acquire free lease", s.AcquireLease(ctx, "job-a", "run-1", ttl))
	wantErr(t, "acquire held lease", s.AcquireLease(ctx, "job-a", "run-2", ttl), store.ErrLeaseHeld)
	noErr(t, "re-acquire own lease", s.AcquireLease(ctx, "job-a", "run-1", ttl))
	noErr(t, "acquire lease of another job", s.AcquireLease(ctx, "job-b", "run-2", ttl))
	noErr(t, "release by non-owner", s.ReleaseLease(ctx, "job-a", "run-2"))
	wantErr(t, "acquire after non-owner release", s.AcquireLease(ctx, "job-a", "run-2", ttl), store.ErrLeaseHeld)
	noErr(t, "release by owner", s.ReleaseLease(ctx, "job-a", "run-1"))
	noErr(t, "acquire released lease", s.AcquireLease(ctx, "job-a", "run-2", ttl))
	wantErr(t, "old owner re-acquires", s.AcquireLease(ctx, "job-a", "run-1", ttl), store.ErrLeaseHeld)
	noErr(t, "release lease never held", s.ReleaseLease(ctx, "job-c", "run-1"))
}

func testLeaseExpiry(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	ttl, wait := time.Minute, func(d time.Duration) { h.Advance(d) }
	if h.Advance == nil {
		ttl = h.LeaseTTL
		if ttl <= 0 {
			ttl = time.Second
		}
		wait = time.Sleep
	}
	noErr(t, "acquire", s.AcquireLease(ctx, "job-a", "run-1", ttl))
	wantErr(t, "acquire before expiry", s.AcquireLease(ctx, "job-a", "run-2", ttl), store.ErrLeaseHeld)
	wait(ttl + ttl/2)
	noErr(t, "acquire expired lease", s.AcquireLease(ctx, "job-a", "run-2", ttl))
	wantErr(t, "old owner after takeover", s.AcquireLease(ctx, "job-a", "run-1", ttl), store.ErrLeaseHeld)

	// Re-acquiring extends the lease from now.
	wait(ttl / 2)
	noErr(t, "renew", s.AcquireLease(ctx, "job-a", "run-2", ttl))
	wait(ttl * 3 / 4)
	wantErr(t, "acquire renewed lease", s.AcquireLease(ctx, "job-a", "run-1", ttl), store.ErrLeaseHeld)
}

func testCursors(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	c, err := s.Cursor(ctx, "job-a")
	noErr(t, "Cursor", err)
	if c != "" {
		t.Fatalf("Cursor of new job: got %q, want \"\"", c)
	}
	noErr(t, "SetCursor", s.SetCursor(ctx, "job-a", "7/42"))
	noErr(t, "SetCursor", s.SetCursor(ctx, "job-b", "b-cursor"))
	noErr(t, "SetCursor", s.SetCursor(ctx, "job-a", "7/43"))
	for job, want := range map[string]string{"job-a": "7/43", "job-b": "b-cursor"} {
		got, err := s.Cursor(ctx, job)
		noErr(t, "Cursor", err)
		if got != want {
			t.Errorf("Cursor(%s): got %q, want %q", job, got, want)
		}
	}
}

func testJobStates(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	st, err := s.JobState(ctx, "job-a")
	noErr(t, "JobState of new job", err)
	if st.ConsecutiveFailures != 0 || st.Alerted || !st.LastSuccess.IsZero() || st.LastError != "" {
		t.Fatalf("JobState of new job: got %+v, want the zero value", st)
	}
	want := store.JobState{JobID: "job-a", ConsecutiveFailures: 3, Alerted: true, LastSuccess: at(5), LastError: "connect: refused"}
	noErr(t, "PutJobState", s.PutJobState(ctx, want))
	noErr(t, "PutJobState other", s.PutJobState(ctx, store.JobState{JobID: "job-b", LastSuccess: at(9)}))
	got, err := s.JobState(ctx, "job-a")
	noErr(t, "JobState", err)
	diff(t, "JobState", want, got)
	want.ConsecutiveFailures, want.Alerted, want.LastError = 0, false, ""
	noErr(t, "PutJobState again", s.PutJobState(ctx, want))
	got, err = s.JobState(ctx, "job-a")
	noErr(t, "JobState", err)
	diff(t, "JobState after reset", want, got)
}

func testSubscriptions(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	if _, err := s.Subscription(ctx, "job-a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Subscription of a job without one: got %v, want ErrNotFound", err)
	}
	want := store.Subscription{JobID: "job-a", ID: "7f105c7d-2dc5-4530-97cd-4e7ae6534c07", Resource: "users/help@contoso.example/mailFolders('AQMk')/messages",
		ClientState: "c1", Expires: at(60 * 24 * 6), Created: at(1)}
	noErr(t, "PutSubscription", s.PutSubscription(ctx, want))
	noErr(t, "PutSubscription other", s.PutSubscription(ctx, store.Subscription{JobID: "job-b", ID: "other", ClientState: "c2", Expires: at(5)}))
	got, err := s.Subscription(ctx, "job-a")
	noErr(t, "Subscription", err)
	diff(t, "Subscription", want, got)
	want.ID, want.ClientState, want.Expires = "new-id", "c3", at(99)
	noErr(t, "PutSubscription replace", s.PutSubscription(ctx, want))
	got, err = s.Subscription(ctx, "job-a")
	noErr(t, "Subscription", err)
	diff(t, "Subscription after replace", want, got)
	noErr(t, "DeleteSubscription", s.DeleteSubscription(ctx, "job-a"))
	if _, err := s.Subscription(ctx, "job-a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Subscription after delete: got %v, want ErrNotFound", err)
	}
	noErr(t, "DeleteSubscription again", s.DeleteSubscription(ctx, "job-a"))
	if got, err := s.Subscription(ctx, "job-b"); err != nil || got.ID != "other" {
		t.Errorf("the other job's subscription: got %+v, %v", got, err)
	}
}

func testPushPending(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	const stale = 2 * time.Minute
	was, err := s.TakePushPending(ctx, "job-a")
	noErr(t, "TakePushPending of nothing", err)
	if was {
		t.Error("TakePushPending of nothing: got true")
	}
	first, err := s.MarkPushPending(ctx, "job-a", at(0), stale)
	noErr(t, "MarkPushPending", err)
	if !first {
		t.Error("first MarkPushPending: got false, want true")
	}
	if first, _ := s.MarkPushPending(ctx, "job-a", at(1), stale); first {
		t.Error("second MarkPushPending within the stale time: got true, want false (one fetch per burst)")
	}
	if first, _ := s.MarkPushPending(ctx, "job-b", at(1), stale); !first {
		t.Error("MarkPushPending of another job: got false, want true")
	}
	if first, _ := s.MarkPushPending(ctx, "job-a", at(3), stale); !first {
		t.Error("MarkPushPending after the stale time: got false, want true (the earlier fetch was lost)")
	}
	was, err = s.TakePushPending(ctx, "job-a")
	noErr(t, "TakePushPending", err)
	if !was {
		t.Error("TakePushPending: got false, want true")
	}
	if was, _ := s.TakePushPending(ctx, "job-a"); was {
		t.Error("TakePushPending again: got true, want false")
	}
	if first, _ := s.MarkPushPending(ctx, "job-a", at(4), stale); !first {
		t.Error("MarkPushPending after a take: got false, want true")
	}
}

func testPushPendingConcurrently(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	n := atOnce(8, func() bool {
		first, err := s.MarkPushPending(ctx, "job-a", at(0), time.Minute)
		if err != nil {
			t.Error(err)
		}
		return first
	})
	if n != 1 {
		t.Errorf("8 notifications at once: got %d first, want 1", n)
	}
}

func testOneTime(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	noErr(t, "PutOnce", s.PutOnce(ctx, "link#a", []byte("job-a"), at(10)))
	noErr(t, "PutOnce expired", s.PutOnce(ctx, "link#b", []byte("job-b"), at(10)))
	if _, err := s.TakeOnce(ctx, "link#none", at(0)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TakeOnce of nothing: got %v, want ErrNotFound", err)
	}
	got, err := s.TakeOnce(ctx, "link#a", at(5))
	noErr(t, "TakeOnce", err)
	if string(got) != "job-a" {
		t.Errorf("TakeOnce: got %q, want job-a", got)
	}
	if _, err := s.TakeOnce(ctx, "link#a", at(6)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TakeOnce again: got %v, want ErrNotFound (single use)", err)
	}
	if _, err := s.TakeOnce(ctx, "link#b", at(10)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TakeOnce at expiry: got %v, want ErrNotFound", err)
	}
	// Two takes at once: one gets it.
	noErr(t, "PutOnce", s.PutOnce(ctx, "state#c", []byte("v"), at(10)))
	got1 := atOnce(4, func() bool {
		_, err := s.TakeOnce(ctx, "state#c", at(1))
		return err == nil
	})
	if got1 != 1 {
		t.Errorf("4 takes at once: got %d values, want 1", got1)
	}
}

func testRecord(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	a := record(t, s, newEntry("job-a", "k1", 1))[0]
	diff(t, "Entry after Record", a, getEntry(t, s, "job-a", "k1"))

	sameKey := newEntry("job-a", "k1", 2)
	renumbered := newEntry("job-a", "k9", 9)
	renumbered.Fingerprint = a.Fingerprint
	otherJob := newEntry("job-b", "k1", 1) // same key and fingerprint, other job
	noFP := newEntry("job-a", "k3", 3)
	noFP.Fingerprint = ""
	noFP2 := newEntry("job-a", "k4", 4)
	noFP2.Fingerprint = ""

	res, err := s.Record(ctx, []ledger.Entry{sameKey, renumbered, otherJob, noFP, noFP2})
	noErr(t, "Record", err)
	tests := []struct {
		name         string
		err          error
		existingKey  string
		existingJob  string
		existingSize int64
	}{
		{name: "same key", err: store.ErrExists, existingJob: "job-a", existingKey: "k1", existingSize: a.Size},
		{name: "same fingerprint under another key", err: store.ErrDuplicate, existingJob: "job-a", existingKey: "k1", existingSize: a.Size},
		{name: "same key and fingerprint in another job"},
		{name: "no fingerprint"},
		{name: "second without fingerprint"},
	}
	if len(res) != len(tests) {
		t.Fatalf("Record: got %d results, want %d", len(res), len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := res[i]
			if !errors.Is(r.Err, tt.err) || (tt.err == nil) != (r.Err == nil) {
				t.Fatalf("got error %v, want %v", r.Err, tt.err)
			}
			if tt.err == nil {
				return
			}
			if r.Existing.JobID != tt.existingJob || r.Existing.Key != tt.existingKey || r.Existing.Size != tt.existingSize || r.Existing.Version != 1 {
				t.Errorf("Existing: got %s/%s size %d version %d, want %s/%s size %d version 1",
					r.Existing.JobID, r.Existing.Key, r.Existing.Size, r.Existing.Version, tt.existingJob, tt.existingKey, tt.existingSize)
			}
		})
	}
	// What was refused was not written; what was accepted was.
	diff(t, "Entry k1 after refused Record", a, getEntry(t, s, "job-a", "k1"))
	_, err = s.Entry(ctx, "job-a", "k9")
	wantErr(t, "Entry of refused duplicate", err, store.ErrNotFound)
	for _, k := range [][2]string{{"job-b", "k1"}, {"job-a", "k3"}, {"job-a", "k4"}} {
		if e := getEntry(t, s, k[0], k[1]); e.Version != 1 {
			t.Errorf("Entry %s/%s version: got %d, want 1", k[0], k[1], e.Version)
		}
	}
	res, err = s.Record(ctx, nil)
	noErr(t, "Record of nothing", err)
	if len(res) != 0 {
		t.Errorf("Record of nothing: got %d results, want 0", len(res))
	}
}

func testRecordBatch(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	var batch []ledger.Entry
	for i := range 100 {
		batch = append(batch, newEntry("job-a", fmt.Sprintf("k%03d", i), i))
	}
	dupFP := newEntry("job-a", "k-dup", 200)
	dupFP.Fingerprint = batch[10].Fingerprint
	dupKey := newEntry("job-a", "k020", 201)
	batch = append(batch, dupFP, dupKey)
	res, err := s.Record(ctx, batch)
	noErr(t, "Record batch", err)
	if len(res) != len(batch) {
		t.Fatalf("Record: got %d results, want %d", len(res), len(batch))
	}
	for i := range 100 {
		if res[i].Err != nil {
			t.Fatalf("entry %d: got %v, want nil", i, res[i].Err)
		}
	}
	wantErr(t, "fingerprint repeated within the batch", res[100].Err, store.ErrDuplicate)
	if res[100].Existing.Key != "k010" {
		t.Errorf("Existing of duplicate: got key %q, want k010", res[100].Existing.Key)
	}
	wantErr(t, "key repeated within the batch", res[101].Err, store.ErrExists)
	if res[101].Existing.Key != "k020" || res[101].Existing.Size != batch[20].Size {
		t.Errorf("Existing of repeated key: got %s size %d, want k020 size %d", res[101].Existing.Key, res[101].Existing.Size, batch[20].Size)
	}
	for _, i := range []int{0, 50, 99} {
		want := batch[i]
		want.Version = 1
		diff(t, "Entry "+want.Key, want, getEntry(t, s, "job-a", want.Key))
	}
}

func testUpdate(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	e := record(t, s, newEntry("job-a", "k1", 1))[0]

	next := e
	next.State, next.NormKey, next.UpdatedAt, next.Attempts = ledger.Preprocessed, "norm/k1", at(5), 1
	got, err := s.Update(ctx, next)
	noErr(t, "Update", err)
	want := next
	want.Version = 2
	diff(t, "Update result", want, got)
	diff(t, "Entry after Update", want, getEntry(t, s, "job-a", "k1"))

	stale := next // still Version 1
	stale.Attempts = 9
	_, err = s.Update(ctx, stale)
	wantErr(t, "Update with stale version", err, store.ErrConflict)
	diff(t, "Entry after conflict", want, getEntry(t, s, "job-a", "k1"))

	missing := newEntry("job-a", "nope", 3)
	missing.Version = 1
	_, err = s.Update(ctx, missing)
	wantErr(t, "Update of missing entry", err, store.ErrNotFound)
}

func testUpdateFinal(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	e := record(t, s, newEntry("job-a", "k1", 1))[0]
	e.State, e.Reason, e.UpdatedAt = ledger.Rejected, "sender not allowed", at(2)
	e, err := s.Update(ctx, e)
	noErr(t, "Update to an outcome", err)

	tests := []struct {
		name   string
		change func(e *ledger.Entry)
		want   error
	}{
		{"state", func(e *ledger.Entry) { e.State = ledger.Processed }, store.ErrFinal},
		{"back to queued", func(e *ledger.Entry) { e.State = ledger.Queued }, store.ErrFinal},
		{"reason", func(e *ledger.Entry) { e.Reason = "other" }, store.ErrFinal},
		{"request", func(e *ledger.Entry) { e.RequestID = "12" }, store.ErrFinal},
		{"attempts", func(e *ledger.Entry) { e.Attempts++ }, store.ErrFinal},
		{"nothing", func(e *ledger.Entry) {}, nil},
		{"updated at", func(e *ledger.Entry) { e.UpdatedAt = at(3) }, nil},
		{"disposition", func(e *ledger.Entry) { e.Disposition, e.UpdatedAt = "moved to Errors", at(4) }, nil},
		{"disposed", func(e *ledger.Entry) { e.Disposed = true }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := e
			tt.change(&next)
			got, err := s.Update(ctx, next)
			if tt.want != nil {
				wantErr(t, "Update", err, tt.want)
				diff(t, "Entry after refused Update", e, getEntry(t, s, "job-a", "k1"))
				return
			}
			noErr(t, "Update", err)
			want := next
			want.Version = e.Version + 1
			diff(t, "Update result", want, got)
			e = got
		})
	}
}

func testUndisposed(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	// Recorded out of time order; k5 and k6 have no outcome, k7 is disposed,
	// o1 belongs to another job.
	var entries []ledger.Entry
	for _, c := range []struct {
		key      string
		minute   int
		state    ledger.State
		disposed bool
	}{
		{"k3", 30, ledger.Processed, false},
		{"k1", 10, ledger.Rejected, false},
		{"k5", 5, ledger.Queued, false},
		{"k4", 40, ledger.Failed, false},
		{"k2", 20, ledger.Duplicate, false},
		{"k6", 1, ledger.Stored, false},
		{"k7", 2, ledger.Processed, true},
	} {
		e := newEntry("job-a", c.key, c.minute)
		e.State, e.Disposed = c.state, c.disposed
		entries = append(entries, e)
	}
	other := newEntry("job-b", "o1", 0)
	other.State = ledger.Processed
	entries = append(entries, other)
	record(t, s, entries...)

	tests := []struct {
		name  string
		limit int
		want  []string
	}{
		{"all", 100, []string{"k1", "k2", "k3", "k4"}},
		{"limit", 2, []string{"k1", "k2"}},
		{"limit one", 1, []string{"k1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Undisposed(ctx, "job-a", tt.limit)
			noErr(t, "Undisposed", err)
			diff(t, "Undisposed keys", tt.want, keys(got))
		})
	}
	got, err := s.Undisposed(ctx, "job-a", 1)
	noErr(t, "Undisposed", err)
	if len(got) == 1 {
		diff(t, "Undisposed entry", getEntry(t, s, "job-a", "k1"), got[0])
	}

	// Disposing k2 takes it out; an outcome for k5 puts it in, at its new time.
	k2 := getEntry(t, s, "job-a", "k2")
	k2.Disposed, k2.Disposition, k2.UpdatedAt = true, "deleted", at(50)
	_, err = s.Update(ctx, k2)
	noErr(t, "dispose k2", err)
	k5 := getEntry(t, s, "job-a", "k5")
	k5.State, k5.UpdatedAt = ledger.Processed, at(35)
	_, err = s.Update(ctx, k5)
	noErr(t, "outcome for k5", err)
	got, err = s.Undisposed(ctx, "job-a", 100)
	noErr(t, "Undisposed", err)
	diff(t, "Undisposed keys after updates", []string{"k1", "k3", "k5", "k4"}, keys(got))

	got, err = s.Undisposed(ctx, "job-none", 10)
	noErr(t, "Undisposed of unknown job", err)
	if len(got) != 0 {
		t.Errorf("Undisposed of unknown job: got %v, want none", keys(got))
	}
}

func testUnfinished(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	var entries []ledger.Entry
	for _, c := range []struct {
		key    string
		minute int
		state  ledger.State
	}{
		{"k3", 30, ledger.Preprocessed},
		{"k1", 10, ledger.Stored},
		{"k2", 20, ledger.Queued},
		{"k4", 40, ledger.Queued},
		{"k0", 5, ledger.Processed},
		{"k9", 90, ledger.Queued},
	} {
		e := newEntry("job-a", c.key, c.minute)
		e.State = c.state
		entries = append(entries, e)
	}
	entries = append(entries, newEntry("job-b", "o1", 1))
	record(t, s, entries...)

	tests := []struct {
		name   string
		before time.Time
		limit  int
		want   []string
	}{
		{"before minute 45", at(45), 100, []string{"k1", "k2", "k3", "k4"}},
		{"before is exclusive", at(30), 100, []string{"k1", "k2"}},
		{"limit", at(100), 3, []string{"k1", "k2", "k3"}},
		{"nothing old enough", at(10), 100, nil},
		{"all", at(1000), 100, []string{"k1", "k2", "k3", "k4", "k9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Unfinished(ctx, "job-a", tt.before, tt.limit)
			noErr(t, "Unfinished", err)
			if len(tt.want) == 0 && len(got) == 0 {
				return
			}
			diff(t, "Unfinished keys", tt.want, keys(got))
		})
	}

	// Touching k1 moves it to its new time; an outcome for k2 takes it out.
	k1 := getEntry(t, s, "job-a", "k1")
	k1.Attempts, k1.UpdatedAt = 1, at(35)
	_, err := s.Update(ctx, k1)
	noErr(t, "touch k1", err)
	k2 := getEntry(t, s, "job-a", "k2")
	k2.State, k2.Reason, k2.UpdatedAt = ledger.Failed, "gave up", at(36)
	_, err = s.Update(ctx, k2)
	noErr(t, "fail k2", err)
	got, err := s.Unfinished(ctx, "job-a", at(45), 100)
	noErr(t, "Unfinished", err)
	diff(t, "Unfinished keys after updates", []string{"k3", "k1", "k4"}, keys(got))
	und, err := s.Undisposed(ctx, "job-a", 100)
	noErr(t, "Undisposed", err)
	diff(t, "Undisposed keys", []string{"k0", "k2"}, keys(und))
}

func testRuns(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	mk := func(job, id string, minute int, st run.Status) run.Run {
		return run.Run{JobID: job, ID: id, Trigger: "schedule", StartedAt: at(minute), EndedAt: at(minute + 1), Status: st, Fetched: minute}
	}
	for _, r := range []run.Run{
		mk("job-a", "r2", 20, run.OK),
		mk("job-a", "r1", 10, run.Failed),
		mk("job-a", "r4", 40, run.Running),
		mk("job-a", "r3", 30, run.Partial),
		mk("job-b", "b1", 50, run.OK),
	} {
		noErr(t, "PutRun "+r.ID, s.PutRun(ctx, r))
	}
	ids := func(rs []run.Run) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = r.ID
		}
		return out
	}
	got, err := s.Runs(ctx, "job-a", 10)
	noErr(t, "Runs", err)
	diff(t, "Runs", []string{"r4", "r3", "r2", "r1"}, ids(got))
	if len(got) > 0 {
		diff(t, "newest run", mk("job-a", "r4", 40, run.Running), got[0])
	}
	got, err = s.Runs(ctx, "job-a", 2)
	noErr(t, "Runs", err)
	diff(t, "Runs with limit", []string{"r4", "r3"}, ids(got))

	// Upsert: the running run finishes; a re-put run with a new start moves.
	done := mk("job-a", "r4", 40, run.OK)
	done.Errors = []string{"fetch uid 9: timeout"}
	noErr(t, "PutRun again", s.PutRun(ctx, done))
	moved := mk("job-a", "r1", 45, run.OK)
	noErr(t, "PutRun moved", s.PutRun(ctx, moved))
	got, err = s.Runs(ctx, "job-a", 10)
	noErr(t, "Runs", err)
	diff(t, "Runs after upsert", []string{"r1", "r4", "r3", "r2"}, ids(got))
	if len(got) > 1 {
		diff(t, "upserted run", done, got[1])
	}
	got, err = s.Runs(ctx, "job-b", 10)
	noErr(t, "Runs", err)
	diff(t, "Runs of job-b", []string{"b1"}, ids(got))
	got, err = s.Runs(ctx, "job-none", 10)
	noErr(t, "Runs of unknown job", err)
	if len(got) != 0 {
		t.Errorf("Runs of unknown job: got %v, want none", ids(got))
	}
}

func newRequest(jobID, title string, minute int) *request.Request {
	return &request.Request{
		JobID:        jobID,
		Title:        title,
		Description:  "Body of " + title,
		Requester:    message.Address{Name: "Ann", Address: "ann@example.com"},
		Status:       request.Open,
		Priority:     "normal",
		Custom:       map[string]string{"site": "north"},
		Participants: []string{"ann@example.com", "support@example.com"},
		SourceKey:    "imap/INBOX/7/" + title,
		MessageID:    "<" + title + "@example.com>",
		CreatedAt:    at(minute),
		UpdatedAt:    at(minute),
	}
}

func newConversation(id, requestID string, minute int) *request.Conversation {
	return &request.Conversation{
		ID:        id,
		RequestID: requestID,
		JobID:     "job-a",
		From:      message.Address{Address: "ann@example.com"},
		Subject:   "Re: printer",
		Text:      "conversation " + id,
		Attachments: []message.Attachment{{
			Filename: "log.txt", SafeName: "log.txt", ContentType: "text/plain", Size: 12, BlobKey: "att/" + id,
		}},
		MessageID: "<" + id + "@example.com>",
		SourceKey: "imap/INBOX/7/" + id,
		CreatedAt: at(minute),
	}
}

// processed is e with the Processed outcome, as the rules stage sends it.
func processed(e ledger.Entry, minute int) ledger.Entry {
	e.State, e.UpdatedAt = ledger.Processed, at(minute)
	return e
}

func testCommitNewRequests(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	entries := record(t, s, newEntry("job-a", "k1", 1), newEntry("job-a", "k2", 2), newEntry("job-a", "k3", 3))
	for i, e := range entries {
		n := int64(i + 1)
		title := fmt.Sprintf("req%d", n)
		o := store.Outcome{
			Entry:        processed(e, 10+i),
			NewRequest:   newRequest("job-a", title, 10+i),
			Conversation: newConversation("c"+title, "", 10+i),
			MessageIDs:   []string{"<" + title + "@example.com>", "<ref-" + title + "@example.com>"},
		}
		got, err := s.Commit(ctx, o)
		noErr(t, "Commit "+e.Key, err)
		if got.NewRequest == nil {
			t.Fatalf("Commit %s: returned no NewRequest", e.Key)
		}
		wantReq := *o.NewRequest
		wantReq.Number, wantReq.ID = n, fmt.Sprint(n)
		diff(t, "returned request", wantReq, *got.NewRequest)
		if got.Conversation == nil || got.Conversation.RequestID != wantReq.ID {
			t.Fatalf("Commit %s: returned conversation %+v, want one on request %s", e.Key, got.Conversation, wantReq.ID)
		}
		wantEntry := o.Entry
		wantEntry.Version = 2
		wantEntry.RequestID = wantReq.ID
		wantEntry.Conversation = o.Conversation.ID
		diff(t, "returned entry", wantEntry, got.Entry)
		diff(t, "stored entry", wantEntry, getEntry(t, s, "job-a", e.Key))

		r, err := s.Request(ctx, wantReq.ID)
		noErr(t, "Request", err)
		diff(t, "Request", wantReq, r)
		r, err = s.RequestByNumber(ctx, n)
		noErr(t, "RequestByNumber", err)
		diff(t, "RequestByNumber", wantReq, r)
		for _, id := range o.MessageIDs {
			r, err = s.RequestByMessageID(ctx, id)
			noErr(t, "RequestByMessageID "+id, err)
			if r.ID != wantReq.ID {
				t.Errorf("RequestByMessageID(%s): got request %s, want %s", id, r.ID, wantReq.ID)
			}
		}
		convs, err := s.Conversations(ctx, wantReq.ID)
		noErr(t, "Conversations", err)
		wantConv := *o.Conversation
		wantConv.RequestID = wantReq.ID
		diff(t, "Conversations", []request.Conversation{wantConv}, convs)
	}
	und, err := s.Undisposed(ctx, "job-a", 10)
	noErr(t, "Undisposed", err)
	diff(t, "Undisposed after commits", []string{"k1", "k2", "k3"}, keys(und))
	unf, err := s.Unfinished(ctx, "job-a", at(1000), 10)
	noErr(t, "Unfinished", err)
	if len(unf) != 0 {
		t.Errorf("Unfinished after commits: got %v, want none", keys(unf))
	}
}

func testCommitConversation(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	entries := record(t, s, newEntry("job-a", "k1", 1), newEntry("job-a", "k2", 2), newEntry("job-a", "k3", 3))
	first, err := s.Commit(ctx, store.Outcome{
		Entry:        processed(entries[0], 10),
		NewRequest:   newRequest("job-a", "printer", 10),
		Conversation: newConversation("c1", "", 10),
		MessageIDs:   []string{"<printer@example.com>"},
	})
	noErr(t, "Commit new request", err)
	id := first.NewRequest.ID

	// A reply reopens the request and adds a conversation; the caller's
	// Number is ignored, the stored one kept.
	reopened := *first.NewRequest
	reopened.Status, reopened.Assignee, reopened.UpdatedAt, reopened.Number = request.Open, "bob", at(30), 99
	reply := newConversation("c2", id, 30)
	got, err := s.Commit(ctx, store.Outcome{
		Entry:         processed(entries[1], 30),
		UpdateRequest: &reopened,
		Conversation:  reply,
		MessageIDs:    []string{"<c2@example.com>"},
	})
	noErr(t, "Commit reply", err)
	if got.NewRequest != nil {
		t.Errorf("Commit reply: got NewRequest %+v, want none", got.NewRequest)
	}
	if got.Entry.RequestID != id || got.Entry.Conversation != "c2" || got.Entry.Version != 2 {
		t.Errorf("Commit reply entry: got request %q conversation %q version %d, want %q, c2, 2", got.Entry.RequestID, got.Entry.Conversation, got.Entry.Version, id)
	}
	wantReq := reopened
	wantReq.Number = first.NewRequest.Number
	r, err := s.Request(ctx, id)
	noErr(t, "Request", err)
	diff(t, "updated request", wantReq, r)
	r, err = s.RequestByNumber(ctx, first.NewRequest.Number)
	noErr(t, "RequestByNumber", err)
	diff(t, "updated request by number", wantReq, r)
	r, err = s.RequestByMessageID(ctx, "<c2@example.com>")
	noErr(t, "RequestByMessageID", err)
	if r.ID != id {
		t.Errorf("RequestByMessageID: got %s, want %s", r.ID, id)
	}

	// A conversation created earlier but committed later sorts by CreatedAt.
	late := newConversation("c0", id, 20)
	_, err = s.Commit(ctx, store.Outcome{Entry: processed(entries[2], 40), Conversation: late})
	noErr(t, "Commit late conversation", err)
	convs, err := s.Conversations(ctx, id)
	noErr(t, "Conversations", err)
	var ids []string
	for _, c := range convs {
		ids = append(ids, c.ID)
	}
	diff(t, "Conversations order", []string{"c1", "c0", "c2"}, ids)
	if len(convs) == 3 {
		diff(t, "reply conversation", *reply, convs[2])
	}
	all, err := s.ListRequests(ctx, "", 100)
	noErr(t, "ListRequests", err)
	if len(all) != 1 {
		t.Errorf("ListRequests: got %d requests, want 1", len(all))
	}
}

func testCommitRefused(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	entries := record(t, s, newEntry("job-a", "k1", 1), newEntry("job-a", "k2", 2))
	tests := []struct {
		name string
		o    store.Outcome
		want error
	}{
		{
			name: "stale version",
			o:    store.Outcome{Entry: func() ledger.Entry { e := processed(entries[0], 5); e.Version = 7; return e }(), NewRequest: newRequest("job-a", "x", 5)},
			want: store.ErrConflict,
		},
		{
			name: "missing entry",
			o:    store.Outcome{Entry: processed(newEntry("job-a", "nope", 5), 5), NewRequest: newRequest("job-a", "x", 5)},
			want: store.ErrNotFound,
		},
		{
			name: "update of missing request",
			o:    store.Outcome{Entry: processed(entries[0], 5), NewRequest: newRequest("job-a", "x", 5), UpdateRequest: &request.Request{ID: "404", JobID: "job-a"}},
			want: store.ErrNotFound,
		},
		{
			name: "conversation on missing request",
			o:    store.Outcome{Entry: processed(entries[0], 5), Conversation: newConversation("c1", "404", 5), MessageIDs: []string{"<c1@example.com>"}},
			want: store.ErrNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Commit(ctx, tt.o)
			wantErr(t, "Commit", err, tt.want)
		})
	}
	// Nothing of the refused outcomes was written.
	for _, e := range entries {
		diff(t, "entry after refused commits", e, getEntry(t, s, "job-a", e.Key))
	}
	all, err := s.ListRequests(ctx, "", 100)
	noErr(t, "ListRequests", err)
	if len(all) != 0 {
		t.Errorf("ListRequests after refused commits: got %d requests, want 0", len(all))
	}
	_, err = s.RequestByMessageID(ctx, "<c1@example.com>")
	wantErr(t, "RequestByMessageID after refused commit", err, store.ErrNotFound)

	// The numbering did not move.
	got, err := s.Commit(ctx, store.Outcome{Entry: processed(entries[1], 6), NewRequest: newRequest("job-a", "y", 6)})
	noErr(t, "Commit", err)
	if got.NewRequest.Number != 1 {
		t.Errorf("first committed request number: got %d, want 1", got.NewRequest.Number)
	}
}

func testCommitTwice(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	e := record(t, s, newEntry("job-a", "k1", 1))[0]
	o := store.Outcome{Entry: processed(e, 5), NewRequest: newRequest("job-a", "printer", 5), MessageIDs: []string{"<printer@example.com>"}}
	first, err := s.Commit(ctx, o)
	noErr(t, "first Commit", err)

	// Retried with the version it read first, or with the new one.
	for _, version := range []int64{e.Version, first.Entry.Version} {
		again := o
		again.Entry.Version = version
		again.NewRequest = newRequest("job-a", "printer again", 6)
		_, err = s.Commit(ctx, again)
		if !errors.Is(err, store.ErrFinal) && !errors.Is(err, store.ErrConflict) {
			t.Errorf("second Commit with version %d: got %v, want ErrFinal or ErrConflict", version, err)
		}
	}
	all, err := s.ListRequests(ctx, "", 100)
	noErr(t, "ListRequests", err)
	if len(all) != 1 {
		t.Fatalf("requests after committing twice: got %d, want 1", len(all))
	}
	diff(t, "entry after second commit", first.Entry, getEntry(t, s, "job-a", "k1"))
}

func testCommitSameEntryConcurrently(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	e := record(t, s, newEntry("job-a", "k1", 1))[0]
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = s.Commit(ctx, store.Outcome{
				Entry:      processed(e, 5),
				NewRequest: newRequest("job-a", fmt.Sprintf("attempt%d", i), 5),
				MessageIDs: []string{fmt.Sprintf("<attempt%d@example.com>", i)},
			})
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrFinal), errors.Is(err, store.ErrConflict):
		default:
			t.Errorf("Commit %d: got %v, want nil, ErrFinal or ErrConflict", i, err)
		}
	}
	if ok != 1 {
		t.Errorf("successful commits: got %d, want 1", ok)
	}
	all, err := s.ListRequests(ctx, "", 100)
	noErr(t, "ListRequests", err)
	if len(all) != 1 {
		t.Fatalf("requests: got %d, want 1", len(all))
	}
	stored := getEntry(t, s, "job-a", "k1")
	if stored.RequestID != all[0].ID || stored.Version != 2 {
		t.Errorf("entry: got request %q version %d, want %q version 2", stored.RequestID, stored.Version, all[0].ID)
	}
	indexed := 0
	for i := range n {
		_, err := s.RequestByMessageID(ctx, fmt.Sprintf("<attempt%d@example.com>", i))
		if err == nil {
			indexed++
		}
	}
	if indexed != 1 {
		t.Errorf("indexed message ids: got %d, want 1", indexed)
	}
}

func testCommitNumbersConcurrently(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	const n = 50
	var entries []ledger.Entry
	for i := range n {
		entries = append(entries, newEntry("job-a", fmt.Sprintf("k%02d", i), i))
	}
	entries = record(t, s, entries...)
	var wg sync.WaitGroup
	numbers := make([]int64, n)
	for i, e := range entries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := s.Commit(ctx, store.Outcome{Entry: processed(e, 60), NewRequest: newRequest("job-a", e.Key, 60)})
			if err != nil {
				t.Errorf("Commit %s: %v", e.Key, err)
				return
			}
			numbers[i] = got.NewRequest.Number
			if got.NewRequest.ID != fmt.Sprint(got.NewRequest.Number) {
				t.Errorf("Commit %s: got ID %q for number %d, want the number", e.Key, got.NewRequest.ID, got.NewRequest.Number)
			}
			if got.Entry.RequestID != got.NewRequest.ID {
				t.Errorf("Commit %s: entry names request %q, want %q", e.Key, got.Entry.RequestID, got.NewRequest.ID)
			}
		}()
	}
	wg.Wait()
	sort.Slice(numbers, func(i, j int) bool { return numbers[i] < numbers[j] })
	want := make([]int64, n)
	for i := range want {
		want[i] = int64(i + 1)
	}
	diff(t, "request numbers", want, numbers)
	all, err := s.ListRequests(ctx, "job-a", 0)
	noErr(t, "ListRequests", err)
	if len(all) != n {
		t.Errorf("ListRequests with limit 0: got %d, want %d", len(all), n)
	}
}

func testListRequests(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	var entries []ledger.Entry
	jobs := []string{"job-a", "job-b", "job-a", "job-a", "job-b"}
	for i, job := range jobs {
		entries = append(entries, newEntry(job, fmt.Sprintf("k%d", i), i))
	}
	entries = record(t, s, entries...)
	for i, e := range entries {
		_, err := s.Commit(ctx, store.Outcome{Entry: processed(e, 10), NewRequest: newRequest(e.JobID, e.Key, 10-i)})
		noErr(t, "Commit", err)
	}
	numbers := func(rs []request.Request) []int64 {
		out := make([]int64, len(rs))
		for i, r := range rs {
			out[i] = r.Number
		}
		return out
	}
	tests := []struct {
		name  string
		job   string
		limit int
		want  []int64
	}{
		{"all jobs", "", 10, []int64{5, 4, 3, 2, 1}},
		{"all jobs limited", "", 2, []int64{5, 4}},
		{"one job", "job-a", 10, []int64{4, 3, 1}},
		{"one job limited", "job-b", 1, []int64{5}},
		{"unknown job", "job-none", 10, []int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListRequests(ctx, tt.job, tt.limit)
			noErr(t, "ListRequests", err)
			diff(t, "request numbers", tt.want, numbers(got))
			for _, r := range got {
				if tt.job != "" && r.JobID != tt.job {
					t.Errorf("request %s: got job %s, want %s", r.ID, r.JobID, tt.job)
				}
			}
		})
	}
}

func testMessageIDIndex(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	e := record(t, s, newEntry("job-a", "k1", 1), newEntry("job-a", "k2", 2))
	first, err := s.Commit(ctx, store.Outcome{Entry: processed(e[0], 5), NewRequest: newRequest("job-a", "one", 5), MessageIDs: []string{"<one@example.com>"}})
	noErr(t, "Commit", err)
	second, err := s.Commit(ctx, store.Outcome{Entry: processed(e[1], 6), NewRequest: newRequest("job-a", "two", 6)})
	noErr(t, "Commit", err)

	noErr(t, "IndexMessageID", s.IndexMessageID(ctx, "<notice-1@connector>", first.NewRequest.ID))
	noErr(t, "IndexMessageID", s.IndexMessageID(ctx, "<notice-2@connector>", second.NewRequest.ID))
	// Re-indexing points the Message-ID at the new request.
	noErr(t, "IndexMessageID again", s.IndexMessageID(ctx, "<notice-1@connector>", second.NewRequest.ID))
	tests := []struct {
		name, messageID, want string
	}{
		{"from commit", "<one@example.com>", first.NewRequest.ID},
		{"notice", "<notice-2@connector>", second.NewRequest.ID},
		{"re-indexed notice", "<notice-1@connector>", second.NewRequest.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := s.RequestByMessageID(ctx, tt.messageID)
			noErr(t, "RequestByMessageID", err)
			if r.ID != tt.want {
				t.Errorf("got request %s, want %s", r.ID, tt.want)
			}
		})
	}
	wantErr(t, "IndexMessageID to missing request", s.IndexMessageID(ctx, "<x@connector>", "404"), store.ErrNotFound)
	_, err = s.RequestByMessageID(ctx, "<x@connector>")
	wantErr(t, "RequestByMessageID after refused index", err, store.ErrNotFound)
}

func testEntryByMessageID(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	a, b, c := newEntry("job-a", "k1", 1), newEntry("job-a", "k2", 2), newEntry("job-b", "k1", 3)
	a.MessageID, b.MessageID, c.MessageID = "m1@example.com", "m2@example.com", "m1@example.com"
	record(t, s, a, b, c)
	got, err := s.EntryByMessageID(ctx, "job-a", "m1@example.com")
	noErr(t, "EntryByMessageID", err)
	if got.Key != "k1" || got.JobID != "job-a" {
		t.Errorf("EntryByMessageID: got %s/%s, want job-a/k1", got.JobID, got.Key)
	}
	// A later entry with the same Message-ID does not replace the first.
	d := newEntry("job-a", "k3", 4)
	d.MessageID = "m1@example.com"
	record(t, s, d)
	got, err = s.EntryByMessageID(ctx, "job-a", "m1@example.com")
	noErr(t, "EntryByMessageID", err)
	if got.Key != "k1" {
		t.Errorf("EntryByMessageID after a second entry: got %s, want k1", got.Key)
	}
	_, err = s.EntryByMessageID(ctx, "job-a", "nope@example.com")
	wantErr(t, "EntryByMessageID of an unknown Message-ID", err, store.ErrNotFound)
	_, err = s.EntryByMessageID(ctx, "job-c", "m1@example.com")
	wantErr(t, "EntryByMessageID of another job", err, store.ErrNotFound)
	// A Message-ID is compared exactly: not in another case, and not
	// with the sender address of an entry that has the same spelling.
	_, err = s.EntryByMessageID(ctx, "job-a", "M1@Example.com")
	wantErr(t, "EntryByMessageID in another case", err, store.ErrNotFound)
	e := newEntry("job-a", "k4", 5)
	e.MessageID, e.From = "m5@example.com", "ann@example.com"
	record(t, s, e)
	_, err = s.EntryByMessageID(ctx, "job-a", "ann@example.com")
	wantErr(t, "EntryByMessageID of a sender address", err, store.ErrNotFound)
	got, err = s.EntryByMessageID(ctx, "job-a", "m5@example.com")
	noErr(t, "EntryByMessageID", err)
	if got.Key != "k4" {
		t.Errorf("EntryByMessageID of m5: got %s, want k4", got.Key)
	}
}

func testNotFound(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	tests := []struct {
		name string
		call func() error
	}{
		{"Entry", func() error { _, err := s.Entry(ctx, "job-a", "nope"); return err }},
		{"Request", func() error { _, err := s.Request(ctx, "1"); return err }},
		{"RequestByNumber", func() error { _, err := s.RequestByNumber(ctx, 1); return err }},
		{"RequestByMessageID", func() error { _, err := s.RequestByMessageID(ctx, "<none@example.com>"); return err }},
		{"Update", func() error {
			e := newEntry("job-a", "nope", 1)
			e.Version = 1
			_, err := s.Update(ctx, e)
			return err
		}},
		{"IndexMessageID", func() error { return s.IndexMessageID(ctx, "<a@example.com>", "1") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantErr(t, tt.name, tt.call(), store.ErrNotFound) })
	}
	convs, err := s.Conversations(ctx, "1")
	noErr(t, "Conversations of unknown request", err)
	if len(convs) != 0 {
		t.Errorf("Conversations of unknown request: got %d, want 0", len(convs))
	}
}
