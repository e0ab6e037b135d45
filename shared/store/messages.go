package store

import (
	"context"
	"strings"
	"time"

	"mailconnector/shared/ledger"
)

// MessageQuery selects ledger entries of one job for an administrator
// (`connector messages JOB`). Zero fields select everything.
type MessageQuery struct {
	JobID string
	// Status is an outcome or ledger.StatusError (see ledger.Entry.Is).
	Status string
	// Since keeps entries fetched at or after it.
	Since time.Time
	// From keeps entries whose sender address or display name holds it,
	// in any case; Subject those whose subject holds it, in any case.
	From, Subject string
	// Limit bounds the entries returned; <= 0 means all.
	Limit int
}

// Match reports whether e is selected by q (all but JobID, Since and
// Limit, which the adapters apply as they read).
func (q MessageQuery) Match(e ledger.Entry) bool {
	return e.Is(q.Status) &&
		(q.From == "" || contains(e.From, q.From) || contains(e.FromName, q.From)) &&
		(q.Subject == "" || contains(e.Subject, q.Subject))
}

func contains(s, sub string) bool { return strings.Contains(strings.ToLower(s), strings.ToLower(sub)) }

// WhoKey is the form under which a sender address or a Message-ID is
// looked up (FindMessages): without angle brackets and white space, in
// lower case. Addresses' local parts are matched without case, as mail
// systems in practice do (RFC 5321 section 2.4 allows either).
func WhoKey(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
	return strings.ToLower(strings.TrimSpace(s))
}

// Messages finds ledger entries for an administrator: what became of a
// job's messages, and where a given message went whichever job took it.
type Messages interface {
	// Messages returns the job's entries that q selects, newest FetchedAt
	// first (then key, descending).
	Messages(ctx context.Context, q MessageQuery) ([]ledger.Entry, error)
	// FindMessages returns the entries of every job whose Message-ID or
	// sender address is who (compared as WhoKey), newest FetchedAt first,
	// up to limit (<= 0: all).
	FindMessages(ctx context.Context, who string, limit int) ([]ledger.Entry, error)
}
