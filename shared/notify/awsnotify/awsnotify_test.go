package awsnotify

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"mailconnector/shared/awstest"
	"mailconnector/shared/notify"
)

var moto *awstest.Moto

func TestMain(m *testing.M) { awstest.Main(m, &moto) }

func TestAlertsReachTheTopic(t *testing.T) {
	ctx := context.Background()
	cfg := moto.Config()
	sc, qc := sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	topic, err := sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts")})
	if err != nil {
		t.Fatal(err)
	}
	q, err := qc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("alerts-inbox")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, _ := qc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if _, err := sc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(attrs.Attributes["QueueArn"])}); err != nil {
		t.Fatal(err)
	}
	n := New(sc, sesv2.NewFromConfig(cfg), *topic.TopicArn, "")
	long := strings.Repeat("Mail job failing ", 10)
	if err := n.Notify(ctx, notify.Notice{Kind: notify.Alert, JobID: "support", Subject: long, Body: "connect: refused"}); err != nil {
		t.Fatal(err)
	}
	out, err := qc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 2})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("got %v, %v; want the alert", out, err)
	}
	var env struct {
		Subject, Message  string
		MessageAttributes map[string]struct{ Value string }
	}
	if err := json.Unmarshal([]byte(*out.Messages[0].Body), &env); err != nil {
		t.Fatal(err)
	}
	if env.Message != "connect: refused" || len([]rune(env.Subject)) > 100 || env.MessageAttributes["jobId"].Value != "support" {
		t.Errorf("got %+v", env)
	}
}

func TestSenderNotices(t *testing.T) {
	ctx := context.Background()
	cfg := moto.Config()
	ses := sesv2.NewFromConfig(cfg)
	if _, err := ses.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("helpdesk@example.com")}); err != nil {
		t.Fatal(err)
	}
	n := New(sns.NewFromConfig(cfg), ses, "", "helpdesk@example.com")
	if err := n.Notify(ctx, notify.Notice{Kind: notify.Sender, JobID: "support", To: []string{"customer@example.org"}, Subject: "Your attachment was removed", Body: "setup.exe is blocked"}); err != nil {
		t.Fatalf("send: %v", err)
	}
	off := New(sns.NewFromConfig(cfg), ses, "", "")
	if err := off.Notify(ctx, notify.Notice{Kind: notify.Sender, To: []string{"x@example.org"}}); err == nil {
		t.Error("a notifier without a sender address sent a notice")
	}
	if err := off.Notify(ctx, notify.Notice{Kind: notify.Alert}); err == nil {
		t.Error("a notifier without a topic published an alert")
	}
}
