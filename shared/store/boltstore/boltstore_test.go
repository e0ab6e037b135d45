package boltstore_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"mailconnector/shared/ledger"
	"mailconnector/shared/request"
	"mailconnector/shared/run"
	"mailconnector/shared/store"
	"mailconnector/shared/store/boltstore"
	"mailconnector/shared/store/storetest"
	"mailconnector/shared/testkit/fakeclock"
)

func open(tb testing.TB, opts *boltstore.Options) *boltstore.Store {
	tb.Helper()
	s, err := boltstore.Open(filepath.Join(tb.TempDir(), "state.db"), opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	c := fakeclock.New(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	storetest.Run(t, storetest.Harness{
		New:     func(t *testing.T) store.Store { return open(t, &boltstore.Options{Now: c.Now}) },
		Advance: c.Advance,
	})
}

// TestConformanceRealClock runs the suite once with the real clock, as the
// DynamoDB adapter does.
func TestConformanceRealClock(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New:      func(t *testing.T) store.Store { return open(t, nil) },
		LeaseTTL: 200 * time.Millisecond,
	})
}

// TestReadOnly: a read-only open (the dry run) reads, refuses writes and
// leaves the file as it was, even beside another read-only open.
func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	rw, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := rw.SetCursor(ctx, "job", "c1"); err != nil {
		t.Fatal(err)
	}
	if err := rw.Close(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	ro, err := boltstore.Open(path, &boltstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ro2, err := boltstore.Open(path, &boltstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("a second read-only open: %v", err)
	}
	if got, err := ro.Cursor(ctx, "job"); err != nil || got != "c1" {
		t.Errorf("Cursor: got %q, %v; want c1", got, err)
	}
	if err := ro.SetCursor(ctx, "job", "c2"); err == nil {
		t.Error("SetCursor on a read-only store: got no error")
	}
	ro.Close()
	ro2.Close()
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("a read-only open changed the file")
	}
}

// lastTxID is the id of the state file's last committed transaction.
func lastTxID(t *testing.T, path string) int {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var id int
	_ = db.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil })
	return id
}

// TestOpenExistingWritesNothing: opening a state that has every bucket
// commits nothing (each commit is two syncs, a good part of a run that
// finds nothing new); a new state gets its buckets.
func TestOpenExistingWritesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	created := lastTxID(t, path)
	if created == 0 {
		t.Fatal("a new state: no transaction committed, its buckets were not created")
	}
	for range 3 {
		s, err := boltstore.Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if got := lastTxID(t, path); got != created {
		t.Errorf("reopening the state three times committed %d transactions, want none", got-created)
	}
}

