// Package memqueue implements queue.Queue in process, with SQS semantics,
// for the local runner and tests: at-least-once delivery, a visibility
// timeout per receive, a receive count, redrive to a dead-letter queue after
// MaxReceives, and receipts that go stale when a message is delivered again
// (see the SQS Developer Guide, "Amazon SQS visibility timeout" and "Using
// dead-letter queues"). It passes the queuetest suite.
package memqueue

import (
	"container/heap"
	"container/list"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"mailconnector/shared/queue"
)

// MaxBatch is the most messages one Receive returns, as in SQS.
const MaxBatch = 10

// Options configure a Queue; nil means defaults.
type Options struct {
	// MaxReceives is how many times a message is delivered; when it comes
	// back once more it moves to DeadLetter instead. Zero, or a nil
	// DeadLetter, means it is delivered for ever (it is never dropped).
	MaxReceives int
	// DeadLetter receives the messages received MaxReceives times.
	DeadLetter queue.Queue
	// Now is the clock for visibility timeouts; time.Now when nil. Waits
	// in Receive use real timers.
	Now func() time.Time
}

// item is one message in the queue.
type item struct {
	id        string
	msg       queue.Message
	received  int
	receipt   string        // of the latest delivery; "" before the first
	visibleAt time.Time     // while in flight
	elem      *list.Element // in visible, or nil
	index     int           // in inFlight, or -1
}

// Queue is an in-process queue.Queue. It is safe for concurrent use.
type Queue struct {
	opts Options

	mu       sync.Mutex
	visible  *list.List       // of *item, oldest first
	inFlight flightHeap       // hidden until visibleAt
	receipts map[string]*item // latest receipt → item
	wake     chan struct{}    // closed (and replaced) when receivers should look again
	seq      uint64
}

var (
	_ queue.Queue    = (*Queue)(nil)
	_ queue.Extender = (*Queue)(nil)
)

// New returns an empty queue.
func New(opts *Options) *Queue {
	q := &Queue{
		visible:  list.New(),
		receipts: map[string]*item{},
		wake:     make(chan struct{}),
	}
	if opts != nil {
		q.opts = *opts
	}
	if q.opts.Now == nil {
		q.opts.Now = time.Now
	}
	return q
}

// Len is the number of messages not yet deleted or moved, visible or in
// flight.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.visible.Len() + len(q.inFlight)
}

// broadcast wakes every waiting receiver; q.mu is held.
func (q *Queue) broadcast() {
	close(q.wake)
	q.wake = make(chan struct{})
}

// Send enqueues copies of msgs.
func (q *Queue) Send(ctx context.Context, msgs []queue.Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memqueue: send %d messages: %w", len(msgs), err)
	}
	if len(msgs) == 0 {
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, m := range msgs {
		q.seq++
		it := &item{id: strconv.FormatUint(q.seq, 10), msg: clone(m), index: -1}
		it.elem = q.visible.PushBack(it)
	}
	q.broadcast()
	return nil
}

func clone(m queue.Message) queue.Message {
	c := queue.Message{Body: append([]byte(nil), m.Body...)}
	if m.Attributes != nil {
		c.Attributes = make(map[string]string, len(m.Attributes))
		for k, v := range m.Attributes {
			c.Attributes[k] = v
		}
	}
	return c
}

