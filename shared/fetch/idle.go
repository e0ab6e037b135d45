package fetch

import (
	"context"
	"fmt"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/run"
	"mailconnector/shared/store"
)

// Polling a quiet mailbox less often (job schedule.idleEvery; the why is
// in shared/job/idle.go). The job's state says since when its runs have
// found nothing (QuietSince) and when it was last polled in that spell
// (LastPoll); health keeps both, at one write when a spell starts, one per
// poll once idleAfter has passed, and one when mail ends it.

// idleSlack lets a scheduled run that comes a little early still poll:
// a 1-minute schedule's runs do not start on the second.
const idleSlack = 30 * time.Second

// idle reports whether the scheduled run req of j should end at once, the
// mailbox being quiet and not due, and says why.
func (s *Service) idle(ctx context.Context, j *job.Job, req RunOptions, now time.Time) (string, error) {
	every := j.Schedule.IdleEvery.D()
	if every <= 0 || req.Trigger != "schedule" || req.Force || req.RequeueAll {
		return "", nil
	}
	st, err := s.o.Store.JobState(ctx, j.ID)
	if err != nil {
		return "", fmt.Errorf("job %s: read job state: %w", j.ID, err)
	}
	after := j.Schedule.IdleAfterOrDefault()
	if st.QuietSince.IsZero() || now.Sub(st.QuietSince) < after || st.LastPoll.IsZero() {
		return "", nil
	}
	due := st.LastPoll.Add(every)
	if !now.Add(idleSlack).Before(due) {
		return "", nil
	}
	return fmt.Sprintf("nothing new since %s: the mailbox is polled %s (schedule.idleEvery), next after %s",
		st.QuietSince.UTC().Format(time.RFC3339), j.Schedule.DescribeIdle(), due.UTC().Format(time.RFC3339)), nil
}

// trackIdle updates the quiet spell in st after run r; it reports whether
// st changed (and must be written).
func trackIdle(st *store.JobState, j *job.Job, r run.Run, runErr error) bool {
	before := *st
	switch {
	case j.Schedule.IdleEvery <= 0 || runErr != nil || !r.FoundNothing():
		st.QuietSince, st.LastPoll = time.Time{}, time.Time{}
	case st.QuietSince.IsZero():
		st.QuietSince = r.StartedAt
	case r.StartedAt.Sub(st.QuietSince) >= j.Schedule.IdleAfterOrDefault():
		st.LastPoll = r.StartedAt
	}
	return !st.QuietSince.Equal(before.QuietSince) || !st.LastPoll.Equal(before.LastPoll)
}
