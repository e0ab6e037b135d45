// Package queue declares the queues between the stages. Only pointers
// travel on them (the message stays in the blob store). Delivery is at
// least once: a message not deleted within its visibility timeout comes
// back, and after MaxReceives it moves to the dead-letter queue. memqueue
// (in process) and sqsqueue (SQS) pass the suite in queuetest.
package queue

import (
	"context"
	"time"
)

// Message is one queued message.
type Message struct {
	Body       []byte
	Attributes map[string]string // e.g. jobId, ledgerKey
}

// Delivery is a received message.
type Delivery struct {
	Message
	ID           string
	Receipt      string // pass to Delete
	ReceiveCount int    // 1 on the first delivery
}

// Queue is one queue.
type Queue interface {
	// Send enqueues messages.
	Send(ctx context.Context, msgs []Message) error
	// Receive waits up to wait for at most max messages, hiding each for
	// visibility. It returns an empty slice when none arrived.
	Receive(ctx context.Context, max int, wait, visibility time.Duration) ([]Delivery, error)
	// Delete acknowledges a delivery.
	Delete(ctx context.Context, receipt string) error
}

// Extender is a queue whose deliveries can stay hidden longer than the
// visibility timeout they were received with (SQS ChangeMessageVisibility).
type Extender interface {
	// Extend hides the delivery for visibility from now on. A receipt that
	// is stale or already deleted may be refused with an error.
	Extend(ctx context.Context, receipt string, visibility time.Duration) error
}

// KeepHidden extends the delivery's visibility to visibility every
// visibility/3 until stop is called, so a consumer that works longer than
// the timeout it received with does not see its message handed to
// another consumer. A failed extension is passed to onErr (which may be
// nil) and tried again at the next beat. stop waits for a beat in progress.
func KeepHidden(ctx context.Context, q Extender, receipt string, visibility time.Duration, onErr func(error)) (stop func()) {
	every := visibility / 3
	if every <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := q.Extend(ctx, receipt, visibility); err != nil && ctx.Err() == nil && onErr != nil {
				onErr(err)
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
