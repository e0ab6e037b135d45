package dynamostore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mailconnector/shared/ledger"
	"mailconnector/shared/store"
)

func ledgerPK(jobID string) string { return "LEDGER#" + jobID }
func fpPK(jobID, fp string) string { return "FP#" + jobID + "#" + fp }

// staleAfter is how old a fingerprint item naming no entry must be before
// another key may take it over: far longer than a claim and a write take.
const staleAfter = time.Minute

// entryItem is the item of a ledger entry, with its index keys.
func (s *Store) entryItem(e ledger.Entry) (item, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	it := keyOf(ledgerPK(e.JobID), e.Key)
	it["data"], it["version"] = str(string(b)), num(e.Version)
	if e.MessageID != "" {
		it[AttrGSI2PK], it[AttrGSI2SK] = str("LMID#"+e.JobID+"#"+e.MessageID), str(timeKey(e.FetchedAt)+"#"+e.Key)
	}
	switch {
	case !e.State.Final():
		it[AttrGSI1PK] = str("UNFINISHED#" + e.JobID)
		it[AttrGSI1SK] = str(timeKey(e.UpdatedAt) + "#" + e.Key)
	case !e.Disposed:
		it[AttrGSI1PK] = str("UNDISPOSED#" + e.JobID)
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
	parallel(len(first), 16, func(n int) {
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

// recordOne claims the fingerprint, then writes the entry, each with a
// condition; no transaction is needed because each step is safe to repeat.
// A crash between the two leaves a fingerprint item naming a key with no
// entry: recording that key again claims it again (it is its own), and a
// different key finds it stale and takes it over.
func (s *Store) recordOne(ctx context.Context, e ledger.Entry) (store.RecordResult, error) {
	e.Version = 1
	it, err := s.entryItem(e)
	if err != nil {
		return store.RecordResult{}, err
	}
	if e.Fingerprint != "" {
		res, done, err := s.claimFingerprint(ctx, e)
		if err != nil || done {
			return res, err
		}
	}
	_, err = s.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: it,
		ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if isCondFailed(err) {
		existing, err := s.Entry(ctx, e.JobID, e.Key)
		if err != nil {
			return store.RecordResult{}, err
		}
		return store.RecordResult{Err: store.ErrExists, Existing: existing}, nil
	}
	return store.RecordResult{}, err
}

// claimFingerprint writes the fingerprint item for e unless another entry
// holds it; done is true when the result is decided (a duplicate).
func (s *Store) claimFingerprint(ctx context.Context, e ledger.Entry) (store.RecordResult, bool, error) {
	key := keyOf(fpPK(e.JobID, e.Fingerprint), "FP")
	for attempt := 0; attempt < 3; attempt++ {
		fp := keyOf(fpPK(e.JobID, e.Fingerprint), "FP")
		fp["key"], fp["at"] = str(e.Key), num(s.o.Now().UnixMilli())
		_, err := s.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: fp,
			ConditionExpression:       aws.String("attribute_not_exists(PK) OR #k = :key"),
			ExpressionAttributeNames:  map[string]string{"#k": "key"},
			ExpressionAttributeValues: item{":key": str(e.Key)}})
		if err == nil {
			return store.RecordResult{}, false, nil
		}
		if !isCondFailed(err) {
			return store.RecordResult{}, false, err
		}
		cur, err := s.get(ctx, fpPK(e.JobID, e.Fingerprint), "FP")
		if err != nil {
			return store.RecordResult{}, false, err
		}
		other := getS(cur, "key")
		if cur == nil {
			continue // removed meanwhile: try again
		}
		existing, err := s.Entry(ctx, e.JobID, other)
		if err == nil {
			return store.RecordResult{Err: store.ErrDuplicate, Existing: existing}, true, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return store.RecordResult{}, false, err
		}
		if s.o.Now().Sub(time.UnixMilli(getN(cur, "at"))) < staleAfter {
			// Its writer may be between claiming it and writing the
			// entry: treat it as taken; the caller retries later.
			return store.RecordResult{}, false, fmt.Errorf("fingerprint claimed by %s a moment ago: %w", other, store.ErrConflict)
		}
		// The entry it named expired, or its writer crashed before writing
		// it: the item is stale. Remove it (if it still names other) and
		// claim it again.
		_, err = s.c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key,
			ConditionExpression:       aws.String("#k = :other"),
			ExpressionAttributeNames:  map[string]string{"#k": "key"},
			ExpressionAttributeValues: item{":other": str(other)}})
		if err != nil && !isCondFailed(err) {
			return store.RecordResult{}, false, err
		}
	}
	return store.RecordResult{}, false, fmt.Errorf("fingerprint index kept changing: %w", store.ErrConflict)
}

// cancelReasons reports, for a cancelled transaction, which of its items
// failed their condition.
func cancelReasons(err error) ([]bool, bool) {
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) {
		return nil, false
	}
	out := make([]bool, len(tc.CancellationReasons))
	any := false
	for i, r := range tc.CancellationReasons {
		out[i] = aws.ToString(r.Code) == "ConditionalCheckFailed"
		any = any || out[i]
	}
	if !any {
		return nil, false
	}
	return out, true
}

// Entry returns one entry, or ErrNotFound.
func (s *Store) Entry(ctx context.Context, jobID, key string) (ledger.Entry, error) {
	it, err := s.get(ctx, ledgerPK(jobID), key)
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("dynamostore: ledger entry %s of job %s: %w", key, jobID, err)
	}
	if it == nil {
		return ledger.Entry{}, fmt.Errorf("dynamostore: ledger entry %s of job %s: %w", key, jobID, store.ErrNotFound)
	}
	e, err := decodeEntry(it)
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("dynamostore: ledger entry %s of job %s: %w", key, jobID, err)
	}
	return e, nil
}

// EntryByMessageID returns the job's first entry recorded with messageID.
func (s *Store) EntryByMessageID(ctx context.Context, jobID, messageID string) (ledger.Entry, error) {
	items, err := s.query(ctx, &dynamodb.QueryInput{
		IndexName:                 aws.String(GSI2),
		KeyConditionExpression:    aws.String("GSI2PK = :pk"),
		ExpressionAttributeValues: item{":pk": str("LMID#" + jobID + "#" + messageID)},
		ScanIndexForward:          aws.Bool(true),
	}, 1)
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("dynamostore: ledger entry of message id %q: %w", messageID, err)
	}
	if len(items) == 0 {
		return ledger.Entry{}, fmt.Errorf("dynamostore: ledger entry of message id %q: %w", messageID, store.ErrNotFound)
	}
	return decodeEntry(items[0])
}

// onlyDisposition reports whether next differs from stored in nothing but
// its disposition and time.
func onlyDisposition(stored, next ledger.Entry) bool {
	next.Disposed, next.Disposition = stored.Disposed, stored.Disposition
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
