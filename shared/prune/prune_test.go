package prune_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mailconnector/shared/blob/fileblob"
	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/prune"
	"mailconnector/shared/store/boltstore"
	"mailconnector/shared/testkit/localtest"
)

const jobsYAML = `
jobs:
  - id: support
    server: {protocol: imap, host: mail.example.com, security: tls, auth: {secret: s}}
    retention: {rawDays: 30, normalizedDays: 90}
  - id: sales
    server: {protocol: imap, host: mail.example.com, security: tls, auth: {secret: s}}
`

// state is a state directory's blobs and ledger at a fixed now.
type state struct {
	dir   string
	blobs *fileblob.Store
	store *boltstore.Store
	now   time.Time
}

func newState(t *testing.T) *state {
	t.Helper()
	dir := t.TempDir()
	blobs := localtest.Blobs(t, dir)
	st := localtest.Store(t, dir)
	return &state{dir: filepath.Join(dir, "blobs"), blobs: blobs, store: st, now: time.Now()}
}

// put writes the object key, daysOld days before now.
func (s *state) put(t *testing.T, key string, daysOld int) {
	t.Helper()
	if _, err := s.blobs.Put(context.Background(), key, strings.NewReader("bytes of "+key)); err != nil {
		t.Fatal(err)
	}
	at := s.now.Add(-time.Duration(daysOld)*24*time.Hour - time.Minute)
	if err := os.Chtimes(filepath.Join(s.dir, filepath.FromSlash(key)), at, at); err != nil {
		t.Fatal(err)
	}
}

// message records a ledger entry of the job in state st (disposed when
// disposed) and writes its raw, normalized and attachment objects, each
// daysOld days old.
func (s *state) message(t *testing.T, jobID, key string, st ledger.State, disposed bool, daysOld int) ledger.Entry {
	t.Helper()
	e := ledger.Entry{JobID: jobID, Key: key, State: st, RawKey: ledger.RawKey(jobID, key), NormKey: ledger.NormKey(jobID, key),
		Fingerprint: key, FetchedAt: s.now.AddDate(0, 0, -daysOld), UpdatedAt: s.now.AddDate(0, 0, -daysOld)}
	e.Disposed = disposed
	if _, err := s.store.Record(context.Background(), []ledger.Entry{e}); err != nil {
		t.Fatal(err)
	}
	s.put(t, e.RawKey, daysOld)
	s.put(t, e.NormKey, daysOld)
	s.put(t, ledger.AttachmentPrefix(jobID, key)+"0-report.pdf", daysOld)
	return e
}

func (s *state) exists(key string) bool {
	_, err := os.Stat(filepath.Join(s.dir, filepath.FromSlash(key)))
	return err == nil
}

