// Package event defines what the connector tells the world once a message
// has an outcome: RequestCreated, ConversationAdded, MessageRejected,
// MessageIgnored and BounceReceived. On
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
	// BounceReceived is a bounce or feedback report set aside (instead
	// of MessageIgnored): with what it says, and the request whose mail
	// bounced when its Message-ID is known.
	BounceReceived = "BounceReceived"
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
	// ThreadedBy says how a ConversationAdded message found its request
	// ("In-Reply-To", "the request number in the subject", ...).
	ThreadedBy string `json:"threadedBy,omitempty"`
	// Reopened says a ConversationAdded reopened a closed request.
	Reopened bool `json:"reopened,omitempty"`
	// Request is the request as stored after the message
	// (RequestCreated, ConversationAdded).
	Request *Request `json:"request,omitempty"`
	// Text is the message's visible new text, at most MaxText bytes
	// (TextTruncated says it was cut; the whole message is in the blob
	// store under NormKey). RequestCreated, ConversationAdded.
	Text          string `json:"text,omitempty"`
	TextTruncated bool   `json:"textTruncated,omitempty"`
	NormKey       string `json:"normKey,omitempty"`
	// Attachments are the message's attachments by reference, at most
	// MaxAttachments; AttachmentCount says how many the message had when
	// they were cut.
	Attachments     []Attachment `json:"attachments,omitempty"`
	AttachmentCount int          `json:"attachmentCount,omitempty"`
	// Bounce is what a bounce or feedback report says (BounceReceived,
	// and any event about one).
	Bounce *Bounce `json:"bounce,omitempty"`
	// Truncated names the fields Fit cut ("subject", "request.title",
	// "attachments", ...); the whole message is under NormKey.
	Truncated []string `json:"truncated,omitempty"`
}

// Bounce is what a bounce or feedback report says.
type Bounce struct {
	// Class is "bounce" or "feedback".
	Class string `json:"class"`
	// Recipient is the address that failed (feedback: that complained).
	Recipient string `json:"recipient"`
	// Status is the RFC 3463 status code, or "".
	Status string `json:"status,omitempty"`
	// Reason is userunknown, mailboxfull, hostunknown, suspend,
	// spamdetected, mesgtoobig, policy, expired, networkerror,
	// systemerror, suppressed, delayed, delivered, feedback or undefined.
	Reason     string `json:"reason"`
	Diagnostic string `json:"diagnostic,omitempty"`
	// OriginalMessageID is the returned message's Message-ID.
	OriginalMessageID string `json:"originalMessageId,omitempty"`
	FeedbackType      string `json:"feedbackType,omitempty"`
}

// MaxText bounds Event.Text, so an event stays far below EventBridge's
// 256 KB entry limit.
const MaxText = 16 << 10

// Request is the request fields an event carries.
type Request struct {
	Title        string            `json:"title"`
	Status       string            `json:"status"`
	Requester    Address           `json:"requester"`
	Priority     string            `json:"priority,omitempty"`
	Category     string            `json:"category,omitempty"`
	Queue        string            `json:"queue,omitempty"`
	Assignee     string            `json:"assignee,omitempty"`
	Custom       map[string]string `json:"custom,omitempty"`
	Participants []string          `json:"participants,omitempty"`
	// ParticipantCount says how many participants the request has when
	// Participants was cut to MaxParticipants.
	ParticipantCount int `json:"participantCount,omitempty"`
}

// Address is a mailbox address with its display name.
type Address struct {
	Name    string `json:"name,omitempty"`
	Address string `json:"address"`
}

// Attachment is one attachment by reference: BlobKey names its bytes in
// the connector's bucket. Dropped ones (Dropped says why) have no bytes.
type Attachment struct {
	Filename    string `json:"filename"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	BlobKey     string `json:"blobKey,omitempty"`
	SHA256      string `json:"sha256,omitempty"`
	Inline      bool   `json:"inline,omitempty"`
	Dropped     string `json:"dropped,omitempty"`
}

// Publisher publishes events.
type Publisher interface {
	Publish(ctx context.Context, e Event) error
}