// Receive waits up to wait (or until ctx is done, an error) for at most max
// messages (at most MaxBatch), hiding each for visibility. It returns an
// empty slice when none arrived.
func (q *Queue) Receive(ctx context.Context, maxMsgs int, wait, visibility time.Duration) ([]queue.Delivery, error) {
	if maxMsgs < 1 {
		return nil, fmt.Errorf("memqueue: receive: max %d is not positive", maxMsgs)
	}
	if visibility < 0 {
		return nil, fmt.Errorf("memqueue: receive: visibility %v is negative", visibility)
	}
	maxMsgs = min(maxMsgs, MaxBatch)
	deadline := time.Now().Add(wait)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("memqueue: receive: %w", err)
		}
		out, dead, wake, next := q.take(maxMsgs, visibility)
		if len(dead) > 0 {
			if err := q.moveToDeadLetter(ctx, dead); err != nil {
				return out, err
			}
		}
		if len(out) > 0 {
			return out, nil
		}
		if len(dead) > 0 {
			continue // there may be more behind them
		}
		left := time.Until(deadline)
		if left <= 0 {
			return []queue.Delivery{}, nil
		}
		if next > 0 && next < left {
			left = next
		}
		timer.Reset(left)
		select {
		case <-wake:
		case <-timer.C:
		case <-ctx.Done():
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// take delivers up to maxMsgs visible messages and takes out those due for the
// dead-letter queue. When it delivers nothing it returns the channel that
// signals a change and how long until the next message becomes visible
// again (0 when none is in flight).
func (q *Queue) take(maxMsgs int, visibility time.Duration) (out []queue.Delivery, dead []*item, wake chan struct{}, next time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.opts.Now()
	for len(q.inFlight) > 0 && !q.inFlight[0].visibleAt.After(now) {
		it := heap.Pop(&q.inFlight).(*item)
		it.elem = q.visible.PushBack(it)
	}
	redrive := q.opts.MaxReceives > 0 && q.opts.DeadLetter != nil
	for len(out) < maxMsgs && q.visible.Len() > 0 {
		it := q.visible.Remove(q.visible.Front()).(*item)
		it.elem = nil
		delete(q.receipts, it.receipt)
		if redrive && it.received >= q.opts.MaxReceives {
			dead = append(dead, it)
			continue
		}
		it.received++
		q.seq++
		it.receipt = it.id + "." + strconv.FormatUint(q.seq, 10)
		q.receipts[it.receipt] = it
		it.visibleAt = now.Add(visibility)
		heap.Push(&q.inFlight, it)
		out = append(out, queue.Delivery{Message: clone(it.msg), ID: it.id, Receipt: it.receipt, ReceiveCount: it.received})
	}
	if len(out) > 0 {
		// Waiting receivers must learn of the new visibility deadline.
		q.broadcast()
		return out, dead, nil, 0
	}
	if len(q.inFlight) > 0 {
		next = max(q.inFlight[0].visibleAt.Sub(now), time.Millisecond)
	}
	return nil, dead, q.wake, next
}

// moveToDeadLetter sends the items to the dead-letter queue; if that fails
// they go back to the front of this queue, so no message is lost.
func (q *Queue) moveToDeadLetter(ctx context.Context, dead []*item) error {
	msgs := make([]queue.Message, len(dead))
	for i, it := range dead {
		msgs[i] = it.msg
	}
	err := q.opts.DeadLetter.Send(context.WithoutCancel(ctx), msgs)
	if err == nil {
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for i := len(dead) - 1; i >= 0; i-- {
		dead[i].elem = q.visible.PushFront(dead[i])
	}
	q.broadcast()
	return fmt.Errorf("memqueue: move %d messages to the dead-letter queue: %w", len(dead), err)
}

// ErrBadReceipt means Delete was given an empty receipt.
var ErrBadReceipt = errors.New("memqueue: empty receipt")

// Delete removes the message of the delivery. A receipt that is stale (the
// message was delivered again since) or unknown (already deleted) is
// ignored, as in SQS.
func (q *Queue) Delete(ctx context.Context, receipt string) error {
	if receipt == "" {
		return ErrBadReceipt
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	it := q.receipts[receipt]
	if it == nil {
		return nil
	}
	delete(q.receipts, receipt)
	if it.index >= 0 {
		heap.Remove(&q.inFlight, it.index)
	}
	if it.elem != nil {
		q.visible.Remove(it.elem)
		it.elem = nil
	}
	return nil
}

// ErrNotInFlight means Extend was given a receipt that is stale (the
// message was delivered again since) or whose message was deleted, as SQS
// refuses ChangeMessageVisibility for a message not in flight.
var ErrNotInFlight = errors.New("memqueue: message not in flight")

// Extend hides the delivery for visibility from now on, as SQS
// ChangeMessageVisibility does.
func (q *Queue) Extend(ctx context.Context, receipt string, visibility time.Duration) error {
	if receipt == "" {
		return ErrBadReceipt
	}
	if visibility < 0 {
		return fmt.Errorf("memqueue: extend: visibility %v is negative", visibility)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	it := q.receipts[receipt]
	if it == nil || it.index < 0 {
		return fmt.Errorf("memqueue: extend: %w", ErrNotInFlight)
	}
	it.visibleAt = q.opts.Now().Add(visibility)
	heap.Fix(&q.inFlight, it.index)
	// Waiting receivers must learn of the new visibility deadline.
	q.broadcast()
	return nil
}

// flightHeap orders in-flight items by the time they become visible.
type flightHeap []*item

func (h flightHeap) Len() int           { return len(h) }
func (h flightHeap) Less(i, j int) bool { return h[i].visibleAt.Before(h[j].visibleAt) }
func (h flightHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *flightHeap) Push(x any) {
	it := x.(*item)
	it.index = len(*h)
	*h = append(*h, it)
}
func (h *flightHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	it.index = -1
	*h = old[:len(old)-1]
	return it
}
