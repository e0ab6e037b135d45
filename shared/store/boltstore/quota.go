package boltstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketQuotas holds key → "window count": the current window's number
// (Unix milliseconds / window length) and the uses counted in it. A use
// in a later window replaces the count, so each key keeps one value.
var bucketQuotas = []byte("quotas")

// TakeQuota counts one use of key in now's window if fewer than limit
// were counted there.
func (s *Store) TakeQuota(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (bool, error) {
	if limit <= 0 || window <= 0 {
		return false, nil
	}
	w := now.UnixMilli() / window.Milliseconds()
	ok := false
	err := s.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketQuotas)
		if err != nil {
			return err
		}
		n := 0
		if v := b.Get([]byte(key)); v != nil {
			ws, cs, _ := strings.Cut(string(v), " ")
			if pw, err := strconv.ParseInt(ws, 10, 64); err == nil && pw == w {
				n, _ = strconv.Atoi(cs)
			}
		}
		if n >= limit {
			return nil
		}
		ok = true
		return b.Put([]byte(key), []byte(strconv.FormatInt(w, 10)+" "+strconv.Itoa(n+1)))
	})
	if err != nil {
		return false, fmt.Errorf("boltstore: take quota %s: %w", key, err)
	}
	return ok, nil
}
