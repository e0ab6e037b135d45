package rules

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"mailconnector/shared/event"
	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/message"
	"mailconnector/shared/testkit/localtest"
)

// flakyBus fails while down, and counts what it got per ledger key.
type flakyBus struct {
	mu   sync.Mutex
	down bool
	got  map[string]int
}

func (b *flakyBus) Publish(_ context.Context, e event.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.down {
		return errors.New("bus unavailable")
	}
	b.got[e.LedgerKey]++
	return nil
}

// TestFailedPublishIsRetriedFromTheOutbox: events whose publishing failed
// are published by a later Handle once their claim ends, each exactly
// once, and the outbox is left empty.
func TestFailedPublishIsRetriedFromTheOutbox(t *testing.T) {
	ctx := context.Background()
	st := localtest.Store(t, t.TempDir())
	blobs := localtest.Blobs(t, t.TempDir())
	j := jobWith(t, "")
	bus := &flakyBus{down: true, got: map[string]int{}}
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	stage := NewStage(StageOptions{Store: st, Blobs: blobs, Jobs: &job.File{Jobs: []job.Job{*j}}, Publisher: bus, Now: clock,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	handle := func(key, subject string) {
		t.Helper()
		m := message.Message{Subject: subject, MessageID: key + "@customer.example", From: message.Address{Address: "ann@customer.example"}, VisibleText: "help"}
		b, _ := json.Marshal(m)
		if _, err := blobs.Put(ctx, ledger.NormKey("support", key), bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		e := ledger.Entry{JobID: "support", Key: key, State: ledger.Preprocessed, NormKey: ledger.NormKey("support", key), FetchedAt: clock(), UpdatedAt: clock()}
		if _, err := st.Record(ctx, []ledger.Entry{e}); err != nil {
			t.Fatal(err)
		}
		if err := stage.Handle(ctx, ledger.Pointer{JobID: "support", Key: key}); err != nil {
			t.Fatal(err)
		}
	}
	handle("k1", "printer")
	handle("k2", "scanner")
	if len(bus.got) != 0 {
		t.Fatalf("published while the bus was down: got %v, want none", bus.got)
	}

	bus.down = false
	handle("k3", "monitor") // published at once; k1, k2 are still claimed
	advance(OutboxClaim + time.Second)
	handle("k4", "keyboard") // retries k1 and k2 first
	advance(OutboxClaim + time.Second)
	handle("k5", "mouse")
	if n, err := stage.PublishPending(ctx); err != nil || n != 0 {
		t.Errorf("PublishPending at the end: got %d, %v; want 0, nil", n, err)
	}
	want := map[string]int{"k1": 1, "k2": 1, "k3": 1, "k4": 1, "k5": 1}
	bus.mu.Lock()
	defer bus.mu.Unlock()
	for k, n := range want {
		if bus.got[k] != n {
			t.Errorf("events of %s: got %d, want %d", k, bus.got[k], n)
		}
	}
	left, err := st.ClaimOutbox(ctx, now.Add(time.Hour), now.Add(2*time.Hour), 10)
	if err != nil || len(left) != 0 {
		t.Errorf("outbox at the end: got %d entries (%v), want none", len(left), err)
	}
}
