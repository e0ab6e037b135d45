package dynamostore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mailconnector/shared/store"
)

// PKOutbox is the partition of the outbox: one item per event not yet
// published, SK <commit time t>#<job>#<ledger key> (the entry's ID),
// attributes jobId, key, payload (binary), created and claimUntil (Unix
// ms). Only events whose publishing failed stay there for long, so one
// partition is plenty.
const PKOutbox = "OUTBOX"

// outboxItem is the outbox item of out's event, for Commit's transaction.
func outboxItem(o store.Outcome, out *store.Outcome, now time.Time) (item, error) {
	payload, err := o.Event(*out)
	if err != nil {
		return nil, fmt.Errorf("make the event: %w", err)
	}
	id := timeKey(now) + "#" + out.Entry.JobID + "#" + out.Entry.Key
	it := keyOf(PKOutbox, id)
	it["jobId"], it["key"] = str(out.Entry.JobID), str(out.Entry.Key)
	it["payload"] = &types.AttributeValueMemberB{Value: payload}
	it["created"], it["claimUntil"] = num(now.UnixMilli()), num(o.EventClaimedUntil.UnixMilli())
	if o.EventClaimedUntil.IsZero() {
		it["claimUntil"] = num(0)
	}
	out.OutboxID = id
	return it, nil
}

// ClaimOutbox claims up to limit entries whose claim ended before now, each
// with a conditional update, so of claimers at once one gets each.
func (s *Store) ClaimOutbox(ctx context.Context, now, until time.Time, limit int) ([]store.OutboxEntry, error) {
	if limit <= 0 {
		return nil, nil
	}
	free := item{":pk": str(PKOutbox), ":now": num(now.UnixMilli())}
	items, err := s.query(ctx, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("PK = :pk"),
		FilterExpression:          aws.String("claimUntil < :now"),
		ExpressionAttributeValues: free,
		ConsistentRead:            aws.Bool(true),
	}, limit)
	if err != nil {
		return nil, fmt.Errorf("dynamostore: list outbox entries: %w", err)
	}
	var out []store.OutboxEntry
	for _, it := range items {
		if len(out) >= limit {
			break
		}
		id := getS(it, AttrSK)
		_, err := s.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(s.table), Key: keyOf(PKOutbox, id),
			ConditionExpression:       aws.String("attribute_exists(PK) AND claimUntil < :now"),
			UpdateExpression:          aws.String("SET claimUntil = :until"),
			ExpressionAttributeValues: item{":now": num(now.UnixMilli()), ":until": num(until.UnixMilli())},
		})
		if isCondFailed(err) {
			continue // claimed (or deleted) by someone else meanwhile
		}
		if err != nil {
			return out, fmt.Errorf("dynamostore: claim outbox entry %s: %w", id, err)
		}
		var payload []byte
		if b, ok := it["payload"].(*types.AttributeValueMemberB); ok {
			payload = b.Value
		}
		out = append(out, store.OutboxEntry{ID: id, JobID: getS(it, "jobId"), Key: getS(it, "key"), Payload: payload,
			Created: time.UnixMilli(getN(it, "created")).UTC()})
	}
	return out, nil
}

// DeleteOutbox removes an entry.
func (s *Store) DeleteOutbox(ctx context.Context, id string) error {
	if _, err := s.c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: keyOf(PKOutbox, id)}); err != nil {
		return fmt.Errorf("dynamostore: delete outbox entry %s: %w", id, err)
	}
	return nil
}
