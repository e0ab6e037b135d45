package fetch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"mailconnector/shared/ledger"
	"mailconnector/shared/store"
)

// leftErrorFolder records that the message of e no longer sits in the
// error folder, and why.
func leftErrorFolder(ctx context.Context, st store.Ledger, e ledger.Entry, why string, now time.Time) error {
	key := e.Key
	for attempt := 0; ; attempt++ {
		if !e.InErrorFolder {
			return nil
		}
		e.InErrorFolder, e.Disposition, e.UpdatedAt = false, e.Disposition+"; "+why, now
		_, err := st.Update(ctx, e)
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrConflict) || attempt >= 3 {
			return fmt.Errorf("mark %s out of the error folder: %w", key, err)
		}
		if e, err = st.Entry(ctx, e.JobID, key); err != nil {
			return fmt.Errorf("mark %s out of the error folder: %w", key, err)
		}
	}
}

// ClearErrors forgets the mails the ledger counts in the job's error
// folder, so that fetching paused by incoming.onError.stopAfter resumes.
// The mails stay where they are on the server. It returns how many it
// cleared.
func (s *Service) ClearErrors(ctx context.Context, jobID string) (int, error) {
	in, err := s.o.Store.ErrorFolder(ctx, jobID, 0)
	if err != nil {
		return 0, fmt.Errorf("job %s: list the error folder: %w", jobID, err)
	}
	for i, e := range in {
		if err := leftErrorFolder(ctx, s.o.Store, e, "cleared", s.o.Now()); err != nil {
			return i, fmt.Errorf("job %s: %w", jobID, err)
		}
	}
	return len(in), nil
}
