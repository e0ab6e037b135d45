package dynamostore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mailconnector/shared/store"
)

// Push items live in the job's partition: SK "PUSH#SUB" holds the
// subscription, SK "PUSH#PENDING" the time a notification came that no
// fetch run has started on.
const (
	skSubscription = "PUSH#SUB"
	skPushPending  = "PUSH#PENDING"
)

// Subscription returns the job's subscription.
func (s *Store) Subscription(ctx context.Context, jobID string) (store.Subscription, error) {
	var sub store.Subscription
	err := s.getData(ctx, "JOB#"+jobID, skSubscription, "subscription of job "+jobID, &sub)
	return sub, err
}

// PutSubscription stores the job's subscription.
func (s *Store) PutSubscription(ctx context.Context, sub store.Subscription) error {
	if sub.JobID == "" || sub.ID == "" {
		return fmt.Errorf("dynamostore: put subscription: job and id are required")
	}
	return s.putData(ctx, "JOB#"+sub.JobID, skSubscription, "subscription of job "+sub.JobID, sub)
}

// DeleteSubscription forgets the job's subscription.
func (s *Store) DeleteSubscription(ctx context.Context, jobID string) error {
	if _, err := s.c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: keyOf("JOB#"+jobID, skSubscription)}); err != nil {
		return fmt.Errorf("dynamostore: delete subscription of job %s: %w", jobID, err)
	}
	return nil
}

// MarkPushPending writes the pending item only when there is none, or
// the one there is stale: a conditional put, so of two webhook
// invocations at once only one is first.
func (s *Store) MarkPushPending(ctx context.Context, jobID string, now time.Time, stale time.Duration) (bool, error) {
	it := keyOf("JOB#"+jobID, skPushPending)
	it["since"] = num(now.UnixMilli())
	_, err := s.c.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: it,
		ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #since < :stale"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#since": "since"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":stale": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Add(-stale).UnixMilli(), 10)}},
	})
	switch {
	case isCondFailed(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("dynamostore: mark push pending for job %s: %w", jobID, err)
	}
	return true, nil
}

// TakePushPending deletes the pending item and reports whether it was there.
func (s *Store) TakePushPending(ctx context.Context, jobID string) (bool, error) {
	out, err := s.c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: keyOf("JOB#"+jobID, skPushPending), ReturnValues: types.ReturnValueAllOld})
	if err != nil {
		return false, fmt.Errorf("dynamostore: take push pending for job %s: %w", jobID, err)
	}
	return len(out.Attributes) > 0, nil
}

// PutOnce stores a single-use value under PK "ONCE#<key>"; DynamoDB's TTL
// removes it some time after it expires, and TakeOnce refuses it at once.
func (s *Store) PutOnce(ctx context.Context, key string, value []byte, expires time.Time) error {
	it := keyOf("ONCE#"+key, "ONCE")
	it["data"] = &types.AttributeValueMemberB{Value: value}
	it["expires"] = num(expires.UnixMilli())
	it[AttrTTL] = num(expires.Unix() + 3600)
	if _, err := s.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: it}); err != nil {
		return fmt.Errorf("dynamostore: put one-time value: %w", err)
	}
	return nil
}

// TakeOnce deletes the value and returns what was there: of two takes at
// once only one gets it.
func (s *Store) TakeOnce(ctx context.Context, key string, now time.Time) ([]byte, error) {
	out, err := s.c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: keyOf("ONCE#"+key, "ONCE"), ReturnValues: types.ReturnValueAllOld})
	if err != nil {
		return nil, fmt.Errorf("dynamostore: take one-time value: %w", err)
	}
	if len(out.Attributes) == 0 || getN(out.Attributes, "expires") <= now.UnixMilli() {
		return nil, fmt.Errorf("dynamostore: take one-time value: %w", store.ErrNotFound)
	}
	b, _ := out.Attributes["data"].(*types.AttributeValueMemberB)
	if b == nil {
		return nil, fmt.Errorf("dynamostore: take one-time value: %w", store.ErrNotFound)
	}
	return b.Value, nil
}
