package dynamostore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mailconnector/shared/ledger"
	"mailconnector/shared/store"
	"mailconnector/shared/workpool"
)

func ledgerPK(jobID string) string { return "LEDGER#" + jobID }
func fpPK(jobID, fp string) string { return "FP#" + jobID + "#" + fp }

// entryItem is the item of a ledger entry, with its index keys.
func (s *Store) entryItem(e ledger.Entry) (item, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	it := keyOf(ledgerPK(e.JobID), e.Key)
	it[attrPacked], it["version"] = packed(b), num(e.Version)
	it[AttrGSI4PK], it[AttrGSI4SK] = str(timelinePK(e.JobID)), str(timeKey(e.FetchedAt)+"#"+e.Key)
	switch {
	case !e.State.Final():
		it[AttrGSI1PK] = str("UNFINISHED#" + e.JobID)
		it[AttrGSI1SK] = str(timeKey(e.UpdatedAt) + "#" + e.Key)
	case !e.Disposed:
		it[AttrGSI1PK] = str("UNDISPOSED#" + e.JobID)
		it[AttrGSI1SK] = str(timeKey(e.UpdatedAt) + "#" + e.Key)
	case e.InErrorFolder:
		// Kept past the ledger's time to live while it sits there.
		it[AttrGSI1PK] = str("ERRORFOLDER#" + e.JobID)
		it[AttrGSI1SK] = str(timeKey(e.UpdatedAt) + "#" + e.Key)
	case s.o.LedgerTTL > 0:
		it[AttrTTL] = num(e.UpdatedAt.Add(s.o.LedgerTTL).Unix())
	}
	return it, nil
}

func decodeEntry(it item) (ledger.Entry, error) {
	var e ledger.Entry
	err := decode(it, &e)
	return e, err
}

// Record inserts entries whose key and fingerprint are both new. Entries
// run in parallel, except that one repeating a key or fingerprint
// of an earlier entry in the batch waits for it, so the earlier one wins.
// Each entry is atomic, the batch is not (see the package comment).
func (s *Store) Record(ctx context.Context, entries []ledger.Entry) ([]store.RecordResult, error) {
	for _, e := range entries {
		if e.JobID == "" || e.Key == "" {
			return nil, errors.New("dynamostore: record: ledger entry job and key are required")
		}
	}
	results := make([]store.RecordResult, len(entries))
	errs := make([]error, len(entries))
	var first, later []int
	seen := map[string]bool{}
	for i, e := range entries {
		k, f := "k"+e.JobID+"\x00"+e.Key, "f"+e.JobID+"\x00"+e.Fingerprint
		if seen[k] || (e.Fingerprint != "" && seen[f]) {
			later = append(later, i)
		} else {
			first = append(first, i)
		}
		seen[k] = true
		if e.Fingerprint != "" {
			seen[f] = true
		}
	}
	workpool.Each(len(first), 16, func(n int) {
		i := first[n]
		results[i], errs[i] = s.recordOne(ctx, entries[i])
	})
	for _, i := range later {
		results[i], errs[i] = s.recordOne(ctx, entries[i])
	}
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("dynamostore: record ledger entry %s of job %s: %w", entries[i].Key, entries[i].JobID, err)
		}
	}
	return results, nil
}

