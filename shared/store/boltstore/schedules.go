package boltstore

import (
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"mailconnector/shared/store"
)

var _ store.ScheduleRecords = (*Store)(nil)

// bucketSchedules holds the schedule sync's records: name → record. It is
// made by the first write, so a state file of an older version opens as
// it is; no bucket reads as no records.
var bucketSchedules = []byte("scheduleRecords")

// ScheduleRecords returns every record, sorted by name (bolt keeps keys
// in byte order).
func (s *Store) ScheduleRecords(ctx context.Context) ([]store.ScheduleRecord, error) {
	var out []store.ScheduleRecord
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSchedules)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var r store.ScheduleRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("record %s: %w", k, err)
			}
			out = append(out, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: schedule records: %w", err)
	}
	return out, nil
}

// PutScheduleRecord stores r.
func (s *Store) PutScheduleRecord(ctx context.Context, r store.ScheduleRecord) error {
	if r.Name == "" {
		return errRequired("schedule record name")
	}
	err := s.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketSchedules)
		if err != nil {
			return err
		}
		return putJSON(b, []byte(r.Name), r)
	})
	if err != nil {
		return fmt.Errorf("boltstore: put record of schedule %s: %w", r.Name, err)
	}
	return nil
}

// DeleteScheduleRecord forgets the record of name.
func (s *Store) DeleteScheduleRecord(ctx context.Context, name string) error {
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSchedules)
		if b == nil {
			return nil
		}
		return b.Delete([]byte(name))
	})
	if err != nil {
		return fmt.Errorf("boltstore: delete record of schedule %s: %w", name, err)
	}
	return nil
}
