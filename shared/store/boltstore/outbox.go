package boltstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"mailconnector/shared/store"
)

// bucketOutbox holds outbox ID → outboxValue. IDs begin with the commit
// time, fixed width, so the bucket's order is the entries' age.
var bucketOutbox = []byte("outbox")

type outboxValue struct {
	JobID      string    `json:"jobId"`
	Key        string    `json:"key"`
	Payload    []byte    `json:"payload"`
	Created    time.Time `json:"created"`
	ClaimUntil time.Time `json:"claimUntil"`
}

// outboxID names the outbox entry of a ledger entry's outcome.
func outboxID(created time.Time, jobID, key string) string {
	return created.UTC().Format("20060102T150405.000000000Z") + "#" + jobID + "#" + key
}

// putOutbox stores the event of out in tx (Commit's transaction).
func putOutbox(tx *bolt.Tx, o store.Outcome, out *store.Outcome, now time.Time) error {
	payload, err := o.Event(*out)
	if err != nil {
		return fmt.Errorf("make the event: %w", err)
	}
	b, err := tx.CreateBucketIfNotExists(bucketOutbox)
	if err != nil {
		return err
	}
	id := outboxID(now, out.Entry.JobID, out.Entry.Key)
	v := outboxValue{JobID: out.Entry.JobID, Key: out.Entry.Key, Payload: payload, Created: now, ClaimUntil: o.EventClaimedUntil}
	if err := putJSON(b, []byte(id), v); err != nil {
		return fmt.Errorf("store the event in the outbox: %w", err)
	}
	out.OutboxID = id
	return nil
}

// ClaimOutbox claims up to limit entries whose claim ended before now.
func (s *Store) ClaimOutbox(ctx context.Context, now, until time.Time, limit int) ([]store.OutboxEntry, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []store.OutboxEntry
	err := s.batch(func(tx *bolt.Tx) error {
		out = nil // batch may call this more than once
		b, err := tx.CreateBucketIfNotExists(bucketOutbox)
		if err != nil {
			return err
		}
		type claimed struct {
			id string
			v  outboxValue
		}
		var take []claimed
		c := b.Cursor()
		for k, data := c.First(); k != nil && len(take) < limit; k, data = c.Next() {
			var v outboxValue
			if err := json.Unmarshal(data, &v); err != nil {
				return fmt.Errorf("decode outbox entry %s: %w", k, err)
			}
			if v.ClaimUntil.Before(now) {
				take = append(take, claimed{string(k), v})
			}
		}
		for _, t := range take {
			t.v.ClaimUntil = until
			if err := putJSON(b, []byte(t.id), t.v); err != nil {
				return fmt.Errorf("claim outbox entry %s: %w", t.id, err)
			}
			out = append(out, store.OutboxEntry{ID: t.id, JobID: t.v.JobID, Key: t.v.Key, Payload: t.v.Payload, Created: t.v.Created})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: claim outbox entries: %w", err)
	}
	return out, nil
}

// DeleteOutbox removes an entry.
func (s *Store) DeleteOutbox(ctx context.Context, id string) error {
	err := s.batch(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketOutbox)
		if err != nil {
			return err
		}
		return b.Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("boltstore: delete outbox entry %s: %w", id, err)
	}
	return nil
}
