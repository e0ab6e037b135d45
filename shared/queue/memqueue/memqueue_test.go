package memqueue_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"mailconnector/shared/queue"
	"mailconnector/shared/queue/memqueue"
	"mailconnector/shared/queue/queuetest"
	"mailconnector/shared/testkit/fakeclock"
)

func TestConformance(t *testing.T) {
	queuetest.Run(t, queuetest.Harness{
		New: func(t *testing.T, maxReceives int) (queue.Queue, queue.Queue) {
			dlq := memqueue.New(nil)
			return memqueue.New(&memqueue.Options{MaxReceives: maxReceives, DeadLetter: dlq}), dlq
		},
		Unit: 150 * time.Millisecond,
	})
}

func msg(body string) queue.Message { return queue.Message{Body: []byte(body)} }

func receive(tb testing.TB, q *memqueue.Queue, want int) []queue.Delivery {
	tb.Helper()
	d, err := q.Receive(context.Background(), 10, 0, time.Hour)
	if err != nil {
		tb.Fatalf("Receive: %v", err)
	}
	if len(d) != want {
		tb.Fatalf("Receive: got %d messages, want %d", len(d), want)
	}
	return d
}

func TestFakeClockVisibility(t *testing.T) {
	c := fakeclock.New(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	q := memqueue.New(&memqueue.Options{Now: c.Now})
	ctx := context.Background()
	if err := q.Send(ctx, []queue.Message{msg("a"), msg("b")}); err != nil {
		t.Fatal(err)
	}
	if got := q.Len(); got != 2 {
		t.Fatalf("Len: got %d, want 2", got)
	}
	d := receive(t, q, 2)
	receive(t, q, 0)
	c.Advance(59 * time.Minute)
	receive(t, q, 0)
	if err := q.Delete(ctx, d[0].Receipt); err != nil {
		t.Fatal(err)
	}
	if got := q.Len(); got != 1 {
		t.Fatalf("Len after Delete: got %d, want 1", got)
	}
	c.Advance(time.Minute)
	again := receive(t, q, 1)
	if string(again[0].Body) != "b" || again[0].ReceiveCount != 2 {
		t.Fatalf("redelivery: got %s count %d, want b count 2", again[0].Body, again[0].ReceiveCount)
	}
}

func TestNoDeadLetterMeansNoDrop(t *testing.T) {
	c := fakeclock.New(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	q := memqueue.New(&memqueue.Options{MaxReceives: 1, Now: c.Now})
	if err := q.Send(context.Background(), []queue.Message{msg("keep")}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		d := receive(t, q, 1)
		if d[0].ReceiveCount != i {
			t.Fatalf("delivery %d: got ReceiveCount %d", i, d[0].ReceiveCount)
		}
		c.Advance(2 * time.Hour)
	}
}

// failingQueue refuses every Send.
type failingQueue struct{ queue.Queue }

func (failingQueue) Send(context.Context, []queue.Message) error { return errors.New("dlq down") }

func TestDeadLetterFailureKeepsMessage(t *testing.T) {
	c := fakeclock.New(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	q := memqueue.New(&memqueue.Options{MaxReceives: 1, DeadLetter: failingQueue{}, Now: c.Now})
	ctx := context.Background()
	if err := q.Send(ctx, []queue.Message{msg("precious")}); err != nil {
		t.Fatal(err)
	}
	receive(t, q, 1)
	c.Advance(2 * time.Hour)
	if _, err := q.Receive(ctx, 10, 0, time.Hour); err == nil {
		t.Fatal("Receive with a failing dead-letter queue: got nil error, want one")
	}
	if got := q.Len(); got != 1 {
		t.Fatalf("Len: got %d, want 1 (the message kept)", got)
	}
}

func TestReceiveArguments(t *testing.T) {
	q := memqueue.New(nil)
	ctx := context.Background()
	var msgs []queue.Message
	for range 15 {
		msgs = append(msgs, msg("m"))
	}
	if err := q.Send(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		max        int
		visibility time.Duration
		want       int
		wantErr    bool
	}{
		{name: "zero max", max: 0, visibility: time.Hour, wantErr: true},
		{name: "negative visibility", max: 1, visibility: -time.Second, wantErr: true},
		{name: "capped at MaxBatch", max: 100, visibility: time.Hour, want: memqueue.MaxBatch},
		{name: "the rest", max: 100, visibility: time.Hour, want: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := q.Receive(ctx, tt.max, 0, tt.visibility)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error: %v", err, tt.wantErr)
			}
			if len(d) != tt.want {
				t.Fatalf("got %d messages, want %d", len(d), tt.want)
			}
		})
	}
	if err := q.Delete(ctx, ""); !errors.Is(err, memqueue.ErrBadReceipt) {
		t.Errorf("Delete of empty receipt: got %v, want ErrBadReceipt", err)
	}
	if err := q.Delete(ctx, "no-such-receipt"); err != nil {
		t.Errorf("Delete of unknown receipt: got %v, want nil", err)
	}
}

// TestSendCopies checks that the queue keeps its own copy of a message.
func TestSendCopies(t *testing.T) {
	q := memqueue.New(nil)
	m := queue.Message{Body: []byte("abc"), Attributes: map[string]string{"k": "v"}}
	if err := q.Send(context.Background(), []queue.Message{m}); err != nil {
		t.Fatal(err)
	}
	m.Body[0], m.Attributes["k"] = 'X', "changed"
	d := receive(t, q, 1)
	if string(d[0].Body) != "abc" || d[0].Attributes["k"] != "v" {
		t.Fatalf("got %s %v, want abc map[k:v]", d[0].Body, d[0].Attributes)
	}
}
