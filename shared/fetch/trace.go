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

// saveTrace stores the run's trace in the blob store, keyed by the run
// (mailtrace.Key), and names it in the run record. The blob store keeps
// it encrypted at rest on AWS (S3 server-side encryption).
func (s *Service) saveTrace(ctx context.Context, r *run.Run, rec *mailtrace.Recorder, log *slog.Logger) {
	if rec == nil {
		return
	}
	key := mailtrace.Key(r.JobID, r.ID)
	if _, err := s.o.Blobs.Put(ctx, key, strings.NewReader(rec.String())); err != nil {
		log.Error("store the run's trace", "err", err)
		r.Notes = append(r.Notes, "the protocol trace could not be stored: "+err.Error())
		return
	}
	r.Trace = key
}
