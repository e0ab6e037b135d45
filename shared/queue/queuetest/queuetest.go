// Package queuetest is the conformance suite every queue.Queue adapter
// passes (memqueue, sqsqueue), so the in-process queue behaves as SQS does.
package queuetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mailconnector/shared/queue"
)

// Harness builds the queues the suite tests.
type Harness struct {
	// New returns a fresh, empty queue and its dead-letter queue: a message
	// received maxReceives times moves there when it comes back once more.
	// It cleans them up through t.Cleanup.
	New func(t *testing.T, maxReceives int) (q, deadLetter queue.Queue)
	// Unit is the shortest visibility timeout and wait the suite uses:
	// 1s (SQS counts whole seconds) when zero.
	Unit time.Duration
}

// Run runs the whole suite.
func Run(t *testing.T, h Harness) {
	if h.Unit <= 0 {
		h.Unit = time.Second
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"SendReceiveDelete", testSendReceiveDelete},
		{"Batch", testBatch},
		{"VisibilityTimeout", testVisibility},
		{"StaleReceipt", testStaleReceipt},
		{"Redrive", testRedrive},
		{"ConcurrentReceivers", testConcurrentReceivers},
		{"EmptyAfterWait", testEmptyAfterWait},
		{"WakesOnSend", testWakesOnSend},
		{"ContextCancelled", testCancelled},
		{"Extend", testExtend},
		{"KeepHidden", testKeepHidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, h) })
	}
}

func send(tb testing.TB, q queue.Queue, msgs ...queue.Message) {
	tb.Helper()
	if err := q.Send(context.Background(), msgs); err != nil {
		tb.Fatalf("Send: %v", err)
	}
}

func receive(tb testing.TB, q queue.Queue, maxMsgs int, wait, visibility time.Duration) []queue.Delivery {
	tb.Helper()
	d, err := q.Receive(context.Background(), maxMsgs, wait, visibility)
	if err != nil {
		tb.Fatalf("Receive: %v", err)
	}
	if len(d) > maxMsgs {
		tb.Fatalf("Receive: got %d messages, want at most %d", len(d), maxMsgs)
	}
	return d
}

func del(tb testing.TB, q queue.Queue, receipt string) {
	tb.Helper()
	if err := q.Delete(context.Background(), receipt); err != nil {
		tb.Fatalf("Delete: %v", err)
	}
}

// receiveOne waits up to wait for exactly one message.
func receiveOne(tb testing.TB, q queue.Queue, wait, visibility time.Duration) queue.Delivery {
	tb.Helper()
	d := receive(tb, q, 10, wait, visibility)
	if len(d) != 1 {
		tb.Fatalf("Receive: got %d messages, want 1", len(d))
	}
	return d[0]
}

func wantEmpty(tb testing.TB, q queue.Queue, wait time.Duration) {
	tb.Helper()
	if d := receive(tb, q, 10, wait, time.Minute); len(d) != 0 {
		tb.Fatalf("Receive: got %d messages (first %q), want none", len(d), d[0].Body)
	}
}

func pointer(n int) queue.Message {
	return queue.Message{
		Body:       []byte(fmt.Sprintf(`{"jobId":"job-a","key":"imap/INBOX/7/%d"}`, n)),
		Attributes: map[string]string{"jobId": "job-a", "ledgerKey": fmt.Sprintf("imap/INBOX/7/%d", n)},
	}
}

func testSendReceiveDelete(t *testing.T, h Harness) {
	q, _ := h.New(t, 5)
	want := []queue.Message{
		{
			Body:       []byte(`{"jobId":"job-a","key":"imap/INBOX/7/42","note":"ünïcødé"}`),
			Attributes: map[string]string{"jobId": "job-a", "ledgerKey": "imap/INBOX/7/42", "runId": "r-1"},
		},
		{Body: []byte(`{"bare":true}`)},
	}
	send(t, q, want...)
	var got []queue.Delivery
	for i := 0; i < 5 && len(got) < 2; i++ {
		got = append(got, receive(t, q, 10, h.Unit, 30*h.Unit)...)
	}
	if len(got) != 2 {
		t.Fatalf("Receive: got %d messages, want 2", len(got))
	}
	sort.Slice(got, func(i, j int) bool { return len(got[i].Body) > len(got[j].Body) })
	for i, d := range got {
		if d.ID == "" || d.Receipt == "" {
			t.Errorf("delivery %d: got ID %q receipt %q, want both set", i, d.ID, d.Receipt)
		}
		if d.ReceiveCount != 1 {
			t.Errorf("delivery %d: got ReceiveCount %d, want 1", i, d.ReceiveCount)
		}
		if string(d.Body) != string(want[i].Body) {
			t.Errorf("delivery %d: got body %s, want %s", i, d.Body, want[i].Body)
		}
		if len(d.Attributes) != 0 || len(want[i].Attributes) != 0 {
			if diff := cmp.Diff(want[i].Attributes, d.Attributes); diff != "" {
				t.Errorf("delivery %d attributes (-want +got):\n%s", i, diff)
			}
		}
	}
	if got[0].ID == got[1].ID {
		t.Errorf("deliveries share ID %q", got[0].ID)
	}
	for _, d := range got {
		del(t, q, d.Receipt)
	}
	// Deleting again is harmless; deleted messages never come back.
	del(t, q, got[0].Receipt)
	wantEmpty(t, q, 2*h.Unit)
}

