package handler_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"mailconnector/shared/handler"
	"mailconnector/shared/ledger"
	"mailconnector/shared/queue/sqsqueue"
	"mailconnector/shared/store/boltstore"
	"mailconnector/shared/testkit/awstest"
	"mailconnector/shared/testkit/localtest"
)

// TestQueueKeepsRecordHidden: a stage that works longer than its queue's
// visibility timeout keeps its record hidden when the handler has the
// queue's Sources, and without them another consumer receives the record
// meanwhile.
func TestQueueKeepsRecordHidden(t *testing.T) {
	const visibility = 2 // seconds
	for _, tc := range []struct {
		name     string
		sources  bool
		wantSeen bool
	}{
		{name: "with sources", sources: true, wantSeen: false},
		{name: "without sources", sources: false, wantSeen: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			c := sqs.NewFromConfig(moto.Config())
			q := moto.Queue(t, awstest.Name("hidden"), map[string]string{"VisibilityTimeout": strconv.Itoa(visibility)})
			if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.URL), MessageBody: aws.String(`{"jobId":"support","key":"m1"}`)}); err != nil {
				t.Fatal(err)
			}
			out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.URL), WaitTimeSeconds: 1})
			if err != nil || len(out.Messages) != 1 {
				t.Fatalf("receive: got %d messages, %v; want 1", len(out.Messages), err)
			}
			m := out.Messages[0]
			rec := events.SQSMessage{MessageId: *m.MessageId, ReceiptHandle: *m.ReceiptHandle, Body: *m.Body,
				EventSourceARN: q.ARN, Attributes: map[string]string{"ApproximateReceiveCount": "1"}}

			// The stage works three visibility timeouts, while another
			// consumer polls the queue.
			seen := false
			stage := stageFunc(func(ledger.Pointer) error {
				deadline := time.Now().Add(3 * visibility * time.Second)
				for time.Now().Before(deadline) {
					other, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.URL), WaitTimeSeconds: 1, VisibilityTimeout: 1})
					if err != nil {
						return err
					}
					if len(other.Messages) > 0 {
						seen = true
					}
				}
				return nil
			})
			h := &handler.Queue{Name: "preprocess", Stage: stage, Ledger: openLedger(t)}
			if tc.sources {
				h.Sources = sqsqueue.NewSources(c)
			}
			resp, err := h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{rec}})
			if err != nil || len(resp.BatchItemFailures) != 0 {
				t.Fatalf("Handle: got %v, %v; want no failures", resp.BatchItemFailures, err)
			}
			if seen != tc.wantSeen {
				t.Errorf("another consumer received the record while the stage worked: got %v, want %v", seen, tc.wantSeen)
			}
		})
	}
}

// TestSourcesRefusesAnotherARN: a record's source that is not an SQS queue
// ARN is an error, and the handler consumes the record all the same.
func TestSourcesRefusesAnotherARN(t *testing.T) {
	s := sqsqueue.NewSources(sqs.NewFromConfig(moto.Config()))
	for _, arn := range []string{"", "arn:aws:sns:us-east-1:123456789012:topic", "arn:aws:sqs:us-east-1:123456789012:"} {
		if _, _, err := s.Extender(context.Background(), arn); err == nil {
			t.Errorf("Extender(%q): got no error", arn)
		}
	}
	var seen []string
	stage := stageFunc(func(p ledger.Pointer) error { seen = append(seen, p.Key); return nil })
	h := &handler.Queue{Name: "rules", Stage: stage, Ledger: openLedger(t), Sources: s, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	resp, err := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "1", Body: `{"jobId":"support","key":"m1"}`, EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:missing"}}})
	if err != nil || len(resp.BatchItemFailures) != 0 || len(seen) != 1 {
		t.Errorf("Handle: got failures %v, err %v, stage saw %v; want the record consumed", resp.BatchItemFailures, err, seen)
	}
}

// stageFunc is a stage of one function.
type stageFunc func(ledger.Pointer) error

func (f stageFunc) Handle(_ context.Context, p ledger.Pointer) error { return f(p) }

// openLedger is an empty ledger: the records' messages have no outcome yet.
func openLedger(tb testing.TB) *boltstore.Store {
	tb.Helper()
	st := localtest.Store(tb, tb.TempDir())
	return st
}
