package awstest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
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
