// Package event defines what the connector tells the world once a message
// has an outcome: RequestCreated, ConversationAdded and MessageRejected. On
// AWS they go to EventBridge; locally to the log. The schema is documented
// in events/README.md and must stay compatible.
package event

import (
	"context"
	"time"
)

// The event types.
const (
	RequestCreated    = "RequestCreated"
	ConversationAdded = "ConversationAdded"
	MessageRejected   = "MessageRejected"
	MessageIgnored    = "MessageIgnored"
)

// Event is one event; Detail holds the type's fields.
type Event struct {
	Type           string    `json:"type"`
	Time           time.Time `json:"time"`
	JobID          string    `json:"jobId"`
	LedgerKey      string    `json:"ledgerKey"`
	MessageID      string    `json:"messageId,omitempty"`
	RequestID      string    `json:"requestId,omitempty"`
	RequestNumber  int64     `json:"requestNumber,omitempty"`
	ConversationID string    `json:"conversationId,omitempty"`
	From           string    `json:"from,omitempty"`
	Subject        string    `json:"subject,omitempty"`
	Statement      string    `json:"statement,omitempty"`
	Reason         string    `json:"reason,omitempty"`
}

// Publisher publishes events.
type Publisher interface {
	Publish(ctx context.Context, e Event) error
}
