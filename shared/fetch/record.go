package fetch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/notify"
	"mailconnector/shared/run"
)

// health keeps the job's consecutive-failure count and alerts the
// administrators when it reaches the job's threshold, and again on
// recovery. It returns the count including this run, before any reset,
// and whether this run succeeded after failed ones.
func (s *Service) health(ctx context.Context, j *job.Job, r run.Run, runErr error, log *slog.Logger) (count int, recovered bool) {
	st, err := s.o.Store.JobState(ctx, j.ID)
	if err != nil {
		log.Warn("read job state", "err", err)
		return 0, false
	}
	st.JobID = j.ID
	before := st
	if runErr == nil {
		recovered = before.ConsecutiveFailures > 0 || before.Alerted
		if st.Alerted {
			s.notify(ctx, notify.Notice{Kind: "recovery", JobID: j.ID, To: j.Notifications.Admins,
				Subject: fmt.Sprintf("Mail job %q is fetching again", j.Name),
				Body:    fmt.Sprintf("Run %s of job %s succeeded after earlier failures.", r.ID, j.ID)}, log)
		}
		st.ConsecutiveFailures, st.Alerted, st.LastSuccess, st.LastError = 0, false, r.EndedAt, ""
	} else {
		st.ConsecutiveFailures++
		count = st.ConsecutiveFailures
		st.LastError = runErr.Error()
		if st.ConsecutiveFailures >= j.Notifications.ConnectionFailures {
			s.notify(ctx, notify.Notice{Kind: "alert", JobID: j.ID, To: j.Notifications.Admins,
				Subject: fmt.Sprintf("Mail job %q failed %d runs in a row", j.Name, st.ConsecutiveFailures),
				Body:    fmt.Sprintf("The last error was: %s", runErr)}, log)
			st.ConsecutiveFailures, st.Alerted = 0, true
		}
	}
	idleChanged := trackIdle(&st, j, r, runErr)
	if runErr == nil && before.ConsecutiveFailures == 0 && !before.Alerted && before.LastError == "" && !before.LastSuccess.IsZero() &&
		st.LastSuccess.Sub(before.LastSuccess) < time.Hour && !idleChanged {
		// Nothing an administrator would miss changed: spare the store a
		// write on every quiet run (LastSuccess is refreshed hourly).
		return count, recovered
	}
	if err := s.o.Store.PutJobState(ctx, st); err != nil {
		log.Warn("write job state", "err", err)
	}
	return count, recovered
}

func (s *Service) notify(ctx context.Context, n notify.Notice, log *slog.Logger) {
	if s.o.Notifier == nil {
		log.Warn("notice", "kind", n.Kind, "subject", n.Subject)
		return
	}
	if err := s.o.Notifier.Notify(ctx, n); err != nil {
		log.Error("send notice", "kind", n.Kind, "err", err)
	}
}

func newRunID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}
