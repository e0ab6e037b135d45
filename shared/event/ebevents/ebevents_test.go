package ebevents

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"mailconnector/shared/awstest"
	"mailconnector/shared/event"
)

func TestEventsReachARuleTarget(t *testing.T) {
	m := awstest.Start(t)
	ctx := context.Background()
	cfg := m.Config()
	eb, qc := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	q, err := qc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("helpdesk")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, _ := qc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("requests"), EventPattern: aws.String(`{"source":["mail-connector"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("requests"), Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String(attrs.Attributes["QueueArn"])}}}); err != nil {
		t.Fatal(err)
	}
	p := New(eb, "default")
	e := event.Event{Type: event.RequestCreated, Time: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), JobID: "support", RequestID: "7", RequestNumber: 7}
	if err := p.Publish(ctx, e); err != nil {
		t.Fatal(err)
	}
	out, err := qc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 2})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("got %v, %v; want the event", out, err)
	}
	var got struct {
		Source     string      `json:"source"`
		DetailType string      `json:"detail-type"`
		Detail     event.Event `json:"detail"`
	}
	if err := json.Unmarshal([]byte(*out.Messages[0].Body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Source != Source || got.DetailType != event.RequestCreated || got.Detail.RequestNumber != 7 || got.Detail.JobID != "support" {
		t.Errorf("got %+v", got)
	}
}
