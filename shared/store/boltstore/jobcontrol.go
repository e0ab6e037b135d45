package boltstore

import (
	"context"

	"mailconnector/shared/store"
)

var bucketJobControls = []byte("jobControls") // job → control

// JobControl returns the job's stored control; store.ErrNotFound when none.
func (s *Store) JobControl(ctx context.Context, jobID string) (store.JobControl, error) {
	var c store.JobControl
	if err := s.record(bucketJobControls, jobID, "control of job "+jobID, &c); err != nil {
		return store.JobControl{}, err
	}
	return c, nil
}

// PutJobControl stores the job's control.
func (s *Store) PutJobControl(ctx context.Context, c store.JobControl) error {
	if c.JobID == "" {
		return errRequired("job control job")
	}
	return s.putRecord(bucketJobControls, c.JobID, "control of job "+c.JobID, c)
}
