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

var (
	_ queue.Queue    = (*Queue)(nil)
	_ queue.Extender = (*Queue)(nil)
)

// New returns the queue at queueURL.
func New(client *sqs.Client, queueURL string) *Queue { return &Queue{c: client, url: queueURL} }

// Send enqueues messages in batches of ten (SendMessageBatch), each
// attribute a String message attribute. SQS refuses an attribute with an
// empty value, so such attributes are left out (a receiver reads "" for
// an absent attribute either way). A batch that SQS accepts only in part
// does not stop the others: Send returns an error naming how many of all
// the messages were refused. A batch whose request fails stops Send.
func (q *Queue) Send(ctx context.Context, msgs []queue.Message) error {
	refused := 0
	var first types.BatchResultErrorEntry
	for start := 0; start < len(msgs); start += 10 {
		batch := msgs[start:min(start+10, len(msgs))]
		entries := make([]types.SendMessageBatchRequestEntry, len(batch))
		for i, m := range batch {
			var attrs map[string]types.MessageAttributeValue
			for k, v := range m.Attributes {
				if v == "" {
					continue
				}
				if attrs == nil {
					attrs = map[string]types.MessageAttributeValue{}
				}
				attrs[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
			}
			entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(m.Body)), MessageAttributes: attrs}
		}
		out, err := q.c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.url), Entries: entries})
		if err != nil {
			return fmt.Errorf("sqsqueue: send messages %d-%d of %d: %w", start+1, start+len(batch), len(msgs), err)
		}
		if len(out.Failed) > 0 && refused == 0 {
			first = out.Failed[0]
		}
		refused += len(out.Failed)
	}
	if refused > 0 {
		return fmt.Errorf("sqsqueue: send: %d of %d messages refused (first: %s %s)", refused, len(msgs),
			aws.ToString(first.Code), aws.ToString(first.Message))
	}
	return nil
}

// SQS's limits on a receive.
const (
	maxWait       = 20 * time.Second
	maxVisibility = 12 * time.Hour
)

// seconds rounds d up to whole seconds, within [0, limit].
func seconds(d, limit time.Duration) int32 {
	return int32(math.Ceil(min(max(d, 0), limit).Seconds()))
}

// Receive long-polls for up to n messages (SQS returns at most 10). SQS
// counts whole seconds, so wait and visibility are rounded up; a wait is
// at most 20 s and a visibility timeout at most 12 h, SQS's limits. A
// visibility of 0 means the queue's default visibility timeout.
func (q *Queue) Receive(ctx context.Context, n int, wait, visibility time.Duration) ([]queue.Delivery, error) {
	out, err := q.c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(q.url), MaxNumberOfMessages: int32(min(max(n, 1), 10)),
		WaitTimeSeconds: seconds(wait, maxWait), VisibilityTimeout: seconds(visibility, maxVisibility),
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
	})
	if err != nil {
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

// Extend hides the delivery for visibility from now on
// (ChangeMessageVisibility), rounded up to whole seconds and at most 12 h.
// SQS refuses a stale receipt or one whose message was deleted.
func (q *Queue) Extend(ctx context.Context, receipt string, visibility time.Duration) error {
	if receipt == "" {
		return errors.New("sqsqueue: extend: empty receipt")
	}
	if _, err := q.c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(q.url),
		ReceiptHandle: aws.String(receipt), VisibilityTimeout: seconds(visibility, maxVisibility)}); err != nil {
		return fmt.Errorf("sqsqueue: extend visibility: %w", err)
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
