// Package store declares the connector's persistent state: job leases,
// cursors, the message ledger, runs, and requests with their conversations.
// The boltstore (embedded, one file) and dynamostore (DynamoDB) adapters
// implement every interface here and pass the suite in storetest, so the
// embedded one behaves as the AWS one does.
package store

import (
	"context"
	"errors"
	"time"

	"mailconnector/shared/ledger"
	"mailconnector/shared/request"
	"mailconnector/shared/run"
)

// Errors the adapters return; callers branch on them with errors.Is.
var (
	ErrNotFound  = errors.New("store: not found")
	ErrLeaseHeld = errors.New("store: lease held by another run")
	ErrExists    = errors.New("store: already recorded")
	ErrDuplicate = errors.New("store: same content already recorded under another key")
	ErrConflict  = errors.New("store: changed by someone else")
	ErrFinal     = errors.New("store: ledger entry already has an outcome")
)

// Leases give one run at a time per job.
type Leases interface {
	// AcquireLease takes the job's lease for owner until now+ttl, if it is
	// free or expired (or already owner's), else ErrLeaseHeld.
	AcquireLease(ctx context.Context, jobID, owner string, ttl time.Duration) error
	// ReleaseLease gives the lease up if owner holds it.
	ReleaseLease(ctx context.Context, jobID, owner string) error
	// Lease returns the job's lease as stored, expired or not, to say who
	// holds it; ErrNotFound when there is none.
	Lease(ctx context.Context, jobID string) (Lease, error)
}

// Lease is a job's lease as stored.
type Lease struct {
	Owner   string    // the run (or command) that took it
	Expires time.Time // when it runs out unless renewed
	// Holder is the process that took it, where the store knows it
	// ("pid 1234 on host"; boltstore), else "".
	Holder string
}

// Cursors remember where a job's last run stopped in its mailbox.
type Cursors interface {
	// Cursor returns "" when the job has none yet.
	Cursor(ctx context.Context, jobID string) (string, error)
	SetCursor(ctx context.Context, jobID, cursor string) error
}

// RecordResult is the result of recording one entry.
type RecordResult struct {
	// Err is nil (recorded), ErrExists (Existing holds the entry under the
	// same key) or ErrDuplicate (Existing holds the entry with the same
	// fingerprint under another key).
	Err      error
	Existing ledger.Entry
}

// Ledger is the message ledger.
type Ledger interface {
	// Record inserts entries whose key and fingerprint are both new, in one
	// go where the backend allows, each with Version 1. The result has one
	// element per entry.
	Record(ctx context.Context, entries []ledger.Entry) ([]RecordResult, error)
	// Entry returns one entry, or ErrNotFound.
	Entry(ctx context.Context, jobID, key string) (ledger.Entry, error)
	// EntryByMessageID returns the job's entry recorded with that
	// Message-ID (the first one, if several), or ErrNotFound.
	EntryByMessageID(ctx context.Context, jobID, messageID string) (ledger.Entry, error)
	// Update stores e if the stored entry still has e.Version (else
	// ErrConflict), and returns it with the next version. An entry with an
	// outcome only accepts changes to its disposition (Disposed,
	// Disposition, InErrorFolder; else ErrFinal).
	Update(ctx context.Context, e ledger.Entry) (ledger.Entry, error)
	// Undisposed returns up to limit entries of the job that have an outcome
	// but were not yet disposed on the mailbox, oldest first.
	Undisposed(ctx context.Context, jobID string, limit int) ([]ledger.Entry, error)
	// ErrorFolder returns up to limit entries of the job whose message
	// sits in the error folder (InErrorFolder), oldest first; limit <= 0
	// means all.
	ErrorFolder(ctx context.Context, jobID string, limit int) ([]ledger.Entry, error)
	// Unfinished returns up to limit entries of the job without an outcome
	// last updated before the given time, oldest first.
	Unfinished(ctx context.Context, jobID string, before time.Time, limit int) ([]ledger.Entry, error)
}

// Runs keeps the record of job runs.
type Runs interface {
	PutRun(ctx context.Context, r run.Run) error
	// Runs returns up to limit runs of the job, newest first.
	Runs(ctx context.Context, jobID string, limit int) ([]run.Run, error)
}

// Outcome is what the rules stage decided for one message, stored at once.
type Outcome struct {
	// Entry is the ledger entry with its outcome (State, Reason,
	// RequestID, Conversation) set; stored only if the stored entry still has
	// Entry.Version and no outcome yet (else ErrConflict or ErrFinal).
	Entry ledger.Entry
	// NewRequest, when set, is created with the next request number
	// (Number and ID are assigned; the returned Outcome has them).
	NewRequest *request.Request
	// UpdateRequest, when set, replaces the stored request (reopen, fields).
	UpdateRequest *request.Request
	// Conversation, when set, is stored on NewRequest or its RequestID.
	Conversation *request.Conversation
	// MessageIDs are indexed to the request for threading.
	MessageIDs []string
	// Event, when set, makes the event that reports this outcome: Commit
	// calls it with the outcome as it is stored (request numbered, entry
	// updated; it may call it more than once) and stores what it returns
	// in the outbox in the same transaction, claimed until
	// EventClaimedUntil so that the committer publishes it first. The
	// returned Outcome's OutboxID names the outbox entry.
	Event             func(Outcome) ([]byte, error)
	EventClaimedUntil time.Time
	OutboxID          string
}

