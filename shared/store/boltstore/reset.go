package boltstore

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"mailconnector/shared/ledger"
	"mailconnector/shared/store"
)

// forgetChunk bounds the keys one transaction of ForgetJob deletes, so
// that forgetting a large ledger does not hold it all in one transaction's
// dirty pages.
const forgetChunk = 1000

// ledgerIndexes are the buckets whose keys of a job start with jobKey.
var ledgerIndexes = [][]byte{
	bucketFingerprints, bucketLedgerMsgIDs, bucketUndisposed, bucketUnfinished, bucketErrorFolder, bucketLedgerByTime,
}

// ForgetJob removes the job's cursor and ledger entries with their
// indexes, in transactions of at most forgetChunk keys. bbolt keeps the
// freed pages in the file for later writes; the file does not shrink.
func (s *Store) ForgetJob(ctx context.Context, jobID string) (store.Forgotten, error) {
	var f store.Forgotten
	if jobID == "" {
		return f, errRequired("job")
	}
	prefix := jobKey(jobID)
	var err error
	// Each entry first, with its sender and Message-ID keys (which start
	// with those, not with the job).
	f.Entries, err = s.inChunks(ctx, func(tx *bolt.Tx) (int, error) {
		entries, who := tx.Bucket(bucketLedger), tx.Bucket(bucketLedgerWho)
		return deletePrefix(entries, prefix, func(k []byte) error {
			if who == nil {
				return nil // an index not created yet
			}
			var e ledger.Entry
			if _, err := getJSON(entries, k, &e); err != nil {
				return err
			}
			for _, w := range whoKeys(e) {
				if err := who.Delete(whoIndexKey(w, e)); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return f, fmt.Errorf("boltstore: forget the ledger of job %s: %w", jobID, err)
	}
	for _, name := range ledgerIndexes {
		_, err := s.inChunks(ctx, func(tx *bolt.Tx) (int, error) {
			if b := tx.Bucket(name); b != nil {
				return deletePrefix(b, prefix, nil)
			}
			return 0, nil
		})
		if err != nil {
			return f, fmt.Errorf("boltstore: forget the ledger index %s of job %s: %w", name, jobID, err)
		}
	}
	err = s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCursors)
		f.Cursor = b.Get([]byte(jobID)) != nil
		return b.Delete([]byte(jobID))
	})
	if err != nil {
		return f, fmt.Errorf("boltstore: forget the cursor of job %s: %w", jobID, err)
	}
	return f, nil
}

// inChunks runs fn in one transaction after another until it deletes
// fewer than forgetChunk keys, and returns how many it deleted in all.
func (s *Store) inChunks(ctx context.Context, fn func(tx *bolt.Tx) (int, error)) (int, error) {
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n := 0
		err := s.update(func(tx *bolt.Tx) error {
			var err error
			n, err = fn(tx)
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < forgetChunk {
			return total, nil
		}
	}
}

// deletePrefix deletes up to forgetChunk keys of b that start with
// prefix, calling before (unless nil) with each first, and returns how
// many it deleted.
func deletePrefix(b *bolt.Bucket, prefix []byte, before func(k []byte) error) (int, error) {
	var keys [][]byte
	err := scanAsc(b.Cursor(), prefix, func(k, _ []byte) (bool, error) {
		keys = append(keys, bytes.Clone(k))
		return len(keys) < forgetChunk, nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if before != nil {
			if err := before(k); err != nil {
				return 0, err
			}
		}
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}
