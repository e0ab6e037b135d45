// Package ledger records what became of every source message a job has
// fetched. The ledger is the connector's memory: its key (the job plus the
// message's identity in the mailbox) keeps a message from being fetched twice,
// its fingerprint (Message-ID plus SHA-256 of the raw bytes) keeps a message
// that the server renumbered from being processed twice, and its state says
// which stage owns the message now.
//
// A message that an administrator moves back into the job's folder after
// its outcome sent it away as rejected or failed (moved to the error folder,
// or deleted) is taken again as a new entry under its new identity (a Graph
// message keeps its immutable id through the moves: its new entry's key is
// the last attempt's with "#retry1"), linked to the earlier one by RetryOf:
// it is processed once more under the current preprocessing rules and
// processing statements. Its fingerprint stays
// indexed to the earlier entry, so every later appearance is judged against
// that one. Any other message with a fingerprint already recorded is a
// Duplicate and makes no request. A message whose Message-ID already made a
// request or conversation makes no second one, whichever entry carries it:
// the rules stage records it as processed with the request it made.
package ledger

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// State is where a message stands in the pipeline.
type State string

// The states of a ledger entry, in pipeline order. Processed, Rejected,
// Failed and Duplicate are outcomes: once an entry has one, no stage may
// change it, and only the mailbox disposition remains to be done.
const (
	Stored       State = "stored"       // raw MIME in the blob store, not yet on a queue (retries; entries of earlier versions)
	Queued       State = "queued"       // pointer sent to the preprocess queue (at version 1: recorded so, sent right after)
	Preprocessed State = "preprocessed" // normalized message stored, pointer sent to the rules queue
	Processed    State = "processed"    // became a request or a conversation, or was ignored by a statement
	Rejected     State = "rejected"     // refused by a statement or the allow-list; Reason says why
	Failed       State = "failed"       // could not be processed after retries; Reason says why
	Duplicate    State = "duplicate"    // same content as DuplicateOf, seen under another identity
)

// Final reports whether s is an outcome.
func (s State) Final() bool {
	switch s {
	case Processed, Rejected, Failed, Duplicate:
		return true
	}
	return false
}

// Valid reports whether s is one of the known states.
func (s State) Valid() bool {
	switch s {
	case Stored, Queued, Preprocessed, Processed, Rejected, Failed, Duplicate:
		return true
	}
	return false
}

// Outcome is what became of a message, in an administrator's words.
type Outcome string

// The outcomes of a ledger entry.
const (
	OutcomeCreated   Outcome = "created"   // a new request
	OutcomeUpdated   Outcome = "updated"   // a conversation added to a request
	OutcomeIgnored   Outcome = "ignored"   // processed, nothing made (a statement, or made already)
	OutcomeRejected  Outcome = "rejected"  // refused by a statement or the allow-list
	OutcomeFailed    Outcome = "failed"    // could not be processed
	OutcomeDuplicate Outcome = "duplicate" // same content as an earlier message
	OutcomePending   Outcome = "pending"   // no outcome yet
)

// Outcome says what became of the message. A processed entry recorded
// without its Action counts as created when it made a conversation.
func (e Entry) Outcome() Outcome {
	switch e.State {
	case Processed:
		switch {
		case e.Action == "update":
			return OutcomeUpdated
		case e.Action == "ignore" || e.Conversation == "":
			return OutcomeIgnored
		}
		return OutcomeCreated
	case Rejected:
		return OutcomeRejected
	case Failed:
		return OutcomeFailed
	case Duplicate:
		return OutcomeDuplicate
	}
	return OutcomePending
}

// Source identifies one message in a mailbox so that a later session finds
// the same message again.
type Source struct {
	Protocol string `json:"protocol"`           // imap, pop3, graph, ews
	Folder   string `json:"folder,omitempty"`   // the server's folder name
	Validity uint32 `json:"validity,omitempty"` // IMAP UIDVALIDITY
	UID      uint32 `json:"uid,omitempty"`      // IMAP UID
	ID       string `json:"id,omitempty"`       // POP3 UIDL, Graph immutable id, EWS item id
}

