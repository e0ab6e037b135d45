// Package notify declares how the connector tells people about a job:
// alerts when a job keeps failing, recoveries, and notices to senders. The
// adapters are lognotify (local: a log line) and an SNS/SES one on AWS.
package notify

import "context"

// The kinds of notice.
const (
	Alert    = "alert"    // a job keeps failing
	Recovery = "recovery" // a job that was alerted on works again
	Sender   = "sender"   // a notice to the sender of a message (rejected, received)
	// ErrorFolder tells the administrators of one mail moved to the
	// error folder.
	ErrorFolder = "errorFolder"
)

// Notice is one notification.
type Notice struct {
	Kind    string // Alert, Recovery or Sender
	JobID   string
	To      []string // addresses; empty means the administrators
	Subject string
	Body    string
	// MessageID, when set, is the Message-ID (without angle brackets) the
	// notice should go out under, so replies to it can be threaded; an
	// adapter whose transport assigns its own may ignore it. InReplyTo is
	// the Message-ID of the message the notice answers, if any.
	MessageID string
	InReplyTo string
}

// Notifier delivers notices.
type Notifier interface {
	Notify(ctx context.Context, n Notice) error
}
