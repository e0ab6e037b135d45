package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"mailconnector/shared/request"
	"mailconnector/shared/store"
)

func getRequest(tx *bolt.Tx, id string) (request.Request, bool, error) {
	var r request.Request
	found, err := getJSON(tx.Bucket(bucketRequests), []byte(id), &r)
	return r, found, err
}

// putRequest writes r and its number indexes; old is the stored request it
// replaces, nil for a new one.
func putRequest(tx *bolt.Tx, old *request.Request, r request.Request) error {
	// An update that keeps the job and number leaves the indexes alone: a
	// key put again with the same value still has bbolt rewrite its page.
	if old == nil || old.JobID != r.JobID || old.Number != r.Number || old.ID != r.ID {
		byJob := tx.Bucket(bucketReqByJob)
		if old != nil {
			if err := byJob.Delete(jobKey(old.JobID, numberKey(old.Number))); err != nil {
				return err
			}
		}
		if err := byJob.Put(jobKey(r.JobID, numberKey(r.Number)), []byte(r.ID)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketReqByNumber).Put(numberKey(r.Number), []byte(r.ID)); err != nil {
			return err
		}
	}
	return putJSON(tx.Bucket(bucketRequests), []byte(r.ID), r)
}

// Commit stores an Outcome in one transaction: the new request (numbered
// from an atomic counter, ID its decimal number), the updated request, the
// conversation, the Message-ID index and the ledger entry with the next
// version. The stored entry must have no outcome (else ErrFinal) and still
// have o.Entry.Version (else ErrConflict); o.Entry.State must be an outcome.
//
// When o.Entry.RequestID is empty it is set to the request the outcome
// created or touched, and o.Entry.Conversation to the conversation's ID.
// The conversation goes to its RequestID, or to the new request when that
// is empty; a request it names, like UpdateRequest, must exist (else
// ErrNotFound). MessageIDs are indexed to the new request, else the
// conversation's, else UpdateRequest, else o.Entry.RequestID.
func (s *Store) Commit(ctx context.Context, o store.Outcome) (store.Outcome, error) {
	e := o.Entry
	if e.JobID == "" || e.Key == "" {
		return store.Outcome{}, errRequired("outcome entry job and key")
	}
	what := fmt.Sprintf("boltstore: commit outcome of ledger entry %s of job %s", e.Key, e.JobID)
	if !e.State.Final() {
		return store.Outcome{}, fmt.Errorf("%s: state %q is not an outcome", what, e.State)
	}
	if o.Conversation != nil && o.Conversation.ID == "" {
		return store.Outcome{}, fmt.Errorf("%s: conversation has no ID", what)
	}
	if o.Conversation != nil && o.Conversation.RequestID == "" && o.NewRequest == nil {
		return store.Outcome{}, fmt.Errorf("%s: conversation names no request and none is created", what)
	}
	if o.UpdateRequest != nil && o.UpdateRequest.ID == "" {
		return store.Outcome{}, fmt.Errorf("%s: request to update has no ID", what)
	}
	if err := ctx.Err(); err != nil {
		return store.Outcome{}, fmt.Errorf("%s: %w", what, err)
	}
	var out store.Outcome
	var refused error
	now := s.now()
	err := s.batch(func(tx *bolt.Tx) error {
		// Batch may call this more than once: start from o every time.
		out, refused = store.Outcome{Entry: o.Entry, MessageIDs: o.MessageIDs}, nil
		var err error
		refused, err = commit(tx, o, &out, now)
		return err
	})
	if err == nil {
		err = refused
	}
	if err != nil {
		return store.Outcome{}, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// commit does Commit's work in tx, filling out; now is the time of the
// outbox entry. It returns refused for a check that failed before
// anything was written, err for a failed write.
func commit(tx *bolt.Tx, o store.Outcome, out *store.Outcome, now time.Time) (refused, err error) {
	stored, found, err := getEntry(tx, o.Entry.JobID, o.Entry.Key)
	switch {
	case err != nil:
		return nil, err
	case !found:
		return store.ErrNotFound, nil
	case stored.State.Final():
		return store.ErrFinal, nil
	case stored.Version != o.Entry.Version:
		return store.ErrConflict, nil
	}

	var oldUpdate request.Request
	if o.UpdateRequest != nil {
		r, found, err := getRequest(tx, o.UpdateRequest.ID)
		if err != nil {
			return nil, err
		}
		if !found {
			return fmt.Errorf("request %s to update: %w", o.UpdateRequest.ID, store.ErrNotFound), nil
		}
		oldUpdate = r
	}
	if c := o.Conversation; c != nil && c.RequestID != "" {
		_, found, err := getRequest(tx, c.RequestID)
		if err != nil {
			return nil, err
		}
		if !found {
			return fmt.Errorf("request %s of conversation %s: %w", c.RequestID, c.ID, store.ErrNotFound), nil
		}
	}

	// Checks done; from here on every error is a failed write.
	target := o.Entry.RequestID
	if o.UpdateRequest != nil {
		r := *o.UpdateRequest
		r.Number = oldUpdate.Number // the number never changes
		if err := putRequest(tx, &oldUpdate, r); err != nil {
			return nil, fmt.Errorf("update request %s: %w", r.ID, err)
		}
		out.UpdateRequest = &r
		target = r.ID
	}
	if o.NewRequest != nil {
		n, err := tx.Bucket(bucketRequests).NextSequence()
		if err != nil {
			return nil, fmt.Errorf("number new request: %w", err)
		}
		r := *o.NewRequest
		r.Number = int64(n)
		r.ID = strconv.FormatInt(r.Number, 10)
		if _, found, err := getRequest(tx, r.ID); err != nil {
			return nil, err
		} else if found {
			return nil, fmt.Errorf("new request %s already exists", r.ID)
		}
		if err := putRequest(tx, nil, r); err != nil {
			return nil, fmt.Errorf("create request %s: %w", r.ID, err)
		}
		out.NewRequest = &r
	}
	if o.Conversation != nil {
		c := *o.Conversation
		if c.RequestID == "" {
			c.RequestID = out.NewRequest.ID
		}
		key := append(jobKey(c.RequestID, timeKey(c.CreatedAt)), c.ID...)
		if err := putJSON(tx.Bucket(bucketConvs), key, c); err != nil {
			return nil, fmt.Errorf("store conversation %s: %w", c.ID, err)
		}
		out.Conversation = &c
		target = c.RequestID
	}
	if out.NewRequest != nil {
		target = out.NewRequest.ID
	}
	if len(o.MessageIDs) > 0 {
		if target == "" {
			return nil, errors.New("message ids to index but no request")
		}
		ids := tx.Bucket(bucketMessageIDs)
		for _, id := range o.MessageIDs {
			if id == "" || bytes.Equal(ids.Get([]byte(id)), []byte(target)) {
				continue // indexed already (a put would rewrite the page)
			}
			if err := ids.Put([]byte(id), []byte(target)); err != nil {
				return nil, fmt.Errorf("index message id %s: %w", id, err)
			}
		}
	}

	e := o.Entry
	if e.RequestID == "" {
		e.RequestID = target
	}
	if e.Conversation == "" && out.Conversation != nil {
		e.Conversation = out.Conversation.ID
	}
	e.Version = stored.Version + 1
	if err := putEntry(tx, &stored, e); err != nil {
		return nil, fmt.Errorf("store ledger entry: %w", err)
	}
	out.Entry = e
	if o.Event != nil {
		if err := putOutbox(tx, o, out, now); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// Request returns the request with the ID, or store.ErrNotFound.
func (s *Store) Request(ctx context.Context, id string) (request.Request, error) {
	return s.requestAt(fmt.Sprintf("request %s", id), func(*bolt.Tx) []byte { return []byte(id) })
}

// RequestByNumber returns the request with the number, or store.ErrNotFound.
func (s *Store) RequestByNumber(ctx context.Context, number int64) (request.Request, error) {
	return s.requestAt(fmt.Sprintf("request number %d", number), func(tx *bolt.Tx) []byte {
		return tx.Bucket(bucketReqByNumber).Get(numberKey(number))
	})
}

// RequestByMessageID returns the request a Message-ID was indexed to, or
// store.ErrNotFound.
func (s *Store) RequestByMessageID(ctx context.Context, messageID string) (request.Request, error) {
	return s.requestAt(fmt.Sprintf("request of message id %s", messageID), func(tx *bolt.Tx) []byte {
		return tx.Bucket(bucketMessageIDs).Get([]byte(messageID))
	})
}

// requestAt reads the request whose ID id finds in the transaction (nil:
// none), or store.ErrNotFound; what names the look-up in its error.
func (s *Store) requestAt(what string, id func(*bolt.Tx) []byte) (request.Request, error) {
	var r request.Request
	err := s.view(func(tx *bolt.Tx) error {
		id := id(tx)
		if id == nil {
			return store.ErrNotFound
		}
		var found bool
		var err error
		r, found, err = getRequest(tx, string(id))
		if err == nil && !found {
			err = store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return request.Request{}, fmt.Errorf("boltstore: %s: %w", what, err)
	}
	return r, nil
}

// ListRequests returns up to limit requests, highest number first; jobID
// "" lists all jobs; limit <= 0 means all.
func (s *Store) ListRequests(ctx context.Context, jobID string, limit int) ([]request.Request, error) {
	out := []request.Request{}
	err := s.view(func(tx *bolt.Tx) error {
		bucket, prefix := tx.Bucket(bucketReqByNumber), []byte(nil)
		if jobID != "" {
			bucket, prefix = tx.Bucket(bucketReqByJob), jobKey(jobID)
		}
		return scanDesc(bucket.Cursor(), prefix, func(_, id []byte) (bool, error) {
			r, found, err := getRequest(tx, string(id))
			if err != nil {
				return false, err
			}
			if !found {
				return false, fmt.Errorf("number index names missing request %s", id)
			}
			out = append(out, r)
			return limit <= 0 || len(out) < limit, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: list requests of job %q: %w", jobID, err)
	}
	return out, nil
}

// Conversations returns the request's conversations, oldest CreatedAt
// first; none (and no error) for an unknown request.
func (s *Store) Conversations(ctx context.Context, requestID string) ([]request.Conversation, error) {
	out := []request.Conversation{}
	err := s.view(func(tx *bolt.Tx) error {
		return scanAsc(tx.Bucket(bucketConvs).Cursor(), jobKey(requestID), func(_, v []byte) (bool, error) {
			var c request.Conversation
			if err := json.Unmarshal(v, &c); err != nil {
				return false, err
			}
			out = append(out, c)
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: conversations of request %s: %w", requestID, err)
	}
	return out, nil
}

// IndexMessageID maps a Message-ID to an existing request (else
// store.ErrNotFound).
func (s *Store) IndexMessageID(ctx context.Context, messageID, requestID string) error {
	if messageID == "" {
		return errRequired("message id")
	}
	err := s.update(func(tx *bolt.Tx) error {
		if _, found, err := getRequest(tx, requestID); err != nil || !found {
			if err == nil {
				err = store.ErrNotFound
			}
			return fmt.Errorf("request %s: %w", requestID, err)
		}
		return tx.Bucket(bucketMessageIDs).Put([]byte(messageID), []byte(requestID))
	})
	if err != nil {
		return fmt.Errorf("boltstore: index message id %s: %w", messageID, err)
	}
	return nil
}
