// Package run defines the record of one job run: when it started and ended,
// what it fetched and disposed, and what went wrong.
package run

import "time"

// Status of a finished run.
type Status string

// The run statuses.
const (
	Running Status = "running"
	OK      Status = "ok"      // finished, nothing left
	Partial Status = "partial" // stopped at a limit; a follow-up run continues
	Failed  Status = "failed"  // could not connect or stopped on an error
	Skipped Status = "skipped" // another run held the job's lease, the job is outside its window, or its quiet mailbox is not due (schedule.idleEvery)
	// Throttled: the server kept refusing requests for load (Graph 429), so
	// the run stopped cleanly; what it took is kept, the next run resumes.
	Throttled Status = "throttled"
	// Interrupted: the run was cancelled (Ctrl-C, SIGTERM). Not a failure:
	// it is not in the failure streak and raises no alert; what it took is
	// kept, and the next run resumes.
	Interrupted Status = "interrupted"
	// Paused: incoming.onError.stopAfter mails of the job sit in its error
	// folder, so the run fetched nothing new; fetching resumes once fewer
	// do (retried, moved back or cleared).
	Paused Status = "paused"
	// Disabled: the job is switched off (`connector disable`, or enabled:
	// false in the jobs file), so the run ended at once and touched
	// nothing; a forced run (`connector run --job`) still runs.
	Disabled Status = "disabled"
)

// LimitNote is the note of a run that stopped at its message limit.
const LimitNote = "limit reached, continues next run"

// Run is one run of a job.
type Run struct {
	JobID     string    `json:"jobId"`
	ID        string    `json:"id"`
	Trigger   string    `json:"trigger"` // schedule, push, manual, continue
	StartedAt time.Time `json:"startedAt"`
	EndedAt   time.Time `json:"endedAt"`
	Status    Status    `json:"status"`
	// Fetched counts new messages stored and queued; Duplicates those already
	// in the ledger under another identity; Skipped those over the size limit.
	Fetched    int   `json:"fetched"`
	Bytes      int64 `json:"bytes"`
	Duplicates int   `json:"duplicates"`
	// MovedBack counts messages taken again after an administrator put
	// them back from the error folder (counted in Fetched too).
	MovedBack  int `json:"movedBack,omitempty"`
	Requeued   int `json:"requeued"`
	Disposed   int `json:"disposed"`
	ErrorMails int `json:"errorMails"`
	// Outcomes of the messages this run disposed: a request created, a
	// conversation added to a request, ignored by a statement, rejected,
	// failed; ErrorFolder counts those moved to the error folder.
	Created     int `json:"created,omitempty"`
	Updated     int `json:"updated,omitempty"`
	Ignored     int `json:"ignored,omitempty"`
	Rejected    int `json:"rejected,omitempty"`
	Failed      int `json:"failed,omitempty"`
	ErrorFolder int `json:"errorFolder,omitempty"`
	Oversized   int `json:"oversized"`
	// More is true when mail was left for a follow-up run; Backlog is how
	// many messages it left.
	More    bool `json:"more"`
	Backlog int  `json:"backlog"`
	// ConsecutiveFailures counts this and the failed runs right before it
	// (0 after a success); an alert resets the job's count, not this.
	ConsecutiveFailures int `json:"consecutiveFailures"`
	// Recovered marks the first successful run after failed ones.
	Recovered bool `json:"recovered,omitempty"`
	// Errors say what went wrong, naming the step and the message.
	Errors []string `json:"errors,omitempty"`
	// Notes are things an administrator should know (a plain-text fallback,
	// a UIDVALIDITY change).
	Notes []string `json:"notes,omitempty"`
	// Trace is the blob key of the run's protocol trace (job debug.trace
	// or --trace), "" without one.
	Trace string `json:"trace,omitempty"`
}

// Duration is how long the run took: zero while it has no end time, and
// never negative.
func (r Run) Duration() time.Duration {
	if r.EndedAt.IsZero() || r.StartedAt.IsZero() || r.EndedAt.Before(r.StartedAt) {
		return 0
	}
	return r.EndedAt.Sub(r.StartedAt)
}

// FoundNothing reports whether r succeeded without finding work: nothing
// fetched or requeued, and nothing left for a follow-up run. The fetch
// stage counts such runs towards a quiet spell (schedule.idleEvery), and
// the fetch function writes no metrics for them.
func (r Run) FoundNothing() bool {
	return r.Status == OK && r.Fetched == 0 && r.Requeued == 0 && r.Backlog == 0 && !r.More
}