func testBatch(t *testing.T, h Harness) {
	q, _ := h.New(t, 5)
	const n = 25
	var msgs []queue.Message
	for i := range n {
		msgs = append(msgs, pointer(i))
	}
	send(t, q, msgs...)
	seen := map[string]bool{}
	for tries := 0; len(seen) < n && tries < 20; tries++ {
		for _, d := range receive(t, q, 10, h.Unit, 60*h.Unit) {
			if seen[string(d.Body)] {
				t.Fatalf("message %s delivered twice within its visibility timeout", d.Body)
			}
			seen[string(d.Body)] = true
			del(t, q, d.Receipt)
		}
	}
	if len(seen) != n {
		t.Fatalf("received %d distinct messages, want %d", len(seen), n)
	}
	for _, m := range msgs {
		if !seen[string(m.Body)] {
			t.Errorf("message %s never received", m.Body)
		}
	}
	wantEmpty(t, q, h.Unit)
}

func testVisibility(t *testing.T, h Harness) {
	q, _ := h.New(t, 5)
	send(t, q, pointer(1))
	first := receiveOne(t, q, h.Unit, 2*h.Unit)
	wantEmpty(t, q, 0) // hidden
	second := receiveOne(t, q, 6*h.Unit, 2*h.Unit)
	if second.ID != first.ID || string(second.Body) != string(first.Body) {
		t.Fatalf("redelivery: got %s %s, want %s %s", second.ID, second.Body, first.ID, first.Body)
	}
	if second.ReceiveCount != 2 {
		t.Errorf("redelivery: got ReceiveCount %d, want 2", second.ReceiveCount)
	}
	if second.Receipt == first.Receipt {
		t.Errorf("redelivery: got the same receipt, want a new one")
	}
	if diff := cmp.Diff(pointer(1).Attributes, second.Attributes); diff != "" {
		t.Errorf("redelivery attributes (-want +got):\n%s", diff)
	}
	del(t, q, second.Receipt)
	wantEmpty(t, q, 3*h.Unit)
}

func testStaleReceipt(t *testing.T, h Harness) {
	q, _ := h.New(t, 5)
	send(t, q, pointer(1))
	first := receiveOne(t, q, h.Unit, h.Unit)
	second := receiveOne(t, q, 5*h.Unit, h.Unit)
	if second.Receipt == first.Receipt {
		t.Fatalf("a redelivery kept its receipt %q; want a new one", first.Receipt)
	}
	// Deleting with the first, stale receipt is accepted or refused. SQS
	// says the message "might not be deleted": either it stays and comes
	// back a third time, or it is gone. Consumers must not rely on either.
	_ = q.Delete(context.Background(), first.Receipt)
	ds := receive(t, q, 10, 5*h.Unit, 30*h.Unit)
	if len(ds) == 0 {
		return
	}
	third := ds[0]
	if len(ds) != 1 || third.ID != second.ID || third.ReceiveCount != 3 {
		t.Fatalf("after a stale delete: got %d messages, first %s count %d; want %s count 3", len(ds), third.ID, third.ReceiveCount, second.ID)
	}
	del(t, q, third.Receipt)
	wantEmpty(t, q, h.Unit)
}

func testRedrive(t *testing.T, h Harness) {
	q, dlq := h.New(t, 2)
	send(t, q, pointer(7), pointer(8))
	var got []queue.Delivery
	for i := 0; i < 5 && len(got) < 2; i++ {
		got = append(got, receive(t, q, 10, h.Unit, h.Unit)...)
	}
	if len(got) != 2 {
		t.Fatalf("first receive: got %d messages, want 2", len(got))
	}
	var keep queue.Delivery
	for i := 0; i < 5 && keep.ID == ""; i++ {
		for _, d := range receive(t, q, 10, 5*h.Unit, h.Unit) {
			if d.ReceiveCount != 2 {
				t.Errorf("second receive: got ReceiveCount %d, want 2", d.ReceiveCount)
			}
			if string(d.Body) == string(pointer(8).Body) {
				keep = d
				del(t, q, d.Receipt) // handled: never reaches the dead-letter queue
				continue
			}
			// pointer(7) fails again: do not delete.
		}
	}
	if keep.ID == "" {
		t.Fatal("second receive: never got message 8")
	}
	// pointer(7) has been received twice; when it comes back it moves.
	wantEmpty(t, q, 4*h.Unit)
	dead := receiveOne(t, dlq, 5*h.Unit, 30*h.Unit)
	if string(dead.Body) != string(pointer(7).Body) {
		t.Fatalf("dead-letter queue: got %s, want %s", dead.Body, pointer(7).Body)
	}
	if diff := cmp.Diff(pointer(7).Attributes, dead.Attributes); diff != "" {
		t.Errorf("dead-letter attributes (-want +got):\n%s", diff)
	}
	del(t, dlq, dead.Receipt)
	wantEmpty(t, dlq, h.Unit)
}

