package boltstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"mailconnector/shared/redact"
	"mailconnector/shared/run"
	"mailconnector/shared/store"
)

type lease struct {
	Owner   string    `json:"owner"`
	Expires time.Time `json:"expires"`
	Holder  *holder   `json:"holder,omitempty"`
}

// AcquireLease takes the job's lease for owner until now+ttl if it is free,
// expired or already owner's; else store.ErrLeaseHeld.
func (s *Store) AcquireLease(ctx context.Context, jobID, owner string, ttl time.Duration) error {
	if jobID == "" || owner == "" {
		return errRequired("lease job and owner")
	}
	if ttl <= 0 {
		return fmt.Errorf("boltstore: acquire lease on job %s: ttl %v is not positive", jobID, ttl)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("boltstore: acquire lease on job %s: %w", jobID, err)
	}
	now := s.now()
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLeases)
		var cur lease
		found, err := getJSON(b, []byte(jobID), &cur)
		if err != nil {
			return err
		}
		if found && cur.Owner != owner && now.Before(cur.Expires) && !cur.Holder.staleFor(s.holder) {
			return store.ErrLeaseHeld
		}
		h := s.holder
		return putJSON(b, []byte(jobID), lease{Owner: owner, Expires: now.Add(ttl), Holder: &h})
	})
	if err != nil {
		return fmt.Errorf("boltstore: acquire lease on job %s: %w", jobID, err)
	}
	return nil
}

// ReleaseLease gives the job's lease up if owner holds it; otherwise it
// does nothing.
func (s *Store) ReleaseLease(ctx context.Context, jobID, owner string) error {
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLeases)
		var cur lease
		found, err := getJSON(b, []byte(jobID), &cur)
		if err != nil || !found || cur.Owner != owner {
			return err
		}
		return b.Delete([]byte(jobID))
	})
	if err != nil {
		return fmt.Errorf("boltstore: release lease on job %s: %w", jobID, err)
	}
	return nil
}

// Lease returns the job's lease as stored; store.ErrNotFound when none.
func (s *Store) Lease(ctx context.Context, jobID string) (store.Lease, error) {
	var cur lease
	if err := s.record(bucketLeases, jobID, "lease of job "+jobID, &cur); err != nil {
		return store.Lease{}, err
	}
	l := store.Lease{Owner: cur.Owner, Expires: cur.Expires}
	if h := cur.Holder; h != nil {
		l.Holder = fmt.Sprintf("pid %d on %s", h.PID, h.Host)
	}
	return l, nil
}

// Cursor returns the job's cursor, "" when it has none.
func (s *Store) Cursor(ctx context.Context, jobID string) (string, error) {
	var cursor string
	err := s.view(func(tx *bolt.Tx) error {
		cursor = string(tx.Bucket(bucketCursors).Get([]byte(jobID)))
		return nil
	})
	return cursor, err
}

// SetCursor stores the job's cursor.
func (s *Store) SetCursor(ctx context.Context, jobID, cursor string) error {
	if jobID == "" {
		return errRequired("cursor job")
	}
	err := s.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCursors).Put([]byte(jobID), []byte(cursor))
	})
	if err != nil {
		return fmt.Errorf("boltstore: set cursor of job %s: %w", jobID, err)
	}
	return nil
}

// JobState returns the job's state, the zero value (with JobID set) when
// none was stored.
func (s *Store) JobState(ctx context.Context, jobID string) (store.JobState, error) {
	st := store.JobState{JobID: jobID}
	err := s.view(func(tx *bolt.Tx) error {
		_, err := getJSON(tx.Bucket(bucketJobStates), []byte(jobID), &st)
		return err
	})
	if err != nil {
		return store.JobState{}, fmt.Errorf("boltstore: job state of %s: %w", jobID, err)
	}
	return st, nil
}

// PutJobState stores the job's state.
func (s *Store) PutJobState(ctx context.Context, st store.JobState) error {
	if st.JobID == "" {
		return errRequired("job state job")
	}
	st.LastError = redact.String(st.LastError) // secrets never reach the state file
	return s.putRecord(bucketJobStates, st.JobID, "job state of "+st.JobID, st)
}

// PutRun stores r, replacing the run with the same job and ID.
func (s *Store) PutRun(ctx context.Context, r run.Run) error {
	if r.JobID == "" || r.ID == "" {
		return errRequired("run job and id")
	}
	// Secrets never reach the state file.
	r.Errors, r.Notes = redact.Strings(slices.Clone(r.Errors)), redact.Strings(slices.Clone(r.Notes))
	err := s.update(func(tx *bolt.Tx) error {
		runs, byStart := tx.Bucket(bucketRuns), tx.Bucket(bucketRunsByStart)
		key := jobKey(r.JobID, []byte(r.ID))
		var old run.Run
		found, err := getJSON(runs, key, &old)
		if err != nil {
			return err
		}
		if found {
			if err := byStart.Delete(jobKey(r.JobID, timeKey(old.StartedAt), []byte(r.ID))); err != nil {
				return err
			}
		}
		if err := byStart.Put(jobKey(r.JobID, timeKey(r.StartedAt), []byte(r.ID)), nil); err != nil {
			return err
		}
		return putJSON(runs, key, r)
	})
	if err != nil {
		return fmt.Errorf("boltstore: put run %s of job %s: %w", r.ID, r.JobID, err)
	}
	return nil
}

// Runs returns up to limit runs of the job, newest StartedAt first; limit
// <= 0 means all.
func (s *Store) Runs(ctx context.Context, jobID string, limit int) ([]run.Run, error) {
	out := []run.Run{}
	err := s.view(func(tx *bolt.Tx) error {
		runs := tx.Bucket(bucketRuns)
		prefix := jobKey(jobID)
		return scanDesc(tx.Bucket(bucketRunsByStart).Cursor(), prefix, func(k, _ []byte) (bool, error) {
			id := k[len(prefix)+timeLen:]
			var r run.Run
			if _, err := getJSON(runs, jobKey(jobID, id), &r); err != nil {
				return false, err
			}
			out = append(out, r)
			return limit <= 0 || len(out) < limit, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: runs of job %s: %w", jobID, err)
	}
	return out, nil
}