// recordOne writes e with Version 1: alone when it has no fingerprint,
// else in one transaction with its fingerprint item, each conditional on
// being new. The cancellation reasons (ALL_OLD) tell which one existed: the
// entry under the same key (ErrExists, which wins as in boltstore) or the
// fingerprint item naming the entry it belongs to (ErrDuplicate).
//
// Its who items are written first, each on its own: in the transaction
// each would cost twice. A who item may so name an entry that is not
// there (a refused record, a crash before the entry): look-ups skip it
// (whoEntries), and it expires (whoExpiry).
func (s *Store) recordOne(ctx context.Context, e ledger.Entry) (store.RecordResult, error) {
	e.Version = 1
	it, err := s.entryItem(e)
	if err != nil {
		return store.RecordResult{}, err
	}
	if err := s.indexWho(ctx, nil, e, 0); err != nil {
		return store.RecordResult{}, err
	}
	if e.Fingerprint == "" {
		_, err := s.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: it,
			ConditionExpression:                 aws.String("attribute_not_exists(PK)"),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
		var cf *types.ConditionalCheckFailedException
		if errors.As(err, &cf) {
			return s.refusedRecord(ctx, e, store.ErrExists, e.Key, cf.Item)
		}
		return store.RecordResult{}, err
	}
	fp := keyOf(fpPK(e.JobID, e.Fingerprint), "FP")
	fp["key"] = str(e.Key)
	ops := []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: it,
			ConditionExpression:                 aws.String("attribute_not_exists(PK)"),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: fp,
			ConditionExpression:                 aws.String("attribute_not_exists(PK)"),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
	}
	for attempt := 0; ; attempt++ {
		_, err := s.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: ops})
		if err == nil {
			return store.RecordResult{}, nil
		}
		reasons := cancellation(err)
		switch {
		case reasons == nil || len(reasons) != len(ops):
			return store.RecordResult{}, err
		case reasons[0].failed:
			return s.refusedRecord(ctx, e, store.ErrExists, e.Key, reasons[0].item)
		case reasons[1].failed:
			other := getS(reasons[1].item, "key")
			if reasons[1].item == nil { // a service that sends no old item
				cur, err := s.get(ctx, fpPK(e.JobID, e.Fingerprint), "FP")
				if err != nil {
					return store.RecordResult{}, err
				}
				other = getS(cur, "key")
			}
			if other == "" {
				break // removed meanwhile: try again
			}
			res, err := s.refusedRecord(ctx, e, store.ErrDuplicate, other, nil)
			if !errors.Is(err, store.ErrNotFound) {
				return res, err
			}
			// The entry the fingerprint named is gone (TTL): the item is
			// stale. Remove it while it still names that entry, then
			// try again.
			if err := s.dropFingerprint(ctx, e.JobID, e.Fingerprint, other); err != nil {
				return store.RecordResult{}, err
			}
		case !anyConflict(reasons):
			return store.RecordResult{}, err
		}
		if attempt >= 5 {
			return store.RecordResult{}, fmt.Errorf("fingerprint index kept changing: %w", store.ErrConflict)
		}
		if err := backoff(ctx, attempt); err != nil {
			return store.RecordResult{}, err
		}
	}
}

// refusedRecord is the result of a refused record: why, with the entry
// under key (old, when the service returned it, else read).
func (s *Store) refusedRecord(ctx context.Context, e ledger.Entry, why error, key string, old item) (store.RecordResult, error) {
	if old != nil {
		existing, err := decodeEntry(old)
		return store.RecordResult{Err: why, Existing: existing}, err
	}
	existing, err := s.Entry(ctx, e.JobID, key)
	if err != nil {
		return store.RecordResult{}, err
	}
	return store.RecordResult{Err: why, Existing: existing}, nil
}

// dropFingerprint deletes the fingerprint item if it still names key.
func (s *Store) dropFingerprint(ctx context.Context, jobID, fingerprint, key string) error {
	_, err := s.c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table),
		Key:                       keyOf(fpPK(jobID, fingerprint), "FP"),
		ConditionExpression:       aws.String("#k = :key"),
		ExpressionAttributeNames:  map[string]string{"#k": "key"},
		ExpressionAttributeValues: item{":key": str(key)}})
	if err != nil && !isCondFailed(err) {
		return fmt.Errorf("drop stale fingerprint item: %w", err)
	}
	return nil
}