func testConcurrentReceivers(t *testing.T, h Harness) {
	q, _ := h.New(t, 5)
	const n, receivers = 40, 5
	for i := 0; i < n; i += 10 {
		var batch []queue.Message
		for j := i; j < i+10; j++ {
			batch = append(batch, pointer(j))
		}
		send(t, q, batch...)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range receivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for empty := 0; empty < 2; {
				d, err := q.Receive(context.Background(), 3, h.Unit, 60*h.Unit)
				if err != nil {
					t.Errorf("Receive: %v", err)
					return
				}
				if len(d) == 0 {
					empty++
					continue
				}
				mu.Lock()
				for _, m := range d {
					seen[string(m.Body)]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("received %d distinct messages, want %d", len(seen), n)
	}
	for body, count := range seen {
		if count != 1 {
			t.Errorf("message %s: delivered %d times within its visibility timeout, want 1", body, count)
		}
	}
}

func testEmptyAfterWait(t *testing.T, h Harness) {
	q, _ := h.New(t, 5)
	wait := 2 * h.Unit
	start := time.Now()
	d, err := q.Receive(context.Background(), 10, wait, h.Unit)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	if len(d) != 0 {
		t.Fatalf("Receive: got %d messages, want 0", len(d))
	}
	if d == nil {
		t.Errorf("Receive: got a nil slice, want an empty one")
	}
	if elapsed < wait*9/10 {
		t.Errorf("Receive returned after %v, want it to wait about %v", elapsed, wait)
	}
}

func testWakesOnSend(t *testing.T, h Harness) {
	q, _ := h.New(t, 5)
	wait := 10 * h.Unit
	go func() {
		time.Sleep(h.Unit / 2)
		if err := q.Send(context.Background(), []queue.Message{pointer(1)}); err != nil {
			t.Errorf("Send: %v", err)
		}
	}()
	start := time.Now()
	d := receive(t, q, 10, wait, 30*h.Unit)
	elapsed := time.Since(start)
	if len(d) != 1 {
		t.Fatalf("Receive: got %d messages, want 1", len(d))
	}
	if elapsed > wait/2 {
		t.Errorf("Receive returned after %v, want it soon after the Send (%v)", elapsed, h.Unit/2)
	}
}

func testCancelled(t *testing.T, h Harness) {
	q, _ := h.New(t, 5)
	ctx, cancel := context.WithCancel(context.Background())
	wait := 10 * h.Unit
	time.AfterFunc(h.Unit/2, cancel)
	start := time.Now()
	d, err := q.Receive(ctx, 10, wait, h.Unit)
	elapsed := time.Since(start)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Receive with a cancelled context: got %d messages, error %v, want context.Canceled", len(d), err)
	}
	if elapsed > wait/2 {
		t.Errorf("Receive returned %v after being cancelled, want at once", elapsed)
	}
}

func extender(tb testing.TB, q queue.Queue) queue.Extender {
	tb.Helper()
	ext, ok := q.(queue.Extender)
	if !ok {
		tb.Fatalf("%T does not implement queue.Extender", q)
	}
	return ext
}

func testExtend(t *testing.T, h Harness) {
	q, _ := h.New(t, 5)
	ext := extender(t, q)
	send(t, q, pointer(1))
	first := receiveOne(t, q, h.Unit, 2*h.Unit)
	if err := ext.Extend(context.Background(), first.Receipt, 5*h.Unit); err != nil {
		t.Fatalf("Extend: %v", err)
	}
	wantEmpty(t, q, 3*h.Unit) // past the visibility it was received with
	second := receiveOne(t, q, 6*h.Unit, 30*h.Unit)
	if second.ID != first.ID || second.ReceiveCount != 2 {
		t.Fatalf("after the extension: got %s count %d, want %s count 2", second.ID, second.ReceiveCount, first.ID)
	}
	del(t, q, second.Receipt)
	wantEmpty(t, q, h.Unit)
}

func testKeepHidden(t *testing.T, h Harness) {
	q, _ := h.New(t, 5)
	send(t, q, pointer(1))
	d := receiveOne(t, q, h.Unit, 2*h.Unit)
	stop := queue.KeepHidden(context.Background(), extender(t, q), d.Receipt, 2*h.Unit, func(err error) {
		t.Errorf("extend: %v", err)
	})
	// A consumer working for two and a half visibility timeouts keeps
	// its message to itself, and its receipt stays good.
	wantEmpty(t, q, 5*h.Unit)
	stop()
	del(t, q, d.Receipt)
	wantEmpty(t, q, 3*h.Unit)
}
