package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mailconnector/shared/ledger"
	"mailconnector/shared/store"
)

// An administrator's look-ups (store.Messages). A job's entries by fetch
// time are an index query (GSI4, every entry carries its keys); the other
// conditions are tested on the entries read, newest first, until the limit
// is reached. A message looked up by its Message-ID or sender address
// across every job is a query of its "who" items (LWHO#<who>), written
// with the entry (Record) or once preprocessing knows its sender
// (Update), and expiring after it (whoExpiry); each names the entry,
// which is read.
// A who item whose entry is gone or no longer matches is skipped.

var _ store.Messages = (*Store)(nil)

func timelinePK(jobID string) string { return "LTIME#" + jobID }
func whoPK(who string) string        { return "LWHO#" + who }

// whoKeys are the look-up forms of e's Message-ID and sender address.
func whoKeys(e ledger.Entry) []string {
	var out []string
	for _, s := range []string{e.MessageID, e.From} {
		if k := store.WhoKey(s); k != "" && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

func whoItem(who string, e ledger.Entry) item {
	it := keyOf(whoPK(who), timeKey(e.FetchedAt)+"#"+e.JobID+"#"+e.Key)
	it["jobId"], it["key"] = str(e.JobID), str(e.Key)
	return it
}

// whoSlack is how long after its entry would expire, had it been
// disposed of when it was fetched, a who item expires.
const whoSlack = 30 * 24 * time.Hour

// whoExpiry is the expiry a who item of e gets when it is written (epoch
// seconds; 0: none): whoSlack after the entry's own, were it disposed of
// at its fetch time. Most entries are disposed of within minutes, so
// their who items need no second write when that happens; one disposed
// of later than whoSlack after its fetch has them set to its expiry
// then (indexWho). An entry with no time to live, or in the error
// folder, keeps them without expiry.
func (s *Store) whoExpiry(e ledger.Entry) int64 {
	if s.o.LedgerTTL <= 0 || e.InErrorFolder {
		return 0
	}
	return e.FetchedAt.Add(s.o.LedgerTTL + whoSlack).Unix()
}

// indexWho writes the who items next has and old (nil: none) had not,
// with the expiry at (epoch seconds; that of next when written) when it is
// not 0, else whoExpiry's. The items old had as well are written only
// when their expiry must change: to at, when theirs would come first;
// none, when next goes to the error folder (and at again when it leaves).
func (s *Store) indexWho(ctx context.Context, old *ledger.Entry, next ledger.Entry, at int64) error {
	var had []string
	if old != nil && old.FetchedAt.Equal(next.FetchedAt) {
		had = whoKeys(*old)
	}
	for _, w := range whoKeys(next) {
		if !slices.Contains(had, w) {
			it := whoItem(w, next)
			exp := at
			if exp == 0 {
				exp = s.whoExpiry(next)
			}
			if exp != 0 {
				it[AttrTTL] = num(exp)
			}
			if _, err := s.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: it}); err != nil {
				return fmt.Errorf("index the message by %q: %w", w, err)
			}
			continue
		}
		it := whoItem(w, next)
		up := &dynamodb.UpdateItemInput{TableName: aws.String(s.table),
			Key:                      keyOf(getS(it, AttrPK), getS(it, AttrSK)),
			ConditionExpression:      aws.String("attribute_exists(PK)"),
			ExpressionAttributeNames: map[string]string{"#t": AttrTTL}}
		switch {
		case next.InErrorFolder && !old.InErrorFolder && s.whoExpiry(*old) != 0:
			up.UpdateExpression = aws.String("REMOVE #t")
		case at != 0 && at > s.whoExpiry(*old): // whoExpiry is 0 in the error folder
			up.UpdateExpression = aws.String("SET #t = :t")
			up.ExpressionAttributeValues = item{":t": num(at)}
		default:
			continue // its expiry stands
		}
		if _, err := s.c.UpdateItem(ctx, up); err != nil && !isCondFailed(err) {
			return fmt.Errorf("set expiry of the message's index by %q: %w", w, err)
		}
	}
	return nil
}

// pageSize is how many items a look-up reads per request.
const pageSize = 200

