// Package request defines helpdesk requests and their conversations: what
// the rules stage makes of messages.
package request

import (
	"time"

	"mailconnector/shared/message"
)

// Status of a request.
type Status string

// The request statuses.
const (
	Open   Status = "open"
	Closed Status = "closed"
	Merged Status = "merged"
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
	Warnings    []string             `json:"warnings,omitempty"`
	CreatedAt   time.Time            `json:"createdAt"`
}
