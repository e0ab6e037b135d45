package fetch

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/queue"
	"mailconnector/shared/queue/memqueue"
	"mailconnector/shared/store"
	"mailconnector/shared/testkit/fakeclock"
	"mailconnector/shared/testkit/localtest"
)

// updateCounter counts the ledger updates a store is asked for, and
// those it refuses as stale.
type updateCounter struct {
	store.Store
	mu               sync.Mutex
	updates, refused int
}

func (c *updateCounter) Update(ctx context.Context, e ledger.Entry) (ledger.Entry, error) {
	out, err := c.Store.Update(ctx, e)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.updates++
	if errors.Is(err, store.ErrConflict) {
		c.refused++
	}
	return out, err
}

// imapJob is the IMAP job "support" with every default but what extra
// sets: one line of job YAML ("limits: {batchSize: 10}"), or none.
func imapJob(t *testing.T, extra string) *job.Job {
	t.Helper()
	f, err := job.Parse([]byte(`
jobs:
  - id: support
    server: {protocol: imap, host: h, security: tls, auth: {secret: s}}
    ` + extra + `
`))
	if err != nil {
		t.Fatal(err)
	}
	return &f.Jobs[0]
}

// TestFetchWritesEachMessageOnce: a fetched message is recorded already
// queued, its pointer sent after the record, so the fetch stage writes
// its ledger entry once. (It used to be recorded as stored and marked
// queued after the send: a second write, four write units on DynamoDB
// with the entry's index copies.)
func TestFetchWritesEachMessageOnce(t *testing.T) {
	j := imapJob(t, "")
	const n = 25
	uids := n
	st := &updateCounter{Store: localtest.Store(t, t.TempDir())}
	q := memqueue.New(nil)
	clock := fakeclock.New(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	svc := New(Options{Store: st, Blobs: localtest.Blobs(t, t.TempDir()), Queue: q, Now: clock.Now,
		Opener: OpenerFunc(func(context.Context, *job.Job) (mailbox.Session, error) { return arrivalBox{&uids}, nil })})
	r, err := svc.Run(context.Background(), j, RunOptions{Trigger: "manual"})
	if err != nil || r.Fetched != n {
		t.Fatalf("run: got %d fetched, %v; want %d", r.Fetched, err, n)
	}
	if st.updates != 0 {
		t.Errorf("ledger updates: got %d; want none (each entry recorded once)", st.updates)
	}
	if q.Len() != n {
		t.Errorf("queue: got %d pointers, want %d", q.Len(), n)
	}
	for uid := 1; uid <= n; uid++ {
		key := ledger.Source{Protocol: "imap", Folder: "INBOX", Validity: 1, UID: uint32(uid)}.Key()
		if e, err := st.Entry(context.Background(), j.ID, key); err != nil || e.State != ledger.Queued || e.Version != 1 {
			t.Errorf("entry %s: got %s version %d, %v; want queued, version 1", key, e.State, e.Version, err)
		}
	}
}

// failingSender refuses every send while fail is set.
type failingSender struct {
	Sender
	fail bool
}

func (f *failingSender) Send(ctx context.Context, msgs []queue.Message) error {
	if f.fail {
		return errors.New("queue unavailable")
	}
	return f.Sender.Send(ctx, msgs)
}

// TestRecordedButNotSentIsSentAtTheNextRun: entries recorded as queued
// whose pointers the queue refused are sent by the next run, which
// lists them again (the cursor stayed before them), without waiting
// for RequeueAfter; each once, and marked so that a later run leaves
// them alone.
func TestRecordedButNotSentIsSentAtTheNextRun(t *testing.T) {
	j := imapJob(t, "")
	const n = 12
	uids := n
	st := localtest.Store(t, t.TempDir())
	q := memqueue.New(nil)
	send := &failingSender{Sender: q, fail: true}
	clock := fakeclock.New(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	svc := New(Options{Store: st, Blobs: localtest.Blobs(t, t.TempDir()), Queue: send, Now: clock.Now, RequeueAfter: time.Hour,
		Opener: OpenerFunc(func(context.Context, *job.Job) (mailbox.Session, error) { return arrivalBox{&uids}, nil })})
	ctx := context.Background()
	if _, err := svc.Run(ctx, j, RunOptions{Trigger: "manual"}); err == nil || !strings.Contains(err.Error(), "queue unavailable") {
		t.Fatalf("first run: got %v, want the queue's refusal", err)
	}
	if q.Len() != 0 {
		t.Fatalf("queue after the refused send: %d pointers", q.Len())
	}
	send.fail = false
	clock.Advance(time.Minute)
	for i := 0; i < 3; i++ {
		if _, err := svc.Run(ctx, j, RunOptions{Trigger: "manual"}); err != nil {
			t.Fatalf("run %d after: %v", i+2, err)
		}
		clock.Advance(time.Minute)
	}
	if q.Len() != n {
		t.Errorf("queue: got %d pointers, want %d (each message once)", q.Len(), n)
	}
}