// Messages returns the job's entries that q selects, newest first: those
// GSI4 lists (keys only; each page's entries are then read), merged with
// those written before it, which GSI3 lists until their next write moves
// them to GSI4.
func (s *Store) Messages(ctx context.Context, q store.MessageQuery) ([]ledger.Entry, error) {
	what := fmt.Sprintf("dynamostore: messages of job %s", q.JobID)
	now := s.newTimeline(q, GSI4, AttrGSI4PK, AttrGSI4SK, true)
	old := s.newTimeline(q, GSI3, AttrGSI3PK, AttrGSI3SK, false)
	out := []ledger.Entry{}
	for {
		a, err := now.peek(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		b, err := old.peek(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		var it item
		switch ak, bk := getS(a, AttrGSI4SK), getS(b, AttrGSI3SK); {
		case a == nil && b == nil:
			return out, nil
		case b == nil || (a != nil && ak >= bk):
			it = a
			now.pop()
			if b != nil && ak == bk {
				old.pop() // the same entry, seen in both while it moves
			}
		default:
			it = b
			old.pop()
		}
		e, err := decodeEntry(it)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if q.Match(e) {
			out = append(out, e)
			if q.Limit > 0 && len(out) >= q.Limit {
				return out, nil
			}
		}
	}
}

// timeline pages one index of a job's entries by fetch time, newest
// first, a page at a time.
type timeline struct {
	s        *Store
	in       *dynamodb.QueryInput
	keysOnly bool // the index has the keys only: read the entries
	items    []item
	done     bool
}

func (s *Store) newTimeline(q store.MessageQuery, index, pk, sk string, keysOnly bool) *timeline {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(index),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": pk},
		ExpressionAttributeValues: item{":pk": str(timelinePK(q.JobID))},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(pageSize),
	}
	if !q.Since.IsZero() {
		in.KeyConditionExpression = aws.String("#pk = :pk AND #sk >= :since")
		in.ExpressionAttributeNames["#sk"] = sk
		in.ExpressionAttributeValues[":since"] = str(timeKey(q.Since))
	}
	return &timeline{s: s, in: in, keysOnly: keysOnly}
}

// peek returns the next entry's item without taking it, nil at the end.
func (t *timeline) peek(ctx context.Context) (item, error) {
	for len(t.items) == 0 && !t.done {
		res, err := t.s.c.Query(ctx, t.in)
		if err != nil {
			return nil, err
		}
		t.items = res.Items
		if t.keysOnly && len(t.items) > 0 {
			if t.items, err = t.s.readAll(ctx, t.items); err != nil {
				return nil, err
			}
		}
		t.done = len(res.LastEvaluatedKey) == 0
		t.in.ExclusiveStartKey = res.LastEvaluatedKey
	}
	if len(t.items) == 0 {
		return nil, nil
	}
	return t.items[0], nil
}

// pop takes the item peek returned.
func (t *timeline) pop() { t.items = t.items[1:] }

// readAll reads the items whose keys are given (strongly consistent, up
// to 100 a request) and returns them in that order; one that is gone
// (expired since the index listed it) is left out.
func (s *Store) readAll(ctx context.Context, keys []item) ([]item, error) {
	got := make(map[string]item, len(keys))
	id := func(it item) string { return getS(it, AttrPK) + "\x00" + getS(it, AttrSK) }
	for start := 0; start < len(keys); start += 100 {
		var ks []map[string]types.AttributeValue
		for _, k := range keys[start:min(start+100, len(keys))] {
			ks = append(ks, keyOf(getS(k, AttrPK), getS(k, AttrSK)))
		}
		req := map[string]types.KeysAndAttributes{s.table: {Keys: ks, ConsistentRead: aws.Bool(true)}}
		for attempt := 0; len(req) > 0; attempt++ {
			res, err := s.c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, err
			}
			for _, it := range res.Responses[s.table] {
				got[id(it)] = it
			}
			req = res.UnprocessedKeys
			if len(req) > 0 {
				if err := backoff(ctx, attempt); err != nil {
					return nil, err
				}
			}
		}
	}
	out := make([]item, 0, len(keys))
	for _, k := range keys {
		if it, ok := got[id(k)]; ok {
			out = append(out, it)
		}
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
	err := s.whoEntries(ctx, w, "", false, func(e ledger.Entry) bool {
		out = append(out, e)
		return limit <= 0 || len(out) < limit
	})
	if err != nil {
		return nil, fmt.Errorf("dynamostore: messages of %q: %w", who, err)
	}
	return out, nil
}

// whoEntries hands fn the entries the who items of w name, oldest or
// newest fetched first, only those of jobID unless it is "", until fn
// returns false. The items are read strongly consistent; one whose entry
// is gone (expired) or no longer carries w at that fetch time is skipped.
func (s *Store) whoEntries(ctx context.Context, w, jobID string, oldestFirst bool, fn func(ledger.Entry) bool) error {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: item{":pk": str(whoPK(w))},
		ScanIndexForward:          aws.Bool(oldestFirst),
		ConsistentRead:            aws.Bool(true),
		Limit:                     aws.Int32(pageSize),
	}
	if jobID != "" {
		in.FilterExpression = aws.String("jobId = :job")
		in.ExpressionAttributeValues[":job"] = str(jobID)
	}
	for {
		res, err := s.c.Query(ctx, in)
		if err != nil {
			return err
		}
		for _, it := range res.Items {
			e, err := s.Entry(ctx, getS(it, "jobId"), getS(it, "key"))
			if errors.Is(err, store.ErrNotFound) {
				continue // expired, or not the entry it named
			}
			if err != nil {
				return err
			}
			if !slices.Contains(whoKeys(e), w) || timeKey(e.FetchedAt) != strings.SplitN(getS(it, AttrSK), "#", 2)[0] {
				continue
			}
			if !fn(e) {
				return nil
			}
		}
		if len(res.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}
