package fetch

import (
	"context"
	"fmt"

	"mailconnector/shared/notify"
	"mailconnector/shared/run"
)

// paused reports whether incoming.onError.stopAfter mails of the job sit
// in its error folder, counted from the ledger across runs. The
// administrators are told once when fetching pauses; the job state
// remembers it until fewer mails sit there.
func (rs *runState) paused(ctx context.Context) (bool, error) {
	stop := rs.j.Incoming.OnError.StopAfter
	if stop <= 0 {
		return false, nil
	}
	st := rs.s.o.Store
	in, err := st.ErrorFolder(ctx, rs.j.ID, stop)
	if err != nil {
		return false, fmt.Errorf("job %s: count the error folder: %w", rs.j.ID, err)
	}
	js, err := st.JobState(ctx, rs.j.ID)
	if err != nil {
		return false, fmt.Errorf("job %s: read job state: %w", rs.j.ID, err)
	}
	pause := len(in) >= stop
	if pause != js.Paused {
		js.JobID, js.Paused = rs.j.ID, pause
		if err := st.PutJobState(ctx, js); err != nil {
			return false, fmt.Errorf("job %s: write job state: %w", rs.j.ID, err)
		}
		if pause {
			rs.s.notify(ctx, notify.Notice{Kind: "paused", JobID: rs.j.ID, To: rs.j.Notifications.Admins,
				Subject: fmt.Sprintf("Mail job %q paused: %d mails in the error folder", rs.j.Name, stop),
				Body: fmt.Sprintf("Job %s stops fetching while %d or more of its mails sit in the error folder (incoming.onError.stopAfter). "+
					"It resumes once fewer do: retry them, move them back to the job's folder, or clear the errors.", rs.j.ID, stop)}, rs.log)
		} else {
			rs.log.Info("fetching resumes: fewer mails in the error folder than incoming.onError.stopAfter", "stopAfter", stop)
		}
	}
	if pause {
		rs.r.Status = run.Paused
		rs.r.Notes = append(rs.r.Notes, fmt.Sprintf("paused: %d mails in the error folder (incoming.onError.stopAfter %d); fetching resumes when fewer remain", len(in), stop))
	}
	return pause, nil
}