// TestPruneKeepsWhatPendingMessagesNeed: objects past their job's
// retention go, class by class; those of a message that is not final
// stay whatever their age, saying why; a dry run removes nothing.
func TestPruneKeepsWhatPendingMessagesNeed(t *testing.T) {
	s := newState(t)
	jobs, err := job.Parse([]byte(jobsYAML))
	if err != nil {
		t.Fatal(err)
	}
	done := s.message(t, "support", "imap/INBOX/1/1", ledger.Processed, true, 40)    // raw past 30 days, normalized within 90
	old := s.message(t, "support", "imap/INBOX/1/2", ledger.Processed, true, 100)    // everything past
	pending := s.message(t, "support", "imap/INBOX/1/3", ledger.Queued, false, 100)  // waits in a queue
	waiting := s.message(t, "support", "imap/INBOX/1/4", ledger.Rejected, false, 40) // outcome not applied on the server
	young := s.message(t, "support", "imap/INBOX/1/5", ledger.Processed, true, 5)
	sales := s.message(t, "sales", "imap/INBOX/9/1", ledger.Processed, true, 40) // the defaults: 30 and 365 days
	s.put(t, "raw/removed-job/abc.eml", 40)                                      // a job no longer in the file: the longest, 30 and 365
	s.put(t, "norm/removed-job/abc.json", 40)
	s.put(t, "traces/support/run-1.txt", 40)
	s.put(t, "err/support/abc/message.eml", 400) // sealed error details: no retention
	pendingRaw := pending.RawKey

	run := func(dry bool) prune.Report {
		t.Helper()
		rep, err := prune.Run(context.Background(), prune.Options{Dir: s.dir, Blobs: s.blobs, Jobs: jobs, Ledger: s.store,
			Now: func() time.Time { return s.now }, DryRun: dry})
		if err != nil {
			t.Fatalf("prune (dry run %v): %v", dry, err)
		}
		return rep
	}
	// bytes is the size of the objects put wrote.
	bytes := func(keys ...string) int64 {
		var n int64
		for _, k := range keys {
			n += int64(len("bytes of " + k))
		}
		return n
	}
	want := prune.Report{Jobs: []prune.Job{
		{ID: "removed-job", Gone: true, Retention: job.Retention{RawDays: 30, NormalizedDays: 365},
			Removed: map[prune.Class]prune.Tally{prune.Raw: {Objects: 1, Bytes: bytes("raw/removed-job/abc.eml")}}},
		{ID: "sales", Retention: job.Retention{RawDays: 30, NormalizedDays: 365},
			Removed: map[prune.Class]prune.Tally{prune.Raw: {Objects: 1, Bytes: bytes(sales.RawKey)}}},
		{ID: "support", Retention: job.Retention{RawDays: 30, NormalizedDays: 90},
			Removed: map[prune.Class]prune.Tally{
				prune.Raw:        {Objects: 2, Bytes: bytes(done.RawKey, old.RawKey)},
				prune.Trace:      {Objects: 1, Bytes: bytes("traces/support/run-1.txt")},
				prune.Normalized: {Objects: 2, Bytes: bytes(old.NormKey, ledger.AttachmentPrefix("support", old.Key)+"0-report.pdf")},
			},
			Kept: []prune.Kept{
				{Object: pendingRaw, Key: pending.Key, Why: "not processed yet (queued)"},
				{Object: waiting.RawKey, Key: waiting.Key, Why: "outcome (rejected) not yet applied on the server"},
				{Object: pending.NormKey, Key: pending.Key, Why: "not processed yet (queued)"},
				{Object: ledger.AttachmentPrefix("support", pending.Key) + "0-report.pdf", Key: pending.Key, Why: "not processed yet (queued)"},
			}},
	}}
	sortKept := cmp.Transformer("sortKept", func(ks []prune.Kept) map[string]prune.Kept {
		m := map[string]prune.Kept{}
		for _, k := range ks {
			m[k.Object] = k
		}
		return m
	})

	dry := run(true)
	want.DryRun = true
	if d := cmp.Diff(want, dry, sortKept); d != "" {
		t.Errorf("dry run report (-want +got):\n%s", d)
	}
	for _, k := range []string{done.RawKey, old.RawKey, old.NormKey, sales.RawKey, "raw/removed-job/abc.eml", "traces/support/run-1.txt"} {
		if !s.exists(k) {
			t.Errorf("dry run removed %s", k)
		}
	}

	got := run(false)
	want.DryRun = false
	if d := cmp.Diff(want, got, sortKept); d != "" {
		t.Errorf("report (-want +got):\n%s", d)
	}
	for _, tt := range []struct {
		name string
		key  string
		kept bool
	}{
		{"raw past 30 days", done.RawKey, false},
		{"normalized within 90 days", done.NormKey, true},
		{"normalized past 90 days", old.NormKey, false},
		{"attachment past 90 days", ledger.AttachmentPrefix("support", old.Key) + "0-report.pdf", false},
		{"pending message's old raw", pendingRaw, true},
		{"pending message's old normalized", pending.NormKey, true},
		{"pending message's old attachment", ledger.AttachmentPrefix("support", pending.Key) + "0-report.pdf", true},
		{"undisposed message's raw", waiting.RawKey, true},
		{"young raw", young.RawKey, true},
		{"another job's raw past its 30 days", sales.RawKey, false},
		{"another job's normalized within its 365 days", sales.NormKey, true},
		{"removed job's raw past the longest 30 days", "raw/removed-job/abc.eml", false},
		{"removed job's normalized within the longest 365 days", "norm/removed-job/abc.json", true},
		{"trace past 30 days", "traces/support/run-1.txt", false},
		{"sealed error details", "err/support/abc/message.eml", true},
	} {
		if s.exists(tt.key) != tt.kept {
			t.Errorf("%s (%s): got kept %v, want %v", tt.name, tt.key, s.exists(tt.key), tt.kept)
		}
	}
	if _, err := os.Stat(filepath.Join(s.dir, "att", "support", strings.Split(ledger.AttachmentPrefix("support", old.Key), "/")[2])); !os.IsNotExist(err) {
		t.Errorf("the emptied attachment directory: got %v, want it removed", err)
	}
	if again := run(false); func() int { n, _ := again.Total(); return n.Objects }() != 0 {
		t.Errorf("second prune: got %+v, want nothing more removed", again)
	}
}

// TestRemoveJob: a reset removes the job's message objects, sealed error
// details included, and leaves its run traces and every other job's.
func TestRemoveJob(t *testing.T) {
	s := newState(t)
	gone := []string{"raw/support/a.eml", "norm/support/a.json", "att/support/a/0-x.pdf", "err/support/a/message.eml"}
	kept := []string{"traces/support/run-1.txt", "raw/support-2/a.eml", "err/support-2/a/reason.txt"}
	for _, k := range append(append([]string{}, gone...), kept...) {
		s.put(t, k, 0)
	}
	got, err := prune.RemoveJob(s.dir, "support")
	if err != nil {
		t.Fatal(err)
	}
	if got.Objects != len(gone) {
		t.Errorf("RemoveJob: got %d objects, want %d", got.Objects, len(gone))
	}
	for _, k := range gone {
		if s.exists(k) {
			t.Errorf("RemoveJob kept %s", k)
		}
	}
	for _, k := range kept {
		if !s.exists(k) {
			t.Errorf("RemoveJob removed %s", k)
		}
	}
	for _, bad := range []string{"", "..", "a/../../b"} {
		if _, err := prune.RemoveJob(s.dir, bad); err == nil {
			t.Errorf("RemoveJob(%q): got no error", bad)
		}
	}
}
