package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"mailconnector/shared/ledger"
	"mailconnector/shared/store"
)

// The indexes of Messages and FindMessages. They are created, and filled
// from the ledger, by the first write that needs them, so a state file
// written before they existed is indexed whole once.
var (
	bucketLedgerByTime = []byte("ledgerByTime") // job+fetchedAt+key → nil
	bucketLedgerWho    = []byte("ledgerWho")    // who+fetchedAt+(job+key) → nil; who is a sender or Message-ID (store.WhoKey)
)

var _ store.Messages = (*Store)(nil)

// whoKeys are the look-up forms of e's Message-ID and sender address.
func whoKeys(e ledger.Entry) []string {
	var out []string
	for _, s := range []string{e.MessageID, e.From} {
		if k := store.WhoKey(s); k != "" && (len(out) == 0 || out[0] != k) {
			out = append(out, k)
		}
	}
	return out
}

func timelineKey(e ledger.Entry) []byte {
	return jobKey(e.JobID, timeKey(e.FetchedAt), []byte(e.Key))
}

func whoIndexKey(who string, e ledger.Entry) []byte {
	return jobKey(who, timeKey(e.FetchedAt), jobKey(e.JobID, []byte(e.Key)))
}

// indexMessage keeps the message indexes in step with e, which replaces
// old (nil for a new entry), in putEntry's transaction. It writes only the
// keys that change: a key deleted and put again still makes bbolt rewrite
// its page and the branch pages above it at commit, and the who keys sit
// at random places in their bucket, so rewriting them on every update
// (five a message) dirtied pages all over the file.
func indexMessage(tx *bolt.Tx, old *ledger.Entry, e ledger.Entry) error {
	byTime, who, err := messageBuckets(tx)
	if err != nil {
		return err
	}
	if old == nil {
		return putMessageIndex(byTime, who, e)
	}
	if tk, otk := timelineKey(e), timelineKey(*old); !bytes.Equal(tk, otk) {
		if err := byTime.Delete(otk); err != nil {
			return err
		}
		if err := byTime.Put(tk, nil); err != nil {
			return err
		}
	}
	had, has := whoIndexKeys(*old), whoIndexKeys(e)
	for _, k := range had {
		if !slices.ContainsFunc(has, func(n []byte) bool { return bytes.Equal(n, k) }) {
			if err := who.Delete(k); err != nil {
				return err
			}
		}
	}
	for _, k := range has {
		if !slices.ContainsFunc(had, func(o []byte) bool { return bytes.Equal(o, k) }) {
			if err := who.Put(k, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// whoIndexKeys are e's keys in the who index.
func whoIndexKeys(e ledger.Entry) [][]byte {
	ws := whoKeys(e)
	out := make([][]byte, len(ws))
	for i, w := range ws {
		out[i] = whoIndexKey(w, e)
	}
	return out
}

func putMessageIndex(byTime, who *bolt.Bucket, e ledger.Entry) error {
	if err := byTime.Put(timelineKey(e), nil); err != nil {
		return err
	}
	for _, w := range whoKeys(e) {
		if err := who.Put(whoIndexKey(w, e), nil); err != nil {
			return err
		}
	}
	return nil
}

// messageBuckets returns the message indexes, creating and filling them
// from the ledger when they are missing.
func messageBuckets(tx *bolt.Tx) (byTime, who *bolt.Bucket, err error) {
	if byTime, who = tx.Bucket(bucketLedgerByTime), tx.Bucket(bucketLedgerWho); byTime != nil && who != nil {
		return byTime, who, nil
	}
	_ = tx.DeleteBucket(bucketLedgerByTime)
	_ = tx.DeleteBucket(bucketLedgerWho)
	if byTime, err = tx.CreateBucket(bucketLedgerByTime); err != nil {
		return nil, nil, err
	}
	if who, err = tx.CreateBucket(bucketLedgerWho); err != nil {
		return nil, nil, err
	}
	err = tx.Bucket(bucketLedger).ForEach(func(_, v []byte) error {
		var e ledger.Entry
		if err := json.Unmarshal(v, &e); err != nil {
			return err
		}
		return putMessageIndex(byTime, who, e)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("index the ledger's messages: %w", err)
	}
	return byTime, who, nil
}

// readMessages runs fn on the message indexes, creating them first if a
// state file from before them has none.
func (s *Store) readMessages(fn func(tx *bolt.Tx, byTime, who *bolt.Bucket) error) error {
	var missing bool
	err := s.view(func(tx *bolt.Tx) error {
		byTime, who := tx.Bucket(bucketLedgerByTime), tx.Bucket(bucketLedgerWho)
		if byTime == nil || who == nil {
			missing = true
			return nil
		}
		return fn(tx, byTime, who)
	})
	if err != nil || !missing {
		return err
	}
	if s.db.IsReadOnly() {
		return errors.New("the ledger has no message index yet (a state written by an older version: open it read-write once)")
	}
	if err := s.update(func(tx *bolt.Tx) error {
		_, _, err := messageBuckets(tx)
		return err
	}); err != nil {
		return err
	}
	return s.view(func(tx *bolt.Tx) error {
		return fn(tx, tx.Bucket(bucketLedgerByTime), tx.Bucket(bucketLedgerWho))
	})
}

// Messages returns the job's entries that q selects, newest first.
func (s *Store) Messages(ctx context.Context, q store.MessageQuery) ([]ledger.Entry, error) {
	out := []ledger.Entry{}
	prefix := jobKey(q.JobID)
	var since []byte
	if !q.Since.IsZero() {
		since = timeKey(q.Since)
	}
	err := s.readMessages(func(tx *bolt.Tx, byTime, _ *bolt.Bucket) error {
		return scanDesc(byTime.Cursor(), prefix, func(k, _ []byte) (bool, error) {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			if since != nil && bytes.Compare(k[len(prefix):len(prefix)+timeLen], since) < 0 {
				return false, nil
			}
			key := string(k[len(prefix)+timeLen:])
			e, found, err := getEntry(tx, q.JobID, key)
			if err != nil {
				return false, err
			}
			if found && q.Match(e) {
				out = append(out, e)
			}
			return q.Limit <= 0 || len(out) < q.Limit, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: messages of job %s: %w", q.JobID, err)
	}
	return out, nil
}

// FindMessages returns the entries of every job whose Message-ID or
// sender is who, newest first.
func (s *Store) FindMessages(ctx context.Context, who string, limit int) ([]ledger.Entry, error) {
	out := []ledger.Entry{}
	w := store.WhoKey(who)
	if w == "" {
		return out, nil
	}
	prefix := jobKey(w)
	err := s.readMessages(func(tx *bolt.Tx, _, whoIdx *bolt.Bucket) error {
		return scanDesc(whoIdx.Cursor(), prefix, func(k, _ []byte) (bool, error) {
			rest := k[len(prefix)+timeLen:]
			n, size := binary.Uvarint(rest)
			if size <= 0 || uint64(len(rest)-size) < n {
				return false, fmt.Errorf("bad message index key %q", k)
			}
			jobID, key := string(rest[size:size+int(n)]), string(rest[size+int(n):])
			e, found, err := getEntry(tx, jobID, key)
			if err != nil {
				return false, err
			}
			if found {
				out = append(out, e)
			}
			return limit <= 0 || len(out) < limit, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: messages of %q: %w", who, err)
	}
	return out, nil
}
