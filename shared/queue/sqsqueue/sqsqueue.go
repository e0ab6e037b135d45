// Package sqsqueue implements queue.Queue on an SQS queue, the AWS twin of
// memqueue; both pass the queuetest suite. Only pointers travel on it; the
// dead-letter redrive is the queue's own RedrivePolicy.
package sqsqueue

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"mailconnector/shared/queue"
)

// Queue is one SQS queue.
type Queue struct {
	c   *sqs.Client
	url string
}

var _ queue.Queue = (*Queue)(nil)

// New returns the queue at url.
func New(c *sqs.Client, url string) *Queue { return &Queue{c: c, url: url} }

// Send enqueues messages in batches of ten (SendMessageBatch).
func (q *Queue) Send(ctx context.Context, msgs []queue.Message) error {
	for start := 0; start < len(msgs); start += 10 {
		batch := msgs[start:min(start+10, len(msgs))]
		entries := make([]types.SendMessageBatchRequestEntry, len(batch))
		for i, m := range batch {
			attrs := map[string]types.MessageAttributeValue{}
			for k, v := range m.Attributes {
				attrs[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
			}
			entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(m.Body)), MessageAttributes: attrs}
		}
		out, err := q.c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.url), Entries: entries})
		if err != nil {
			return fmt.Errorf("sqsqueue: send %d messages: %w", len(batch), err)
		}
		if n := len(out.Failed); n > 0 {
			return fmt.Errorf("sqsqueue: send: %d of %d messages refused (first: %s %s)", n, len(batch),
				aws.ToString(out.Failed[0].Code), aws.ToString(out.Failed[0].Message))
		}
	}
	return nil
}

func seconds(d time.Duration) int32 { return int32(math.Ceil(d.Seconds())) }

// Receive long-polls for up to n (at most 10) messages.
func (q *Queue) Receive(ctx context.Context, n int, wait, visibility time.Duration) ([]queue.Delivery, error) {
	out, err := q.c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(q.url), MaxNumberOfMessages: int32(min(max(n, 1), 10)),
		WaitTimeSeconds: seconds(wait), VisibilityTimeout: seconds(visibility),
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
	})
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		return nil, fmt.Errorf("sqsqueue: receive: %w", err)
	}
	ds := make([]queue.Delivery, 0, len(out.Messages))
	for _, m := range out.Messages {
		d := queue.Delivery{ID: aws.ToString(m.MessageId), Receipt: aws.ToString(m.ReceiptHandle)}
		d.Body = []byte(aws.ToString(m.Body))
		if len(m.MessageAttributes) > 0 {
			d.Attributes = map[string]string{}
			for k, v := range m.MessageAttributes {
				d.Attributes[k] = aws.ToString(v.StringValue)
			}
		}
		d.ReceiveCount, _ = strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
		ds = append(ds, d)
	}
	return ds, nil
}

// Delete acknowledges a delivery.
func (q *Queue) Delete(ctx context.Context, receipt string) error {
	if receipt == "" {
		return errors.New("sqsqueue: delete: empty receipt")
	}
	if _, err := q.c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.url), ReceiptHandle: aws.String(receipt)}); err != nil {
		var bad *types.ReceiptHandleIsInvalid
		if errors.As(err, &bad) {
			return nil // a stale receipt: the message came back to someone else
		}
		return fmt.Errorf("sqsqueue: delete: %w", err)
	}
	return nil
}

// Len is the approximate number of messages visible and in flight.
func (q *Queue) Len(ctx context.Context) (int, error) {
	out, err := q.c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(q.url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		return 0, fmt.Errorf("sqsqueue: queue length: %w", err)
	}
	a, _ := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
	b, _ := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	return a + b, nil
}