// expireFingerprint gives the fingerprint item of e the expiry of e, so
// both go; an item that names another entry is left alone.
func (s *Store) expireFingerprint(ctx context.Context, e ledger.Entry, at int64) error {
	_, err := s.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table),
		Key:                       keyOf(fpPK(e.JobID, e.Fingerprint), "FP"),
		UpdateExpression:          aws.String("SET #t = :t"),
		ConditionExpression:       aws.String("#k = :key"),
		ExpressionAttributeNames:  map[string]string{"#k": "key", "#t": AttrTTL},
		ExpressionAttributeValues: item{":key": str(e.Key), ":t": num(at)}})
	if err != nil && !isCondFailed(err) {
		return fmt.Errorf("set expiry of fingerprint item: %w", err)
	}
	return nil
}

// reason is one item's part in a cancelled transaction.
type reason struct {
	failed   bool // its condition failed
	conflict bool // another transaction held it
	item     item // the old item, when asked for (ALL_OLD)
}

// cancellation returns the reasons of a cancelled transaction, nil for
// any other error.
func cancellation(err error) []reason {
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) {
		return nil
	}
	out := make([]reason, len(tc.CancellationReasons))
	for i, r := range tc.CancellationReasons {
		code := aws.ToString(r.Code)
		out[i] = reason{failed: code == "ConditionalCheckFailed", conflict: code == "TransactionConflict", item: r.Item}
	}
	return out
}

func anyConflict(rs []reason) bool {
	for _, r := range rs {
		if r.conflict {
			return true
		}
	}
	return false
}

// backoff waits a little longer with every attempt, with jitter.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(rand.IntN(5*(attempt+1))+1) * time.Millisecond
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// Entry returns one entry, or ErrNotFound.
func (s *Store) Entry(ctx context.Context, jobID, key string) (ledger.Entry, error) {
	if jobID == "" || key == "" { // DynamoDB refuses empty key attributes
		return ledger.Entry{}, fmt.Errorf("dynamostore: ledger entry %q of job %q: %w", key, jobID, store.ErrNotFound)
	}
	it, err := s.getFound(ctx, ledgerPK(jobID), key, fmt.Sprintf("ledger entry %s of job %s", key, jobID))
	if err != nil {
		return ledger.Entry{}, err
	}
	e, err := decodeEntry(it)
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("dynamostore: ledger entry %s of job %s: %w", key, jobID, err)
	}
	return e, nil
}

