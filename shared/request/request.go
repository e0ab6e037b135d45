// Package request defines helpdesk requests and their conversations: what
// the rules stage makes of messages.
package request

import (
	"time"
	"unicode/utf8"

	"mailconnector/shared/message"
)

// Status of a request.
type Status string

// The request statuses.
const (
	Open    Status = "open"
	Closed  Status = "closed"
	Merged  Status = "merged"
	Deleted Status = "deleted"
)

// Request is one helpdesk request.
type Request struct {
	ID          string            `json:"id"`
	Number      int64             `json:"number"`
	JobID       string            `json:"jobId"`
	Title       string            `json:"title"`
	Description string            `json:"description"`
	Requester   message.Address   `json:"requester"`
	Status      Status            `json:"status"`
	Priority    string            `json:"priority,omitempty"`
	Category    string            `json:"category,omitempty"`
	Queue       string            `json:"queue,omitempty"`
	Assignee    string            `json:"assignee,omitempty"`
	Custom      map[string]string `json:"custom,omitempty"`
	MergedInto  string            `json:"mergedInto,omitempty"`
	// Participants are the addresses on the request (requester, To, Cc).
	Participants []string  `json:"participants,omitempty"`
	SourceKey    string    `json:"sourceKey"`
	MessageID    string    `json:"messageId,omitempty"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

// Conversation is one message on a request: the first one, or a reply.
type Conversation struct {
	ID          string               `json:"id"`
	RequestID   string               `json:"requestId"`
	JobID       string               `json:"jobId"`
	From        message.Address      `json:"from"`
	Subject     string               `json:"subject"`
	Text        string               `json:"text"`
	HTML        string               `json:"html,omitempty"`
	Attachments []message.Attachment `json:"attachments,omitempty"`
	MessageID   string               `json:"messageId,omitempty"`
	SourceKey   string               `json:"sourceKey"`
	// NormKey is the blob key of the whole normalized message; Truncated
	// says Text or HTML here were cut to MaxBodyBytes (the store keeps
	// items small: a DynamoDB item holds at most 400 KB).
	NormKey   string    `json:"normKey,omitempty"`
	Truncated bool      `json:"truncated,omitempty"`
	Warnings  []string  `json:"warnings,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// MaxBodyBytes bounds the text and the HTML kept on a conversation and a
// request's description; the whole message stays in the blob store.
const MaxBodyBytes = 32 << 10

// MaxHTMLBytes bounds the sanitized HTML kept on a conversation; a longer
// body is read from the normalized message (NormKey) when displayed.
const MaxHTMLBytes = 8 << 10

// Cut returns s cut to at most n bytes on a UTF-8 boundary, and whether it
// was cut.
func Cut(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], true
}
