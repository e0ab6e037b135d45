package store

import "context"

// Forgotten says what ForgetJob removed.
type Forgotten struct {
	Entries int  // ledger entries, with their indexes
	Cursor  bool // whether the job had a cursor
}

// Forgetter forgets a job's place in its mailbox (`connector reset`).
type Forgetter interface {
	// ForgetJob removes the job's cursor and every ledger entry of the job
	// with its indexes, so that its next run takes every message in its
	// folder as new. Runs, requests, conversations, the Message-ID index
	// of requests, the job's state, control and lease stay. The caller
	// holds the job's lease. It need not be one transaction: after an
	// error, calling it again removes the rest.
	ForgetJob(ctx context.Context, jobID string) (Forgotten, error)
}
