package awstest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

func TestMotoAnswersAndResets(t *testing.T) {
	m := Start(t)
	ctx := context.Background()
	c := sqs.NewFromConfig(m.Config())
	if _, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("q")}); err != nil {
		t.Fatalf("create queue: %v", err)
	}
	out, err := c.ListQueues(ctx, &sqs.ListQueuesInput{})
	if err != nil || len(out.QueueUrls) != 1 {
		t.Fatalf("got %v, %v; want one queue", out, err)
	}
	m.Reset(t)
	out, err = c.ListQueues(ctx, &sqs.ListQueuesInput{})
	if err != nil || len(out.QueueUrls) != 0 {
		t.Fatalf("after reset: got %v, %v; want no queue", out.QueueUrls, err)
	}
}

// TestResources: the helpers create what they name, each under a name of
// its own, and a redriven queue sends to its dead-letter queue.
func TestResources(t *testing.T) {
	m := Start(t)
	ctx := context.Background()
	if a, b := Name("x"), Name("x"); a == b {
		t.Errorf("Name: got %q twice", a)
	}
	c, bucket := m.Bucket(t, "b")
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Errorf("bucket %s: %v", bucket, err)
	}
	q, dlq := m.RedrivenQueue(t, Name("q"), 2, map[string]string{"VisibilityTimeout": "7"})
	attrs, err := sqs.NewFromConfig(m.Config()).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(q.URL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	var policy struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		MaxReceiveCount     int    `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(attrs.Attributes["RedrivePolicy"]), &policy); err != nil || policy.DeadLetterTargetArn != dlq.ARN || policy.MaxReceiveCount != 2 {
		t.Errorf("redrive policy: got %s (%v), want %s after 2 receives", attrs.Attributes["RedrivePolicy"], err, dlq.ARN)
	}
	if got := attrs.Attributes["VisibilityTimeout"]; got != "7" {
		t.Errorf("visibility timeout: got %s, want 7", got)
	}
	if attrs.Attributes["QueueArn"] != q.ARN {
		t.Errorf("queue ARN: got %s, want %s", q.ARN, attrs.Attributes["QueueArn"])
	}
	sc, group := m.ScheduleGroup(t, "g")
	if _, err := sc.GetScheduleGroup(ctx, &scheduler.GetScheduleGroupInput{Name: aws.String(group)}); err != nil {
		t.Errorf("schedule group %s: %v", group, err)
	}
}
