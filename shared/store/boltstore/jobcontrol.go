package boltstore

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"mailconnector/shared/store"
)

var bucketJobControls = []byte("jobControls") // job → control

// JobControl returns the job's stored control; store.ErrNotFound when none.
func (s *Store) JobControl(ctx context.Context, jobID string) (store.JobControl, error) {
	var c store.JobControl
	found := false
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		found, err = getJSON(tx.Bucket(bucketJobControls), []byte(jobID), &c)
		return err
	})
	if err != nil {
		return store.JobControl{}, fmt.Errorf("boltstore: control of job %s: %w", jobID, err)
	}
	if !found {
		return store.JobControl{}, fmt.Errorf("boltstore: control of job %s: %w", jobID, store.ErrNotFound)
	}
	return c, nil
}

// PutJobControl stores the job's control.
func (s *Store) PutJobControl(ctx context.Context, c store.JobControl) error {
	if c.JobID == "" {
		return errRequired("job control job")
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketJobControls), []byte(c.JobID), c)
	})
	if err != nil {
		return fmt.Errorf("boltstore: put control of job %s: %w", c.JobID, err)
	}
	return nil
}
