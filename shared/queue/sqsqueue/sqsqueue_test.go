package sqsqueue

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"mailconnector/shared/awstest"
	"mailconnector/shared/queue"
	"mailconnector/shared/queue/queuetest"
)

var moto *awstest.Moto

func TestMain(m *testing.M) { awstest.Main(m, &moto) }

var queues atomic.Int64

func newQueues(t *testing.T, maxReceives int) (queue.Queue, queue.Queue) {
	t.Helper()
	ctx := context.Background()
	c := sqs.NewFromConfig(moto.Config())
	n := queues.Add(1)
	dlq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(fmt.Sprintf("q%d-dlq", n))})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	policy := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%s}`, attrs.Attributes["QueueArn"], strconv.Itoa(maxReceives))
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(fmt.Sprintf("q%d", n)),
		Attributes: map[string]string{"RedrivePolicy": policy}})
	if err != nil {
		t.Fatal(err)
	}
	return New(c, *q.QueueUrl), New(c, *dlq.QueueUrl)
}

func TestConformance(t *testing.T) {
	queuetest.Run(t, queuetest.Harness{New: newQueues, Unit: time.Second})
}

func TestLenCountsVisibleAndInFlight(t *testing.T) {
	q, _ := newQueues(t, 3)
	ctx := context.Background()
	if err := q.Send(ctx, []queue.Message{{Body: []byte("a")}, {Body: []byte("b")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Receive(ctx, 1, 0, time.Minute); err != nil {
		t.Fatal(err)
	}
	n, err := q.(*Queue).Len(ctx)
	if err != nil || n != 2 {
		t.Errorf("got %d, %v; want 2", n, err)
	}
}
