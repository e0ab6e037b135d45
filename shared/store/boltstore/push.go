package boltstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"mailconnector/shared/store"
)

var (
	bucketSubscriptions = []byte("subscriptions") // job → subscription
	bucketPushPending   = []byte("pushPending")   // job → pending since (RFC 3339)
)

// Subscription returns the job's subscription.
func (s *Store) Subscription(ctx context.Context, jobID string) (store.Subscription, error) {
	var sub store.Subscription
	err := s.record(bucketSubscriptions, jobID, "subscription of job "+jobID, &sub)
	return sub, err
}

// PutSubscription stores the job's subscription.
func (s *Store) PutSubscription(ctx context.Context, sub store.Subscription) error {
	if sub.JobID == "" || sub.ID == "" {
		return errRequired("subscription job and id")
	}
	return s.putRecord(bucketSubscriptions, sub.JobID, "subscription of job "+sub.JobID, sub)
}

// DeleteSubscription forgets the job's subscription.
func (s *Store) DeleteSubscription(ctx context.Context, jobID string) error {
	err := s.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSubscriptions).Delete([]byte(jobID))
	})
	if err != nil {
		return fmt.Errorf("boltstore: delete subscription of job %s: %w", jobID, err)
	}
	return nil
}

// MarkPushPending notes a notification; first when none was pending or the
// pending one is stale.
func (s *Store) MarkPushPending(ctx context.Context, jobID string, now time.Time, stale time.Duration) (bool, error) {
	first := false
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPushPending)
		if v := b.Get([]byte(jobID)); v != nil {
			since, err := time.Parse(time.RFC3339Nano, string(v))
			if err == nil && now.Sub(since) < stale {
				return nil
			}
		}
		first = true
		return b.Put([]byte(jobID), []byte(now.UTC().Format(time.RFC3339Nano)))
	})
	if err != nil {
		return false, fmt.Errorf("boltstore: mark push pending for job %s: %w", jobID, err)
	}
	return first, nil
}

// TakePushPending clears the job's pending notification.
func (s *Store) TakePushPending(ctx context.Context, jobID string) (bool, error) {
	was := false
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPushPending)
		was = b.Get([]byte(jobID)) != nil
		return b.Delete([]byte(jobID))
	})
	if err != nil {
		return false, fmt.Errorf("boltstore: take push pending for job %s: %w", jobID, err)
	}
	return was, nil
}

var bucketOnce = []byte("oneTime") // key → expiry (RFC 3339) NUL value

// PutOnce stores a single-use value.
func (s *Store) PutOnce(ctx context.Context, key string, value []byte, expires time.Time) error {
	v := append([]byte(expires.UTC().Format(time.RFC3339Nano)+"\x00"), value...)
	if err := s.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketOnce).Put([]byte(key), v) }); err != nil {
		return fmt.Errorf("boltstore: put one-time value: %w", err)
	}
	return nil
}

// TakeOnce returns and deletes a single-use value that has not expired.
func (s *Store) TakeOnce(ctx context.Context, key string, now time.Time) ([]byte, error) {
	var out []byte
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOnce)
		v := b.Get([]byte(key))
		if v == nil {
			return store.ErrNotFound
		}
		exp, rest, _ := strings.Cut(string(v), "\x00")
		if err := b.Delete([]byte(key)); err != nil {
			return err
		}
		t, err := time.Parse(time.RFC3339Nano, exp)
		if err != nil || !now.Before(t) {
			return store.ErrNotFound
		}
		out = []byte(rest)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: take one-time value: %w", err)
	}
	return out, nil
}
