package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"mailconnector/shared/ledger"
	"mailconnector/shared/store"
)

// An administrator's look-ups (store.Messages). A job's entries by fetch
// time are an index query (GSI3, every entry carries its keys); the other
// conditions are tested on the entries read, newest first, until the limit
// is reached. A message looked up by its Message-ID or sender address
// across every job is a query of its "who" items (LWHO#<who>), written
// with the entry (Record) or once preprocessing knows its sender
// (Update), and expiring with it; each names the entry, which is read.
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

// whoItems are the who items of a new entry.
func whoItems(e ledger.Entry) []item {
	var out []item
	for _, w := range whoKeys(e) {
		out = append(out, whoItem(w, e))
	}
	return out
}

// indexWho writes the who items next has and old (nil: none) had not,
// and gives every one of them the expiry at (epoch seconds) when it is
// not 0.
func (s *Store) indexWho(ctx context.Context, old *ledger.Entry, next ledger.Entry, at int64) error {
	var had []string
	if old != nil && old.FetchedAt.Equal(next.FetchedAt) {
		had = whoKeys(*old)
	}
	for _, w := range whoKeys(next) {
		if !slices.Contains(had, w) {
			it := whoItem(w, next)
			if at != 0 {
				it[AttrTTL] = num(at)
			}
			if _, err := s.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: it}); err != nil {
				return fmt.Errorf("index the message by %q: %w", w, err)
			}
			continue
		}
		if at == 0 {
			continue
		}
		it := whoItem(w, next)
		_, err := s.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table),
			Key:                       keyOf(getS(it, AttrPK), getS(it, AttrSK)),
			UpdateExpression:          aws.String("SET #t = :t"),
			ConditionExpression:       aws.String("attribute_exists(PK)"),
			ExpressionAttributeNames:  map[string]string{"#t": AttrTTL},
			ExpressionAttributeValues: item{":t": num(at)}})
		if err != nil && !isCondFailed(err) {
			return fmt.Errorf("set expiry of the message's index by %q: %w", w, err)
		}
	}
	return nil
}

// pageSize is how many items a look-up reads per request.
const pageSize = 200

// Messages returns the job's entries that q selects, newest first.
func (s *Store) Messages(ctx context.Context, q store.MessageQuery) ([]ledger.Entry, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(GSI3),
		KeyConditionExpression:    aws.String("GSI3PK = :pk"),
		ExpressionAttributeValues: item{":pk": str(timelinePK(q.JobID))},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(pageSize),
	}
	if !q.Since.IsZero() {
		in.KeyConditionExpression = aws.String("GSI3PK = :pk AND GSI3SK >= :since")
		in.ExpressionAttributeValues[":since"] = str(timeKey(q.Since))
	}
	out := []ledger.Entry{}
	for {
		res, err := s.c.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("dynamostore: messages of job %s: %w", q.JobID, err)
		}
		for _, it := range res.Items {
			e, err := decodeEntry(it)
			if err != nil {
				return nil, fmt.Errorf("dynamostore: messages of job %s: %w", q.JobID, err)
			}
			if q.Match(e) {
				out = append(out, e)
				if q.Limit > 0 && len(out) >= q.Limit {
					return out, nil
				}
			}
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
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
