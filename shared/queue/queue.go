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
