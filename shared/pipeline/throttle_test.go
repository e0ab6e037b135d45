package pipeline

import (
	"context"
	"fmt"
	"testing"
	"time"

	"mailconnector/shared/queue"
	"mailconnector/shared/queue/memqueue"
)

// TestThrottle: the fetch stage waits before a batch while the queues hold
// maxQueued messages and workers consume them, and goes on once they hold
// fewer; without workers (fetch only) it never waits.
func TestThrottle(t *testing.T) {
	ctx := context.Background()
	prep, rules := memqueue.New(nil), memqueue.New(nil)
	l := New(Options{PreprocessQueue: prep, RulesQueue: rules})
	msgs := make([]queue.Message, maxQueued)
	for i := range msgs {
		msgs[i] = queue.Message{Body: []byte(fmt.Sprintf(`{"key":"k%d"}`, i))}
	}
	if err := prep.Send(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	if err := l.throttle(ctx); err != nil {
		t.Fatalf("without workers: %v", err)
	}
	l.workers.Add(1)
	done := make(chan error, 1)
	go func() { done <- l.throttle(ctx) }()
	select {
	case err := <-done:
		t.Fatalf("throttle returned (%v) with %d messages queued and a worker running; want it to wait", err, prep.Len())
	case <-time.After(50 * time.Millisecond):
	}
	ds, err := prep.Receive(ctx, 10, 0, time.Minute)
	if err != nil || len(ds) == 0 {
		t.Fatalf("receive: %d, %v", len(ds), err)
	}
	for _, d := range ds {
		if err := prep.Delete(ctx, d.Receipt); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("throttle still waits with %d messages queued", prep.Len())
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := prep.Send(ctx, msgs[:20]); err != nil {
		t.Fatal(err)
	}
	if err := l.throttle(cctx); err == nil {
		t.Error("throttle with a cancelled context and full queues: no error")
	}
}
