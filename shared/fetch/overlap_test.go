package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mailconnector/shared/blob"
	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/queue/memqueue"
	"mailconnector/shared/testkit/localtest"
)

// watchedBox is an arrivalBox that tells, on fetching, the first UID of
// each batch it is asked for.
type watchedBox struct {
	arrivalBox
	fetching chan uint32
}

func (b watchedBox) Fetch(ctx context.Context, items []mailbox.Item, fn func(mailbox.Item, io.Reader) error) error {
	if len(items) > 0 {
		select {
		case b.fetching <- items[0].Source.UID:
		default:
		}
	}
	return b.arrivalBox.Fetch(ctx, items, fn)
}

// waitFor waits until the batch starting at uid is being fetched. The
// time limit only ends a wait that would otherwise never end.
func (b watchedBox) waitFor(uid uint32) error {
	deadline := time.After(10 * time.Second)
	for {
		select {
		case got := <-b.fetching:
			if got == uid {
				return nil
			}
		case <-deadline:
			return fmt.Errorf("the batch from UID %d was not fetched while the one before it landed", uid)
		}
	}
}

// TestNextBatchIsFetchedWhileOneLands: while a batch is recorded, queued
// and passed by the cursor, the next one is already being fetched (the
// session would otherwise sit idle through every sync and ledger write).
// The first batch's landing waits here until the second's fetch starts;
// fetched one after another, it would wait in vain.
func TestNextBatchIsFetchedWhileOneLands(t *testing.T) {
	j := imapJob(t, "limits: {batchSize: 10}")
	uids := 30
	box := watchedBox{arrivalBox{&uids}, make(chan uint32, 8)}
	var once sync.Once
	var overlapped bool
	crash := func(step Step, keys []string) error {
		if step != AfterLedger {
			return nil
		}
		var err error
		once.Do(func() {
			err = box.waitFor(11)
			overlapped = err == nil
		})
		return err
	}
	q := memqueue.New(nil)
	st := localtest.Store(t, t.TempDir())
	svc := New(Options{Store: st, Blobs: localtest.Blobs(t, t.TempDir()), Queue: q, Crash: crash,
		Opener: OpenerFunc(func(context.Context, *job.Job) (mailbox.Session, error) { return box, nil })})
	r, err := svc.Run(context.Background(), j, RunOptions{Trigger: "manual"})
	if err != nil || r.Fetched != uids {
		t.Fatalf("run: got %d fetched, %v; want %d", r.Fetched, err, uids)
	}
	if !overlapped {
		t.Error("the second batch was not fetched while the first landed")
	}
	if q.Len() != uids {
		t.Errorf("queue: got %d messages, want %d", q.Len(), uids)
	}
	if c, err := st.Cursor(context.Background(), j.ID); err != nil || c != "30" {
		t.Errorf("cursor: got %q, %v; want 30", c, err)
	}
}