// Requests stores requests and conversations.
type Requests interface {
	// Commit stores an Outcome atomically: the request, the conversation,
	// the Message-ID index and the ledger outcome all happen, or none does.
	Commit(ctx context.Context, o Outcome) (Outcome, error)
	Request(ctx context.Context, id string) (request.Request, error)
	RequestByNumber(ctx context.Context, number int64) (request.Request, error)
	// RequestByMessageID returns the request a Message-ID was indexed to.
	RequestByMessageID(ctx context.Context, messageID string) (request.Request, error)
	// ListRequests returns up to limit requests, newest first; jobID "" is all jobs.
	ListRequests(ctx context.Context, jobID string, limit int) ([]request.Request, error)
	Conversations(ctx context.Context, requestID string) ([]request.Conversation, error)
	// IndexMessageID maps a Message-ID the connector sent (a notice) to a request.
	IndexMessageID(ctx context.Context, messageID, requestID string) error
}

// JobState is the per-job health the connector keeps between runs.
type JobState struct {
	JobID               string    `json:"jobId"`
	ConsecutiveFailures int       `json:"consecutiveFailures"`
	Alerted             bool      `json:"alerted"`
	LastSuccess         time.Time `json:"lastSuccess"`
	LastError           string    `json:"lastError,omitempty"`
	// Paused is set while fetching pauses for the error folder
	// (incoming.onError.stopAfter), so the administrators are told once.
	Paused bool `json:"paused,omitempty"`
	// QuietSince is when the job's runs last began to find nothing, and
	// LastPoll the start of its last run once they had found nothing for
	// schedule.idleAfter (job schedule.idleEvery); zero otherwise.
	QuietSince time.Time `json:"quietSince,omitzero"`
	LastPoll   time.Time `json:"lastPoll,omitzero"`
}

// JobStates keeps JobState.
type JobStates interface {
	JobState(ctx context.Context, jobID string) (JobState, error) // zero value when none
	PutJobState(ctx context.Context, s JobState) error
}

// Subscription is a job's Graph change notification subscription.
type Subscription struct {
	JobID       string    `json:"jobId"`
	ID          string    `json:"id"` // Graph's subscription id
	Resource    string    `json:"resource"`
	ClientState string    `json:"clientState"` // random per subscription; notifications must carry it
	Expires     time.Time `json:"expires"`
	Created     time.Time `json:"created"`
}

// Push keeps what push (Graph change notifications) needs between
// invocations: each job's subscription, and whether a notification came
// that no fetch run has started on yet.
type Push interface {
	// Subscription returns the job's subscription; ErrNotFound when none.
	Subscription(ctx context.Context, jobID string) (Subscription, error)
	PutSubscription(ctx context.Context, s Subscription) error
	DeleteSubscription(ctx context.Context, jobID string) error
	// MarkPushPending notes a notification for the job. first is true when
	// none was pending (or the pending one is older than stale, so its
	// fetch was lost): the caller then starts a fetch. Two calls at once
	// give first to one of them only.
	MarkPushPending(ctx context.Context, jobID string, now time.Time, stale time.Duration) (first bool, err error)
	// TakePushPending clears the job's pending notification and reports
	// whether there was one.
	TakePushPending(ctx context.Context, jobID string) (was bool, err error)
}

// OneTime keeps short-lived, single-use values (sign-in links, OAuth state
// with its PKCE verifier): put once, taken at most once, never after they
// expire.
type OneTime interface {
	PutOnce(ctx context.Context, key string, value []byte, expires time.Time) error
	// TakeOnce returns the value and deletes it; ErrNotFound when there is
	// none, it was taken already, or it expired before now.
	TakeOnce(ctx context.Context, key string, now time.Time) ([]byte, error)
}

// Quotas count uses of a limited thing (notices to one address, notices
// of one job) in fixed windows, so a limit holds across runs, processes
// and functions.
type Quotas interface {
	// TakeQuota counts one use of key in the window of length window
	// (aligned to the Unix epoch) that holds now, if fewer than limit
	// were counted there already; ok reports whether it was counted. Of
	// calls at once, at most limit get ok.
	TakeQuota(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (ok bool, err error)
}

// OutboxEntry is an event stored with the outcome it reports (Outcome.Event).
type OutboxEntry struct {
	ID      string    // assigned by Commit; IDs sort by Created
	JobID   string    // the ledger entry whose outcome the event reports
	Key     string    //
	Payload []byte    // as Outcome.Event returned it
	Created time.Time // when it was committed
}

// Outbox holds events stored with their outcomes until they are published,
// so an event whose publishing failed is published later: each entry is
// handed to one claimer at a time, and deleted once published.
type Outbox interface {
	// ClaimOutbox claims, until until, up to limit entries whose claim
	// ended before now (or that have none) and returns them, oldest
	// first. Of calls at once, one gets each entry.
	ClaimOutbox(ctx context.Context, now, until time.Time, limit int) ([]OutboxEntry, error)
	// DeleteOutbox removes a published entry; a missing one is no error.
	DeleteOutbox(ctx context.Context, id string) error
}

// Store is everything above; the adapters implement it whole.
type Store interface {
	Leases
	Cursors
	Ledger
	Runs
	Requests
	JobStates
	JobControls
	Push
	OneTime
	Quotas
	Outbox
	Forgetter
}