// Key is the source identity as one string, unique within a job.
func (s Source) Key() string {
	if s.Protocol == "imap" {
		return "imap/" + s.Folder + "/" + strconv.FormatUint(uint64(s.Validity), 10) + "/" + strconv.FormatUint(uint64(s.UID), 10)
	}
	return s.Protocol + "/" + s.Folder + "/" + s.ID
}

// String is the form used in logs and errors.
func (s Source) String() string {
	if s.Protocol == "imap" {
		return fmt.Sprintf("%s uid %d (uidvalidity %d)", s.Folder, s.UID, s.Validity)
	}
	return fmt.Sprintf("%s %s %s", s.Protocol, s.Folder, s.ID)
}

// Fingerprint is the content identity of a raw message: its Message-ID and
// the hex SHA-256 of its bytes.
func Fingerprint(messageID, sha256hex string) string {
	return strings.TrimSpace(messageID) + "|" + sha256hex
}

// Entry is one ledger record.
type Entry struct {
	JobID        string   `json:"jobId"`
	Key          string   `json:"key"` // Source.Key()
	Source       Source   `json:"source"`
	Fingerprint  string   `json:"fingerprint"`
	MessageID    string   `json:"messageId,omitempty"`
	Size         int64    `json:"size"`
	RawKey       string   `json:"rawKey"`                   // blob key of the raw MIME
	NormKey      string   `json:"normKey,omitempty"`        // blob key of the normalized message
	State        State    `json:"state"`                    // see the State constants
	Reason       string   `json:"reason,omitempty"`         // why Rejected or Failed
	Warnings     []string `json:"warnings,omitempty"`       // processed, but with something to know
	RequestID    string   `json:"requestId,omitempty"`      // request created or updated
	Conversation string   `json:"conversationId,omitempty"` // conversation added
	// Action is what the processing statements decided for a processed or
	// rejected message: create, update, ignore or reject.
	Action      string `json:"action,omitempty"`
	DuplicateOf string `json:"duplicateOf,omitempty"` // key of the original, for Duplicate
	// RetryOf is the key of the earlier entry of the same message, whose
	// outcome (rejected or failed) sent it out of the job's folder; this
	// entry is a new attempt at it.
	RetryOf string `json:"retryOf,omitempty"`
	// What an administrator finds the message by, set by preprocessing
	// from its header (see Describe): the sender's address and display
	// name, the subject, the Date field, and its class (auto-reply,
	// bounce, list; "" for mail a person wrote).
	From     string    `json:"from,omitempty"`
	FromName string    `json:"fromName,omitempty"`
	Subject  string    `json:"subject,omitempty"`
	Date     time.Time `json:"date,omitzero"`
	Class    string    `json:"class,omitempty"`
	// Statement and Why are the processing statements' decision: the
	// statement that matched ("" for the defaults) and each step of the
	// reasoning, bounded (see Describe).
	Statement string    `json:"statement,omitempty"`
	Why       []string  `json:"why,omitempty"`
	RunID     string    `json:"runId,omitempty"`    // run that fetched it
	Attempts  int       `json:"attempts,omitempty"` // times a stage tried it
	FetchedAt time.Time `json:"fetchedAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// Disposed is set once the mailbox was told what became of the message
	// (marked read, deleted, moved). Disposition says what was done.
	Disposed    bool   `json:"disposed,omitempty"`
	Disposition string `json:"disposition,omitempty"`
	// InErrorFolder is set while the message sits in the job's error
	// folder: moved there for its outcome, and neither moved back nor
	// cleared by an administrator since.
	InErrorFolder bool `json:"inErrorFolder,omitempty"`
	// Version increases with every write; updates are conditional on it.
	Version int64 `json:"version"`
}

// Pointer is what travels on the queues: the message itself stays in the
// blob store and the ledger.
type Pointer struct {
	JobID string `json:"jobId"`
	Key   string `json:"key"`
	RunID string `json:"runId,omitempty"`
}
