package fetch

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox/mailtrace"
	"mailconnector/shared/run"
)

// startTrace starts recording the run's protocol conversation when the
// job's debug.trace is on (until debug.until) or the run asks for it; the
// returned context carries the recorder to the opener.
func startTrace(ctx context.Context, j *job.Job, req RunOptions, now time.Time) (context.Context, *mailtrace.Recorder) {
	if !req.Trace && !j.Debug.Tracing(now) {
		return ctx, nil
	}
	rec := mailtrace.New(0)
	return mailtrace.With(ctx, rec), rec
}

// saveTrace stores the run's trace keyed by the run (mailtrace.Key) and
// names it in the run record. It is sealed like the error details
// (Options.ErrorDetails) when those are sealed; otherwise it sits in the
// blob store, which on AWS encrypts at rest (S3 server-side encryption).
func (s *Service) saveTrace(ctx context.Context, r *run.Run, rec *mailtrace.Recorder, log *slog.Logger) {
	if rec == nil {
		return
	}
	key := mailtrace.Key(r.JobID, r.ID)
	to := s.o.Blobs
	if s.o.ErrorDetails != nil {
		to = s.o.ErrorDetails
	}
	if _, err := to.Put(ctx, key, strings.NewReader(rec.String())); err != nil {
		log.Error("store the run's trace", "err", err)
		r.Notes = append(r.Notes, "the protocol trace could not be stored: "+err.Error())
		return
	}
	r.Trace = key
}