// TestOrderedBucketsPacked: a bucket whose keys arrive in order (runs by
// start time, here) fills its pages to about nine tenths when a commit
// splits them, not bbolt's default half, so the file and the pages a run
// touches stay smaller.
func TestOrderedBucketsPacked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3000 {
		r := run.Run{JobID: "job-a", ID: fmt.Sprintf("run-%05d", i), StartedAt: start.Add(time.Duration(i) * time.Minute), Status: run.OK}
		if err := s.PutRun(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_ = db.View(func(tx *bolt.Tx) error {
		for _, name := range []string{"runsByStart", "runs"} {
			st := tx.Bucket([]byte(name)).Stats()
			if fill := float64(st.LeafInuse) / float64(st.LeafAlloc); fill < 0.75 {
				t.Errorf("bucket %s: leaf pages %.0f%% full (%d pages for %d keys), want at least 75%%", name, 100*fill, st.LeafPageN, st.KeyN)
			}
		}
		return nil
	})
}

// TestUpdateLeavesMessageIndexes: an update that changes neither the
// fetch time nor the sender or Message-ID of an entry leaves the pages of
// the message indexes as they were. A key deleted and put again makes
// bbolt write its page and the branch pages above it anew (a new page
// id for the bucket's root), and the who keys sit at random places: five
// updates a message rewrote pages all over the file.
func TestUpdateLeavesMessageIndexes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var entries []ledger.Entry
	for i := range 2000 { // enough for several pages a bucket
		entries = append(entries, ledger.Entry{
			JobID: "job-a", Key: fmt.Sprintf("imap/INBOX/1/%d", i), Fingerprint: fmt.Sprintf("%064x", i),
			MessageID: fmt.Sprintf("<m%d@example.com>", i), RawKey: fmt.Sprintf("raw/%d", i),
			State: ledger.Stored, FetchedAt: now, UpdatedAt: now,
		})
	}
	if _, err := s.Record(ctx, entries); err != nil {
		t.Fatal(err)
	}
	e, err := s.Entry(ctx, "job-a", "imap/INBOX/1/700")
	if err != nil {
		t.Fatal(err)
	}
	e.From = "ann@example.com" // preprocessing learns the sender: one who key more
	e.State, e.UpdatedAt = ledger.Preprocessed, now.Add(time.Minute)
	if e, err = s.Update(ctx, e); err != nil {
		t.Fatal(err)
	}
	before := rootPagesOf(t, s, "ledgerByTime", "ledgerWho")
	e.State, e.UpdatedAt = ledger.Processed, now.Add(2*time.Minute)
	if e, err = s.Update(ctx, e); err != nil {
		t.Fatal(err)
	}
	e.Disposed, e.Disposition, e.UpdatedAt = true, "deleted", now.Add(3*time.Minute)
	if _, err = s.Update(ctx, e); err != nil {
		t.Fatal(err)
	}
	after := rootPagesOf(t, s, "ledgerByTime", "ledgerWho")
	for name, id := range before {
		if after[name] != id {
			t.Errorf("bucket %s: root page %d became %d: an update that changes none of its keys rewrote it", name, id, after[name])
		}
	}
	// The look-ups still find the entry by each key.
	for _, who := range []string{"ann@example.com", "m700@example.com"} {
		got, err := s.FindMessages(ctx, who, 0)
		if err != nil || len(got) != 1 || got[0].Key != e.Key || !got[0].Disposed {
			t.Errorf("FindMessages(%s): %v, %v; want the disposed entry %s", who, got, err, e.Key)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCommitLeavesRequestIndexes: a conversation added to an existing
// request, from a message whose Message-ID is indexed already, leaves the
// pages of the request indexes and of the Message-ID index as they were.
func TestCommitLeavesRequestIndexes(t *testing.T) {
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 600 // enough for several pages a bucket
	var entries []ledger.Entry
	for i := range n + 1 {
		entries = append(entries, ledger.Entry{
			JobID: "job-a", Key: fmt.Sprintf("imap/INBOX/1/%d", i), Fingerprint: fmt.Sprintf("%064x", i),
			MessageID: fmt.Sprintf("<m%d@example.com>", i), State: ledger.Preprocessed, FetchedAt: now, UpdatedAt: now,
		})
	}
	if _, err := s.Record(ctx, entries); err != nil {
		t.Fatal(err)
	}
	var last store.Outcome
	for i, e := range entries[:n] {
		e.Version, e.State, e.UpdatedAt = 1, ledger.Processed, now.Add(time.Minute)
		last, err = s.Commit(ctx, store.Outcome{
			Entry:        e,
			NewRequest:   &request.Request{JobID: "job-a", Title: fmt.Sprint("request ", i), Status: request.Open, CreatedAt: now, UpdatedAt: now},
			Conversation: &request.Conversation{ID: fmt.Sprint("c", i), JobID: "job-a", Text: "hello", MessageID: e.MessageID, CreatedAt: now},
			MessageIDs:   []string{e.MessageID},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	names := []string{"requestsByNumber", "requestsByJob", "messageIds"}
	before := rootPagesOf(t, s, names...)
	// A reply to the last request that names the original's Message-ID
	// again (its References): the request is updated, not renumbered.
	reply := entries[n]
	reply.Version, reply.State, reply.UpdatedAt = 1, ledger.Processed, now.Add(2*time.Minute)
	upd := *last.NewRequest
	upd.UpdatedAt = now.Add(2 * time.Minute)
	if _, err := s.Commit(ctx, store.Outcome{
		Entry:         reply,
		UpdateRequest: &upd,
		Conversation:  &request.Conversation{ID: "reply", JobID: "job-a", RequestID: upd.ID, Text: "thanks", CreatedAt: now.Add(2 * time.Minute)},
		MessageIDs:    []string{entries[n-1].MessageID},
	}); err != nil {
		t.Fatal(err)
	}
	after := rootPagesOf(t, s, names...)
	for _, name := range names {
		if after[name] != before[name] {
			t.Errorf("bucket %s: root page %d became %d: a commit that changes none of its keys rewrote it", name, before[name], after[name])
		}
	}
	if r, err := s.RequestByNumber(ctx, upd.Number); err != nil || r.ID != upd.ID || !r.UpdatedAt.Equal(upd.UpdatedAt) {
		t.Errorf("RequestByNumber(%d) = %+v, %v; want the updated request %s", upd.Number, r, err, upd.ID)
	}
	if r, err := s.RequestByMessageID(ctx, entries[n-1].MessageID); err != nil || r.ID != upd.ID {
		t.Errorf("RequestByMessageID = %+v, %v; want request %s", r, err, upd.ID)
	}
}

// rootPagesOf is the root page id of each named bucket.
func rootPagesOf(t *testing.T, s *boltstore.Store, names ...string) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	err := boltstore.View(s, func(tx *bolt.Tx) error {
		for _, name := range names {
			b := tx.Bucket([]byte(name))
			if b == nil {
				return fmt.Errorf("no bucket %s", name)
			}
			out[name] = uint64(b.Root())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
