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
	var c store.JobControl
	if err := s.getData(ctx, "JOB#"+jobID, "CONTROL", "control of job "+jobID, &c); err != nil {
		return store.JobControl{}, err
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