// EntryByMessageID returns the job's first entry recorded with messageID.
// It reads the message's who items (messages.go), oldest first, rather
// than an index of the entries: an index entry is rewritten with every
// write of its item, four times a message, where the who item is written
// once, just before the entry (Record). The who items are read
// strongly consistent; each names an entry, which is read and must carry
// exactly messageID (the who form ignores case and angle brackets).
func (s *Store) EntryByMessageID(ctx context.Context, jobID, messageID string) (ledger.Entry, error) {
	what := fmt.Sprintf("dynamostore: ledger entry of message id %q", messageID)
	var found *ledger.Entry
	if w := store.WhoKey(messageID); w != "" {
		err := s.whoEntries(ctx, w, jobID, true, func(e ledger.Entry) bool {
			if e.MessageID == messageID {
				found = &e
			}
			return found == nil
		})
		if err != nil {
			return ledger.Entry{}, fmt.Errorf("%s: %w", what, err)
		}
	}
	if found == nil {
		return ledger.Entry{}, fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return *found, nil
}

// onlyDisposition reports whether next differs from stored in nothing but
// its disposition and time.
func onlyDisposition(stored, next ledger.Entry) bool {
	next.Disposed, next.Disposition, next.InErrorFolder = stored.Disposed, stored.Disposition, stored.InErrorFolder
	next.UpdatedAt, next.Version = stored.UpdatedAt, stored.Version
	a, _ := json.Marshal(normalize(stored))
	b, _ := json.Marshal(normalize(next))
	return reflect.DeepEqual(a, b)
}

func normalize(e ledger.Entry) ledger.Entry {
	e.FetchedAt, e.UpdatedAt = e.FetchedAt.UTC(), e.UpdatedAt.UTC()
	return e
}

// Update stores e if the stored entry still has e.Version.
func (s *Store) Update(ctx context.Context, e ledger.Entry) (ledger.Entry, error) {
	what := fmt.Sprintf("dynamostore: update ledger entry %s of job %s", e.Key, e.JobID)
	stored, err := s.Entry(ctx, e.JobID, e.Key)
	if err != nil {
		return ledger.Entry{}, err
	}
	switch {
	case stored.Version != e.Version:
		return ledger.Entry{}, fmt.Errorf("%s: %w", what, store.ErrConflict)
	case stored.State.Final() && !onlyDisposition(stored, e):
		return ledger.Entry{}, fmt.Errorf("%s: %w", what, store.ErrFinal)
	}
	next := e
	next.Version = stored.Version + 1
	it, err := s.entryItem(next)
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("%s: %w", what, err)
	}
	_, err = s.c.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: it,
		ConditionExpression:       aws.String("version = :v"),
		ExpressionAttributeValues: item{":v": num(e.Version)},
	})
	if isCondFailed(err) {
		return ledger.Entry{}, fmt.Errorf("%s: %w", what, store.ErrConflict)
	}
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("%s: %w", what, err)
	}
	if err := s.indexWho(ctx, &stored, next, getN(it, AttrTTL)); err != nil {
		return ledger.Entry{}, fmt.Errorf("%s: %w", what, err)
	}
	if at := getN(it, AttrTTL); at != 0 && next.Fingerprint != "" {
		// Best effort: a fingerprint item left behind is taken over by
		// the next entry with that fingerprint once its own has gone.
		if err := s.expireFingerprint(ctx, next, at); err != nil {
			return ledger.Entry{}, fmt.Errorf("%s: %w", what, err)
		}
	}
	return next, nil
}

// Undisposed returns entries with an outcome not yet disposed, oldest first.
func (s *Store) Undisposed(ctx context.Context, jobID string, limit int) ([]ledger.Entry, error) {
	out, err := s.index(ctx, "UNDISPOSED#"+jobID, time.Time{}, limit)
	if err != nil {
		return nil, fmt.Errorf("dynamostore: undisposed entries of job %s: %w", jobID, err)
	}
	return out, nil
}

// ErrorFolder returns entries whose message sits in the error folder,
// oldest first.
func (s *Store) ErrorFolder(ctx context.Context, jobID string, limit int) ([]ledger.Entry, error) {
	out, err := s.index(ctx, "ERRORFOLDER#"+jobID, time.Time{}, limit)
	if err != nil {
		return nil, fmt.Errorf("dynamostore: entries of job %s in the error folder: %w", jobID, err)
	}
	return out, nil
}

// Unfinished returns entries without an outcome updated before before.
func (s *Store) Unfinished(ctx context.Context, jobID string, before time.Time, limit int) ([]ledger.Entry, error) {
	out, err := s.index(ctx, "UNFINISHED#"+jobID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("dynamostore: unfinished entries of job %s: %w", jobID, err)
	}
	return out, nil
}

func (s *Store) index(ctx context.Context, pk string, before time.Time, limit int) ([]ledger.Entry, error) {
	in := &dynamodb.QueryInput{
		IndexName:                 aws.String(GSI1),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: item{":pk": str(pk)},
		ScanIndexForward:          aws.Bool(true),
	}
	if !before.IsZero() {
		in.KeyConditionExpression = aws.String("GSI1PK = :pk AND GSI1SK < :before")
		in.ExpressionAttributeValues[":before"] = str(timeKey(before))
	}
	items, err := s.query(ctx, in, limit)
	if err != nil {
		return nil, err
	}
	out := make([]ledger.Entry, 0, len(items))
	for _, it := range items {
		e, err := decodeEntry(it)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}
