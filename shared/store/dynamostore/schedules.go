package dynamostore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mailconnector/shared/store"
)

var _ store.ScheduleRecords = (*Store)(nil)

// The schedule sync's records live in one partition, PK "SCHEDULES",
// SK "SCHED#<name>": a query lists them in name order.
const (
	pkSchedules = "SCHEDULES"
	skSchedule  = "SCHED#"
)

// ScheduleRecords returns every record, sorted by name.
func (s *Store) ScheduleRecords(ctx context.Context) ([]store.ScheduleRecord, error) {
	items, err := s.query(ctx, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pkSchedules)},
		ConsistentRead:            aws.Bool(true),
	}, 0)
	if err != nil {
		return nil, fmt.Errorf("dynamostore: schedule records: %w", err)
	}
	out := make([]store.ScheduleRecord, 0, len(items))
	for _, it := range items {
		var r store.ScheduleRecord
		if err := decode(it, &r); err != nil {
			return nil, fmt.Errorf("dynamostore: schedule records: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// PutScheduleRecord stores r.
func (s *Store) PutScheduleRecord(ctx context.Context, r store.ScheduleRecord) error {
	if r.Name == "" {
		return fmt.Errorf("dynamostore: put schedule record: the name is required")
	}
	return s.putData(ctx, pkSchedules, skSchedule+r.Name, "record of schedule "+r.Name, r)
}

// DeleteScheduleRecord forgets the record of name.
func (s *Store) DeleteScheduleRecord(ctx context.Context, name string) error {
	if _, err := s.c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: keyOf(pkSchedules, skSchedule+name)}); err != nil {
		return fmt.Errorf("dynamostore: delete record of schedule %s: %w", name, err)
	}
	return nil
}
