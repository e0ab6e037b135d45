package dynamostore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A quota lives under PK "QUOTA#<key>", SK "QUOTA": the current window's
// number (Unix milliseconds / window length) in "window" and the uses
// counted in it in "n". DynamoDB's TTL removes it a window after it ends.

// TakeQuota counts one use of key in now's window if fewer than limit
// were counted there: a conditional increment within the window, or a
// conditional reset when the stored window is an older one. Both are
// single-item conditional writes, so of calls at once at most limit win.
func (s *Store) TakeQuota(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (bool, error) {
	if limit <= 0 || window <= 0 {
		return false, nil
	}
	w := now.UnixMilli() / window.Milliseconds()
	wv := &types.AttributeValueMemberN{Value: strconv.FormatInt(w, 10)}
	k := keyOf("QUOTA#"+key, "QUOTA")
	for attempt := 0; attempt < 3; attempt++ {
		_, err := s.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(s.table), Key: k,
			UpdateExpression:         aws.String("SET #n = #n + :one"),
			ConditionExpression:      aws.String("#w = :w AND #n < :limit"),
			ExpressionAttributeNames: map[string]string{"#n": "n", "#w": "window"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":one": num(1), ":w": wv, ":limit": num(int64(limit)),
			},
		})
		if err == nil {
			return true, nil
		}
		if !isCondFailed(err) {
			return false, fmt.Errorf("dynamostore: take quota %s: %w", key, err)
		}
		if attempt > 0 {
			// The window is current (a reset lost to another) and full.
			return false, nil
		}
		it := keyOf("QUOTA#"+key, "QUOTA")
		it["window"], it["n"] = wv, num(1)
		it[AttrTTL] = num(time.UnixMilli((w + 2) * window.Milliseconds()).Unix())
		_, err = s.c.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(s.table), Item: it,
			ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #w < :w"),
			ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#w": "window"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":w": wv},
		})
		if err == nil {
			return true, nil
		}
		if !isCondFailed(err) {
			return false, fmt.Errorf("dynamostore: take quota %s: %w", key, err)
		}
		// Someone else started this window: count within it.
	}
	return false, nil
}