// TestBatchThatFailsToLandStopsTheRun: a crash while the first batch
// lands, with the second being fetched, ends the run with the crash. The
// ledger then has the first batch only, recorded as queued and not
// written since (version 1), none of it on the queue, and the
// cursor has not moved; the next run takes every message once, and
// queues each once.
func TestBatchThatFailsToLandStopsTheRun(t *testing.T) {
	j := imapJob(t, "limits: {batchSize: 10}")
	uids := 30
	box := watchedBox{arrivalBox{&uids}, make(chan uint32, 8)}
	crashing := true
	crash := func(step Step, keys []string) error {
		if !crashing || step != AfterLedger {
			return nil
		}
		// Crash once the second batch is being fetched.
		if err := box.waitFor(11); err != nil {
			return err
		}
		return ErrCrash
	}
	q := memqueue.New(nil)
	st := localtest.Store(t, t.TempDir())
	svc := New(Options{Store: st, Blobs: localtest.Blobs(t, t.TempDir()), Queue: q, Crash: crash,
		Opener: OpenerFunc(func(context.Context, *job.Job) (mailbox.Session, error) { return box, nil })})
	ctx := context.Background()
	if _, err := svc.Run(ctx, j, RunOptions{Trigger: "manual"}); !errors.Is(err, ErrCrash) {
		t.Fatalf("crashed run: got %v, want the crash", err)
	}
	for uid := 1; uid <= uids; uid++ {
		key := ledger.Source{Protocol: "imap", Folder: "INBOX", Validity: 1, UID: uint32(uid)}.Key()
		e, err := st.Entry(ctx, j.ID, key)
		switch {
		case uid <= 10 && (err != nil || e.State != ledger.Queued || e.Version != 1):
			t.Errorf("after the crash, entry %d: got %s version %d, %v; want queued, version 1", uid, e.State, e.Version, err)
		case uid > 10 && err == nil:
			t.Errorf("after the crash, entry %d: recorded (%s), but its batch never landed", uid, e.State)
		}
	}
	if c, _ := st.Cursor(ctx, j.ID); c != "" {
		t.Errorf("after the crash, cursor %q; want none", c)
	}
	if q.Len() != 0 {
		t.Errorf("after the crash, %d messages queued; want none", q.Len())
	}

	crashing = false
	r, err := svc.Run(ctx, j, RunOptions{Trigger: "manual"})
	if err != nil || r.Fetched != uids-10 {
		t.Fatalf("next run: got %d fetched, %v; want %d", r.Fetched, err, uids-10)
	}
	if q.Len() != uids {
		t.Errorf("queue: got %d messages, want %d (each once)", q.Len(), uids)
	}
	for uid := 1; uid <= uids; uid++ {
		key := ledger.Source{Protocol: "imap", Folder: "INBOX", Validity: 1, UID: uint32(uid)}.Key()
		if e, err := st.Entry(ctx, j.ID, key); err != nil || e.State != ledger.Queued {
			t.Errorf("entry %d: got %s, %v; want queued", uid, e.State, err)
		}
	}
	if c, _ := st.Cursor(ctx, j.ID); c != "30" {
		t.Errorf("cursor: got %q, want 30", c)
	}
}

// interleavingBox is an arrivalBox that may be told what became of
// messages between two fetches (mailbox.Interleaver), and remembers how
// many batches it had fetched when each disposition came.
type interleavingBox struct {
	arrivalBox
	mu       sync.Mutex
	fetched  int            // batches fetched
	disposed map[uint32]int // UID → times disposed
	early    int            // dispositions that came before the last batch was fetched
	batches  int            // batches in all
}

func (b *interleavingBox) DisposesBetweenFetches() {}

func (b *interleavingBox) Fetch(ctx context.Context, items []mailbox.Item, fn func(mailbox.Item, io.Reader) error) error {
	b.mu.Lock()
	b.fetched++
	b.mu.Unlock()
	return b.arrivalBox.Fetch(ctx, items, fn)
}

func (b *interleavingBox) Dispose(_ context.Context, ds []mailbox.Disposition) []error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, d := range ds {
		b.disposed[d.Source.UID]++
		if b.fetched < b.batches {
			b.early++
		}
	}
	return make([]error, len(ds))
}

// TestDispositionsBetweenFetches: on a mailbox that allows it, messages
// processed while the run is still fetching are marked read between two
// batches, not all at the end of the run; each message is disposed of
// once. The messages are "processed" here as soon as they are recorded.
func TestDispositionsBetweenFetches(t *testing.T) {
	j := imapJob(t, "limits: {batchSize: 10}") // batches of 10
	uids := 120
	box := &interleavingBox{arrivalBox: arrivalBox{&uids}, disposed: map[uint32]int{}, batches: uids / 10}
	st := localtest.Store(t, t.TempDir())
	ctx := context.Background()
	crash := func(step Step, keys []string) error {
		if step != AfterLedger {
			return nil
		}
		for _, k := range keys {
			e, err := st.Entry(ctx, j.ID, k)
			if err != nil {
				return err
			}
			e.State, e.Action, e.UpdatedAt = ledger.Processed, "create", time.Now()
			if _, err := st.Update(ctx, e); err != nil {
				return err
			}
		}
		return nil
	}
	svc := New(Options{Store: st, Blobs: localtest.Blobs(t, t.TempDir()), Queue: memqueue.New(nil), Crash: crash,
		Opener: OpenerFunc(func(context.Context, *job.Job) (mailbox.Session, error) { return box, nil })})
	r, err := svc.Run(ctx, j, RunOptions{Trigger: "manual"})
	if err != nil || r.Fetched != uids || r.Disposed != uids {
		t.Fatalf("run: got %d fetched, %d disposed, %v; want %d each", r.Fetched, r.Disposed, err, uids)
	}
	if box.early == 0 {
		t.Error("no message was disposed of before the last batch was fetched")
	}
	for uid := 1; uid <= uids; uid++ {
		if n := box.disposed[uint32(uid)]; n != 1 {
			t.Errorf("UID %d disposed of %d times, want once", uid, n)
		}
	}
}

