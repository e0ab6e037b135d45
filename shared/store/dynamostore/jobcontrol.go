package dynamostore

import (
	"context"
	"fmt"

	"mailconnector/shared/store"
)

// JobControl returns the job's stored control; store.ErrNotFound when none.
func (s *Store) JobControl(ctx context.Context, jobID string) (store.JobControl, error) {
	var c store.JobControl
	if err := s.getData(ctx, "JOB#"+jobID, "CONTROL", "control of job "+jobID, &c); err != nil {
		return store.JobControl{}, err
	}
	return c, nil
}

// PutJobControl stores the job's control.
func (s *Store) PutJobControl(ctx context.Context, c store.JobControl) error {
	if c.JobID == "" {
		return fmt.Errorf("dynamostore: put job control: the job is required")
	}
	return s.putData(ctx, "JOB#"+c.JobID, "CONTROL", "control of job "+c.JobID, c)
}
