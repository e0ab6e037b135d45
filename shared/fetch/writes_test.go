package fetch

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/mailbox"
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

// TestFetchMarksQueuedInOneWrite: a fetched message is marked queued with
// one ledger write, at the version it was recorded with. (It used to be
// marked with version 0: refused as stale, read again and written again,
// which on DynamoDB is a failed conditional write and a read more per
// message.)
func TestFetchMarksQueuedInOneWrite(t *testing.T) {
	j := imapJob(t, "")
	const n = 25
	uids := n
	st := &updateCounter{Store: localtest.Store(t, t.TempDir())}
	clock := fakeclock.New(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	svc := New(Options{Store: st, Blobs: localtest.Blobs(t, t.TempDir()), Queue: memqueue.New(nil), Now: clock.Now,
		Opener: OpenerFunc(func(context.Context, *job.Job) (mailbox.Session, error) { return arrivalBox{&uids}, nil })})
	r, err := svc.Run(context.Background(), j, RunOptions{Trigger: "manual"})
	if err != nil || r.Fetched != n {
		t.Fatalf("run: got %d fetched, %v; want %d", r.Fetched, err, n)
	}
	if st.updates != n || st.refused != 0 {
		t.Errorf("ledger updates: got %d, %d of them refused as stale; want %d, none refused", st.updates, st.refused, n)
	}
	for uid := 1; uid <= n; uid++ {
		key := ledger.Source{Protocol: "imap", Folder: "INBOX", Validity: 1, UID: uint32(uid)}.Key()
		if e, err := st.Entry(context.Background(), j.ID, key); err != nil || e.State != ledger.Queued || e.Version != 2 {
			t.Errorf("entry %s: got %s version %d, %v; want queued, version 2", key, e.State, e.Version, err)
		}
	}
}
