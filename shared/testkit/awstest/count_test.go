package awstest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// TestCounter: a client built from an attached configuration counts each
// call by service and operation; one built before counts nothing.
func TestCounter(t *testing.T) {
	m := Start(t)
	ctx := context.Background()
	cfg := m.Config()
	before := sqs.NewFromConfig(cfg)
	c := NewCounter()
	c.Attach(&cfg)
	counted := sqs.NewFromConfig(cfg)

	out, err := counted.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("counted")})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := counted.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: out.QueueUrl, MessageBody: aws.String("m")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := before.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: out.QueueUrl, MessageBody: aws.String("m")}); err != nil {
		t.Fatal(err)
	}
	if got := c.N("SQS", "SendMessage"); got != 3 {
		t.Errorf("SendMessage: got %d, want 3\n%s", got, c)
	}
	if got := c.N("SQS", "CreateQueue"); got != 1 {
		t.Errorf("CreateQueue: got %d, want 1\n%s", got, c)
	}
	if got := c.Service("SQS"); got != 4 {
		t.Errorf("SQS calls: got %d, want 4\n%s", got, c)
	}
	c.Reset()
	if got := c.Service("SQS"); got != 0 {
		t.Errorf("after Reset: got %d SQS calls, want 0", got)
	}
}
