package dynamostore

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mailconnector/shared/redact"
	"mailconnector/shared/run"
	"mailconnector/shared/store"
)

// TestRunsAndJobStatesAreStoredRedacted: a secret value registered with
// the process's redactor never reaches the table through a run record or
// a job state.
func TestRunsAndJobStatesAreStoredRedacted(t *testing.T) {
	const secret = "DYNAMO-canary-Pa55"
	redact.Add(secret)
	c, table := newTable(t)
	s := New(c, table, nil)
	ctx := context.Background()
	if err := s.PutRun(ctx, run.Run{JobID: "j", ID: "r1", StartedAt: time.Now(), Status: run.Failed,
		Errors: []string{"login refused: password " + secret}, Notes: []string{"token " + secret}}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutJobState(ctx, store.JobState{JobID: "j", LastError: "read secrets: " + secret}); err != nil {
		t.Fatal(err)
	}
	out, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, it := range out.Items {
		for k, v := range it {
			if sv, ok := v.(*types.AttributeValueMemberS); ok {
				fmt.Fprintf(&all, "%s=%s\n", k, sv.Value)
			}
		}
	}
	if got := all.String(); strings.Contains(got, secret) || strings.Count(got, redact.Mask) != 3 {
		t.Errorf("got the table\n%s\nwant the secret masked three times", got)
	}
}
