package boltstore

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"mailconnector/shared/store"
)

// record reads the JSON record stored under key in bucket into v;
// store.ErrNotFound when there is none. what names the record in errors.
func (s *Store) record(bucket []byte, key, what string, v any) error {
	var found bool
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		found, err = getJSON(tx.Bucket(bucket), []byte(key), v)
		return err
	})
	if err == nil && !found {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("boltstore: %s: %w", what, err)
	}
	return nil
}

// putRecord stores v as the JSON record under key in bucket. what names
// the record in errors.
func (s *Store) putRecord(bucket []byte, key, what string, v any) error {
	err := s.update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucket), []byte(key), v)
	})
	if err != nil {
		return fmt.Errorf("boltstore: put %s: %w", what, err)
	}
	return nil
}
