package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"mailconnector/shared/ledger"
	"mailconnector/shared/store"
)

func undisposed(e ledger.Entry) bool { return e.State.Final() && !e.Disposed }
func unfinished(e ledger.Entry) bool { return !e.State.Final() }

// indexKey is the key of e in the undisposed and unfinished indexes.
func indexKey(e ledger.Entry) []byte {
	return jobKey(e.JobID, timeKey(e.UpdatedAt), []byte(e.Key))
}

func getEntry(tx *bolt.Tx, jobID, key string) (ledger.Entry, bool, error) {
	var e ledger.Entry
	found, err := getJSON(tx.Bucket(bucketLedger), jobKey(jobID, []byte(key)), &e)
	return e, found, err
}

// putEntry writes e and keeps the indexes in step; old is the stored entry
// it replaces, nil for a new one.
func putEntry(tx *bolt.Tx, old *ledger.Entry, e ledger.Entry) error {
	undisp, unfin, errs := tx.Bucket(bucketUndisposed), tx.Bucket(bucketUnfinished), tx.Bucket(bucketErrorFolder)
	if old != nil {
		if err := undisp.Delete(indexKey(*old)); err != nil {
			return err
		}
		if err := errs.Delete(indexKey(*old)); err != nil {
			return err
		}
		if err := unfin.Delete(indexKey(*old)); err != nil {
			return err
		}
	} else {
		// The fingerprint and Message-ID indexes are written once, when
		// the entry is recorded.
		if e.Fingerprint != "" {
			if err := tx.Bucket(bucketFingerprints).Put(jobKey(e.JobID, []byte(e.Fingerprint)), []byte(e.Key)); err != nil {
				return err
			}
		}
		if e.MessageID != "" {
			b := tx.Bucket(bucketLedgerMsgIDs)
			if k := jobKey(e.JobID, []byte(e.MessageID)); b.Get(k) == nil {
				if err := b.Put(k, []byte(e.Key)); err != nil {
					return err
				}
			}
		}
	}
	if undisposed(e) {
		if err := undisp.Put(indexKey(e), nil); err != nil {
			return err
		}
	}
	if unfinished(e) {
		if err := unfin.Put(indexKey(e), nil); err != nil {
			return err
		}
	}
	if e.InErrorFolder {
		if err := errs.Put(indexKey(e), nil); err != nil {
			return err
		}
	}
	if err := indexMessage(tx, old, e); err != nil {
		return err
	}
	return putJSON(tx.Bucket(bucketLedger), jobKey(e.JobID, []byte(e.Key)), e)
}

// Record inserts the entries whose key and fingerprint are new, with
// Version 1, in one transaction. A later entry of the batch sees the earlier
// ones: a repeated key is ErrExists, a repeated fingerprint ErrDuplicate.
func (s *Store) Record(ctx context.Context, entries []ledger.Entry) ([]store.RecordResult, error) {
	for _, e := range entries {
		if e.JobID == "" || e.Key == "" {
			return nil, errRequired("ledger entry job and key")
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("boltstore: record %d ledger entries: %w", len(entries), err)
	}
	var results []store.RecordResult
	err := s.update(func(tx *bolt.Tx) error {
		results = make([]store.RecordResult, len(entries))
		fps := tx.Bucket(bucketFingerprints)
		for i, e := range entries {
			existing, found, err := getEntry(tx, e.JobID, e.Key)
			if err != nil {
				return err
			}
			if found {
				results[i] = store.RecordResult{Err: store.ErrExists, Existing: existing}
				continue
			}
			if e.Fingerprint != "" {
				if other := fps.Get(jobKey(e.JobID, []byte(e.Fingerprint))); other != nil {
					existing, found, err := getEntry(tx, e.JobID, string(other))
					if err != nil {
						return err
					}
					if !found {
						return fmt.Errorf("fingerprint index names missing entry %s", other)
					}
					results[i] = store.RecordResult{Err: store.ErrDuplicate, Existing: existing}
					continue
				}
			}
			e.Version = 1
			if err := putEntry(tx, nil, e); err != nil {
				return fmt.Errorf("entry %s: %w", e.Key, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: record %d ledger entries: %w", len(entries), err)
	}
	return results, nil
}

// Entry returns one entry, or store.ErrNotFound.
func (s *Store) Entry(ctx context.Context, jobID, key string) (ledger.Entry, error) {
	var e ledger.Entry
	var found bool
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		e, found, err = getEntry(tx, jobID, key)
		return err
	})
	if err == nil && !found {
		err = store.ErrNotFound
	}
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("boltstore: ledger entry %s of job %s: %w", key, jobID, err)
	}
	return e, nil
}

// EntryByMessageID returns the job's entry recorded with messageID.
func (s *Store) EntryByMessageID(ctx context.Context, jobID, messageID string) (ledger.Entry, error) {
	var key []byte
	err := s.view(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketLedgerMsgIDs).Get(jobKey(jobID, []byte(messageID))); v != nil {
			key = append([]byte(nil), v...)
		}
		return nil
	})
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("boltstore: ledger entry of message id %q: %w", messageID, err)
	}
	if key == nil {
		return ledger.Entry{}, fmt.Errorf("boltstore: ledger entry of message id %q: %w", messageID, store.ErrNotFound)
	}
	return s.Entry(ctx, jobID, string(key))
}

