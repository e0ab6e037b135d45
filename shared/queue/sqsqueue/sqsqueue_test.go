package sqsqueue

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"mailconnector/shared/queue"
	"mailconnector/shared/queue/queuetest"
	"mailconnector/shared/testkit/awstest"
)

var moto *awstest.Moto

func TestMain(m *testing.M) { awstest.Main(m, &moto) }

// newQueues creates a queue and its dead-letter queue, redriven after
// maxReceives receives, with names of their own.
func newQueues(t *testing.T, maxReceives int) (queue.Queue, queue.Queue) {
	t.Helper()
	q, dlq := moto.RedrivenQueue(t, awstest.Name("q"), maxReceives, nil)
	c := sqs.NewFromConfig(moto.Config())
	return New(c, q.URL), New(c, dlq.URL)
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

func TestEdges(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, q queue.Queue)
	}{
		{"no messages is no request", func(t *testing.T, q queue.Queue) {
			if err := q.Send(ctx, nil); err != nil {
				t.Errorf("Send of nothing: got %v, want nil", err)
			}
		}},
		{"an empty attribute is left out", func(t *testing.T, q queue.Queue) {
			if err := q.Send(ctx, []queue.Message{{Body: []byte("x"), Attributes: map[string]string{"jobId": "a", "runId": ""}}}); err != nil {
				t.Fatalf("Send: %v", err)
			}
			d, err := q.Receive(ctx, 1, time.Second, time.Minute)
			if err != nil || len(d) != 1 {
				t.Fatalf("Receive: got %d messages, %v; want 1", len(d), err)
			}
			if len(d[0].Attributes) != 1 || d[0].Attributes["jobId"] != "a" {
				t.Errorf("got attributes %v, want only jobId=a", d[0].Attributes)
			}
		}},
		{"a wait beyond SQS's 20 s and more than 10 messages asked for", func(t *testing.T, q queue.Queue) {
			if err := q.Send(ctx, []queue.Message{{Body: []byte("x")}}); err != nil {
				t.Fatalf("Send: %v", err)
			}
			start := time.Now()
			d, err := q.Receive(ctx, 50, time.Minute, 24*time.Hour)
			if err != nil || len(d) != 1 {
				t.Fatalf("Receive: got %d messages, %v; want 1", len(d), err)
			}
			if el := time.Since(start); el > 10*time.Second {
				t.Errorf("Receive took %v with a message waiting, want at once", el)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := newQueues(t, 5)
			tt.run(t, q)
		})
	}
}

// batchFake stands in for SQS's SendMessageBatch (JSON protocol): it
// refuses the entries whose body is "refuse".
type batchFake struct{ requests int }

func (f *batchFake) RoundTrip(r *http.Request) (*http.Response, error) {
	f.requests++
	var in struct {
		Entries []struct{ Id, MessageBody string }
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return nil, err
	}
	type entry struct {
		Id, MessageId, Code, Message string `json:",omitempty"`
		SenderFault                  bool   `json:",omitempty"`
	}
	out := struct{ Successful, Failed []entry }{Successful: []entry{}, Failed: []entry{}}
	for _, e := range in.Entries {
		if e.MessageBody == "refuse" {
			out.Failed = append(out.Failed, entry{Id: e.Id, Code: "InvalidMessageContents", Message: "refused by the fake", SenderFault: true})
			continue
		}
		out.Successful = append(out.Successful, entry{Id: e.Id, MessageId: "m-" + e.Id})
	}
	b, _ := json.Marshal(out)
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body: io.NopCloser(bytes.NewReader(b)), Request: r}, nil
}

func TestPartialBatchFailureIsReported(t *testing.T) {
	fake := &batchFake{}
	c := sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://sqs.invalid"),
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""), HTTPClient: &http.Client{Transport: fake},
		DisableMessageChecksumValidation: true})
	q := New(c, "http://sqs.invalid/123456789012/q")
	var msgs []queue.Message
	for i := range 25 {
		body := fmt.Sprintf("m%d", i)
		if i == 3 || i == 17 {
			body = "refuse"
		}
		msgs = append(msgs, queue.Message{Body: []byte(body)})
	}
	err := q.Send(context.Background(), msgs)
	if err == nil || !strings.Contains(err.Error(), "2 of 25 messages refused") || !strings.Contains(err.Error(), "InvalidMessageContents") {
		t.Errorf("got %v, want an error naming 2 of 25 refused and the reason", err)
	}
	if fake.requests != 3 {
		t.Errorf("got %d batch requests, want 3 (a partial failure does not stop the later batches)", fake.requests)
	}
}