// TestPanicWhileLandingEndsTheRun: a panic while a batch lands ends the
// run with an error naming it, as a panic in the run's own goroutine would
// for whatever recovers it, rather than taking the whole process down.
func TestPanicWhileLandingEndsTheRun(t *testing.T) {
	j := imapJob(t, "limits: {batchSize: 10}")
	uids := 30
	crash := func(step Step, keys []string) error {
		if step == AfterLedger {
			panic("injected")
		}
		return nil
	}
	svc := New(Options{Store: localtest.Store(t, t.TempDir()), Blobs: localtest.Blobs(t, t.TempDir()), Queue: memqueue.New(nil), Crash: crash,
		Opener: OpenerFunc(func(context.Context, *job.Job) (mailbox.Session, error) { return arrivalBox{&uids}, nil })})
	_, err := svc.Run(context.Background(), j, RunOptions{Trigger: "manual"})
	if err == nil || !strings.Contains(err.Error(), "landing a batch panicked: injected") {
		t.Fatalf("run: got %v, want the panic as an error", err)
	}
}

// failingBlobs fails the Put of one key, once.
type failingBlobs struct {
	blob.Store
	key    string
	failed atomic.Bool
}

func (b *failingBlobs) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if key == b.key && b.failed.CompareAndSwap(false, true) {
		return 0, errors.New("disk full")
	}
	return b.Store.Put(ctx, key, r)
}

// TestRawWriteFailureStopsTheBatch: the raw messages are written while the
// session reads on; one that cannot be written ends the run with that
// error before its batch reaches the ledger (the batch before it lands),
// and the next run takes the rest, each message once.
func TestRawWriteFailureStopsTheBatch(t *testing.T) {
	j := imapJob(t, "limits: {batchSize: 10}") // batches of 10
	uids := 30
	bad := ledger.RawKey(j.ID, ledger.Source{Protocol: "imap", Folder: "INBOX", Validity: 1, UID: 17}.Key())
	blobs := &failingBlobs{Store: localtest.Blobs(t, t.TempDir()), key: bad}
	st := localtest.Store(t, t.TempDir())
	q := memqueue.New(nil)
	svc := New(Options{Store: st, Blobs: blobs, Queue: q,
		Opener: OpenerFunc(func(context.Context, *job.Job) (mailbox.Session, error) { return arrivalBox{&uids}, nil })})
	ctx := context.Background()
	_, err := svc.Run(ctx, j, RunOptions{Trigger: "manual"})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("run: got %v, want the write's error", err)
	}
	for uid := 1; uid <= uids; uid++ {
		key := ledger.Source{Protocol: "imap", Folder: "INBOX", Validity: 1, UID: uint32(uid)}.Key()
		_, err := st.Entry(ctx, j.ID, key)
		if recorded := err == nil; recorded != (uid <= 10) {
			t.Errorf("after the failed write, entry %d recorded: %v, want %v", uid, recorded, uid <= 10)
		}
	}
	if c, _ := st.Cursor(ctx, j.ID); c != "10" {
		t.Errorf("cursor after the failed write: %q, want 10", c)
	}
	r, err := svc.Run(ctx, j, RunOptions{Trigger: "manual"})
	if err != nil || r.Fetched != 20 {
		t.Fatalf("next run: got %d fetched, %v; want 20", r.Fetched, err)
	}
	if q.Len() != uids {
		t.Errorf("queue: got %d messages, want %d (each once)", q.Len(), uids)
	}
	rc, err := blobs.Get(ctx, bad)
	if err != nil {
		t.Fatalf("raw message of UID 17 after the next run: %v", err)
	}
	rc.Close()
}
