package dynamostore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"mailconnector/shared/store"
)

// JobControl returns the job's stored control; store.ErrNotFound when none.
func (s *Store) JobControl(ctx context.Context, jobID string) (store.JobControl, error) {
	it, err := s.get(ctx, "JOB#"+jobID, "CONTROL")
	if err != nil {
		return store.JobControl{}, fmt.Errorf("dynamostore: control of job %s: %w", jobID, err)
	}
	if it == nil {
		return store.JobControl{}, fmt.Errorf("dynamostore: control of job %s: %w", jobID, store.ErrNotFound)
	}
	var c store.JobControl
	if err := decode(it, &c); err != nil {
		return store.JobControl{}, fmt.Errorf("dynamostore: control of job %s: %w", jobID, err)
	}
	return c, nil
}

// PutJobControl stores the job's control.
func (s *Store) PutJobControl(ctx context.Context, c store.JobControl) error {
	if c.JobID == "" {
		return fmt.Errorf("dynamostore: put job control: the job is required")
	}
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("dynamostore: put control of job %s: %w", c.JobID, err)
	}
	it := keyOf("JOB#"+c.JobID, "CONTROL")
	it["data"] = str(string(b))
	if _, err := s.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: it}); err != nil {
		return fmt.Errorf("dynamostore: put control of job %s: %w", c.JobID, err)
	}
	return nil
}
