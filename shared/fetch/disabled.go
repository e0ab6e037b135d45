package fetch

import (
	"context"
	"fmt"
	"log/slog"

	"mailconnector/shared/job"
	"mailconnector/shared/run"
	"mailconnector/shared/store"
)

// disabled reports whether the job is switched off (its stored control,
// else the jobs file); then it ends r at once as run.Disabled with a note
// saying who switched it off and why, and records it. The run touches
// neither the mailbox nor the job's health.
func (s *Service) disabled(ctx context.Context, j *job.Job, r *run.Run, log *slog.Logger) (bool, error) {
	sw, err := store.JobSwitch(ctx, s.o.Store, j)
	if err != nil {
		return false, fmt.Errorf("job %s: %w", j.ID, err)
	}
	if sw.Enabled {
		return false, nil
	}
	r.Status = run.Disabled
	r.EndedAt = s.o.Now()
	r.Notes = append(r.Notes, "the job is disabled: "+sw.Why())
	if err := s.o.Store.PutRun(ctx, *r); err != nil {
		return true, fmt.Errorf("job %s: record the disabled run: %w", j.ID, err)
	}
	log.Info("run ended: the job is disabled", "why", sw.Why())
	return true, nil
}
