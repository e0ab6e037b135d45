package fetch

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/run"
	"mailconnector/shared/store"
)

// RetryResult says what a retry did with one ledger entry.
type RetryResult struct {
	Key    string // the entry asked for
	NewKey string // the entry of the new attempt; "" when none was made
	Note   string // what happened, in an administrator's words
}

// Retry processes the job's rejected or failed messages with those keys
// once more, under the current preprocessing rules and processing
// statements: each gets a new ledger entry linked by RetryOf, on the stored
// raw copy, sent to the preprocess queue. A message that made a request
// makes none: it is not retried, and a retry whose Message-ID made one
// meanwhile is recorded as ignored by the rules stage, saying so.
func (s *Service) Retry(ctx context.Context, j *job.Job, keys []string) ([]RetryResult, error) {
	entries := make([]ledger.Entry, 0, len(keys))
	out := make([]RetryResult, 0, len(keys))
	for _, k := range keys {
		e, err := s.o.Store.Entry(ctx, j.ID, k)
		if errors.Is(err, store.ErrNotFound) {
			out = append(out, RetryResult{Key: k, Note: "not in the ledger"})
			continue
		}
		if err != nil {
			return out, fmt.Errorf("job %s: read %s: %w", j.ID, k, err)
		}
		entries = append(entries, e)
	}
	res, err := s.retry(ctx, j, entries)
	return append(out, res...), err
}

// RetryWhere retries the job's messages in the error folder whose
// outcome is state (rejected or failed), moved there since since (zero:
// any time). See Retry.
func (s *Service) RetryWhere(ctx context.Context, j *job.Job, state ledger.State, since time.Time) ([]RetryResult, error) {
	in, err := s.o.Store.ErrorFolder(ctx, j.ID, 0)
	if err != nil {
		return nil, fmt.Errorf("job %s: list the error folder: %w", j.ID, err)
	}
	var entries []ledger.Entry
	for _, e := range in {
		if e.State == state && !e.UpdatedAt.Before(since) {
			entries = append(entries, e)
		}
	}
	return s.retry(ctx, j, entries)
}

func (s *Service) retry(ctx context.Context, j *job.Job, entries []ledger.Entry) ([]RetryResult, error) {
	now := s.o.Now()
	r := run.Run{JobID: j.ID, ID: newRunID(now), Trigger: "retry", StartedAt: now}
	rs := &runState{s: s, j: j, r: &r, log: s.o.Logger.With("job", j.ID, "run", r.ID)}
	var out []RetryResult
	var queued []ledger.Entry
	for _, e := range entries {
		res := RetryResult{Key: e.Key}
		switch {
		case e.State == ledger.Processed && e.RequestID != "":
			res.Note = "already made request " + e.RequestID + ": not retried"
		case e.State != ledger.Rejected && e.State != ledger.Failed:
			res.Note = fmt.Sprintf("%s, not rejected or failed: nothing to retry", e.Outcome())
		case e.RawKey == "":
			res.Note = "no raw copy stored (never downloaded): cannot retry"
		}
		if res.Note != "" {
			out = append(out, res)
			continue
		}
		if err := s.rawBack(ctx, e); err != nil {
			res.Note = "cannot retry: " + err.Error()
			out = append(out, res)
			continue
		}
		next, err := s.recordRetry(ctx, e, r.ID, now)
		if err != nil {
			return out, fmt.Errorf("job %s: %w", j.ID, err)
		}
		if err := leftErrorFolder(ctx, s.o.Store, e, "retried as "+next.Key, now); err != nil {
			return out, fmt.Errorf("job %s: %w", j.ID, err)
		}
		res.NewKey, res.Note = next.Key, "queued as "+next.Key
		rs.log.Info("message retried", "ledgerKey", e.Key, "retry", next.Key)
		out = append(out, res)
		queued = append(queued, next)
	}
	return out, rs.enqueue(ctx, nil, queued)
}

// recordRetry records a new attempt at e under the next free key.
func (s *Service) recordRetry(ctx context.Context, e ledger.Entry, runID string, now time.Time) (ledger.Entry, error) {
	for n := 1; ; n++ {
		next := ledger.Entry{JobID: e.JobID, Key: e.Key + "#retry" + strconv.Itoa(n), Source: e.Source,
			MessageID: e.MessageID, Size: e.Size, RawKey: e.RawKey, State: ledger.Stored, RetryOf: e.Key,
			RunID: runID, FetchedAt: now, UpdatedAt: now}
		res, err := s.o.Store.Record(ctx, []ledger.Entry{next})
		if err != nil {
			return next, fmt.Errorf("record a retry of %s: %w", e.Key, err)
		}
		switch {
		case res[0].Err == nil:
			next.Version = 1
			return next, nil
		case !errors.Is(res[0].Err, store.ErrExists) || n >= 100:
			return next, fmt.Errorf("record a retry of %s: %w", e.Key, res[0].Err)
		}
	}
}