// onlyDisposition reports whether next differs from stored in nothing but
// Disposed, Disposition, UpdatedAt and Version.
func onlyDisposition(stored, next ledger.Entry) (bool, error) {
	next.Disposed, next.Disposition, next.InErrorFolder = stored.Disposed, stored.Disposition, stored.InErrorFolder
	next.UpdatedAt, next.Version = stored.UpdatedAt, stored.Version
	a, err := json.Marshal(normalize(stored))
	if err != nil {
		return false, err
	}
	b, err := json.Marshal(normalize(next))
	if err != nil {
		return false, err
	}
	return bytes.Equal(a, b), nil
}

// normalize puts times in UTC so that equal instants encode the same.
func normalize(e ledger.Entry) ledger.Entry {
	e.FetchedAt, e.UpdatedAt = e.FetchedAt.UTC(), e.UpdatedAt.UTC()
	return e
}

// Update stores e if the stored entry still has e.Version (else
// ErrConflict) and returns it with the next version. A stored entry with an
// outcome accepts only changes to Disposed, Disposition and UpdatedAt (else
// ErrFinal).
func (s *Store) Update(ctx context.Context, e ledger.Entry) (ledger.Entry, error) {
	if e.JobID == "" || e.Key == "" {
		return ledger.Entry{}, errRequired("ledger entry job and key")
	}
	if err := ctx.Err(); err != nil {
		return ledger.Entry{}, fmt.Errorf("boltstore: update ledger entry %s of job %s: %w", e.Key, e.JobID, err)
	}
	var out ledger.Entry
	var refused error
	err := s.batch(func(tx *bolt.Tx) error {
		out, refused = ledger.Entry{}, nil
		stored, found, err := getEntry(tx, e.JobID, e.Key)
		if err != nil {
			return err
		}
		switch {
		case !found:
			refused = store.ErrNotFound
			return nil
		case stored.Version != e.Version:
			refused = store.ErrConflict
			return nil
		case stored.State.Final():
			ok, err := onlyDisposition(stored, e)
			if err != nil {
				return err
			}
			if !ok {
				refused = store.ErrFinal
				return nil
			}
		}
		next := e
		next.Version = stored.Version + 1
		if err := putEntry(tx, &stored, next); err != nil {
			return err
		}
		out = next
		return nil
	})
	if err == nil {
		err = refused
	}
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("boltstore: update ledger entry %s of job %s: %w", e.Key, e.JobID, err)
	}
	return out, nil
}

// Undisposed returns up to limit entries of the job with an outcome not yet
// disposed on the mailbox, oldest UpdatedAt first; limit <= 0 means all.
func (s *Store) Undisposed(ctx context.Context, jobID string, limit int) ([]ledger.Entry, error) {
	out, err := s.scanIndex(bucketUndisposed, jobID, time.Time{}, limit)
	if err != nil {
		return nil, fmt.Errorf("boltstore: undisposed entries of job %s: %w", jobID, err)
	}
	return out, nil
}

// ErrorFolder returns up to limit entries of the job whose message sits
// in the error folder, oldest UpdatedAt first; limit <= 0 means all.
func (s *Store) ErrorFolder(ctx context.Context, jobID string, limit int) ([]ledger.Entry, error) {
	out, err := s.scanIndex(bucketErrorFolder, jobID, time.Time{}, limit)
	if err != nil {
		return nil, fmt.Errorf("boltstore: entries of job %s in the error folder: %w", jobID, err)
	}
	return out, nil
}

// Unfinished returns up to limit entries of the job without an outcome
// last updated before the given time, oldest UpdatedAt first; limit <= 0
// means all.
func (s *Store) Unfinished(ctx context.Context, jobID string, before time.Time, limit int) ([]ledger.Entry, error) {
	out, err := s.scanIndex(bucketUnfinished, jobID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("boltstore: unfinished entries of job %s: %w", jobID, err)
	}
	return out, nil
}

// scanIndex reads the entries an index names for the job in time order,
// stopping at before unless it is zero.
func (s *Store) scanIndex(bucket []byte, jobID string, before time.Time, limit int) ([]ledger.Entry, error) {
	out := []ledger.Entry{}
	prefix := jobKey(jobID)
	var bound []byte
	if !before.IsZero() {
		bound = jobKey(jobID, timeKey(before))
	}
	err := s.view(func(tx *bolt.Tx) error {
		return scanAsc(tx.Bucket(bucket).Cursor(), prefix, func(k, _ []byte) (bool, error) {
			if bound != nil && bytes.Compare(k[:len(bound)], bound) >= 0 {
				return false, nil
			}
			key := string(k[len(prefix)+timeLen:])
			e, found, err := getEntry(tx, jobID, key)
			if err != nil {
				return false, err
			}
			if !found {
				return false, fmt.Errorf("index names missing entry %s", key)
			}
			out = append(out, e)
			return limit <= 0 || len(out) < limit, nil
		})
	})
	return out, err
}
