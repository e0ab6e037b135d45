package ebevents

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"mailconnector/shared/event"
	"mailconnector/shared/testkit/awstest"
)

var moto *awstest.Moto

func TestMain(m *testing.M) { awstest.Main(m, &moto) }

// TestEventsReachARuleTarget publishes on a bus of its own with a rule
// that sends the connector's events to an SQS queue, and reads them back.
func TestEventsReachARuleTarget(t *testing.T) {
	ctx := context.Background()
	cfg := moto.Config()
	eb, qc := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("helpdesk-bus")}); err != nil {
		t.Fatal(err)
	}
	q := moto.Queue(t, "helpdesk", nil)
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("requests"), EventBusName: aws.String("helpdesk-bus"),
		EventPattern: aws.String(`{"source":["mail-connector"],"detail-type":["RequestCreated"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("requests"), EventBusName: aws.String("helpdesk-bus"),
		Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String(q.ARN)}}}); err != nil {
		t.Fatal(err)
	}
	p := New(eb, "helpdesk-bus")
	created := event.Event{Type: event.RequestCreated, Time: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), JobID: "support",
		LedgerKey: "imap/INBOX/7/42", RequestID: "7", RequestNumber: 7, Subject: "Drucker geht nicht",
		Request: &event.Request{Title: "Drucker geht nicht", Status: "open", Requester: event.Address{Name: "Kevin", Address: "kevin@example.com"}}}
	ignored := event.Event{Type: event.MessageIgnored, Time: created.Time, JobID: "support", LedgerKey: "imap/INBOX/7/43"}
	for _, e := range []event.Event{created, ignored} {
		if err := p.Publish(ctx, e); err != nil {
			t.Fatalf("Publish %s: %v", e.Type, err)
		}
	}
	out, err := qc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.URL), WaitTimeSeconds: 2, MaxNumberOfMessages: 10})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("got %d messages, %v; want the RequestCreated event only (the rule matches its type)", len(out.Messages), err)
	}
	var got struct {
		Source     string      `json:"source"`
		DetailType string      `json:"detail-type"`
		Time       time.Time   `json:"time"`
		Detail     event.Event `json:"detail"`
	}
	if err := json.Unmarshal([]byte(*out.Messages[0].Body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Source != Source || got.DetailType != event.RequestCreated || !got.Time.Equal(created.Time) {
		t.Errorf("got source %q detail-type %q time %v, want %q %q %v", got.Source, got.DetailType, got.Time, Source, event.RequestCreated, created.Time)
	}
	if diff := cmp.Diff(created, got.Detail); diff != "" {
		t.Errorf("detail (-want +got):\n%s", diff)
	}
}

// ebFake answers PutEvents (JSON protocol) with a refused entry and keeps
// the request.
type ebFake struct{ last map[string]any }

func (f *ebFake) RoundTrip(r *http.Request) (*http.Response, error) {
	f.last = nil
	if err := json.NewDecoder(r.Body).Decode(&f.last); err != nil {
		return nil, err
	}
	body := `{"FailedEntryCount":1,"Entries":[{"ErrorCode":"InternalFailure","ErrorMessage":"try again"}]}`
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/x-amz-json-1.1"}},
		Body: io.NopCloser(bytes.NewReader([]byte(body))), Request: r}, nil
}

func TestRefusedEntryIsAnError(t *testing.T) {
	fake := &ebFake{}
	c := eventbridge.New(eventbridge.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://events.invalid"),
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""), HTTPClient: &http.Client{Transport: fake}})
	err := New(c, "default").Publish(context.Background(), event.Event{Type: event.MessageRejected, JobID: "support"})
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "InternalFailure try again") {
		t.Errorf("got %v, want ErrRefused naming InternalFailure", err)
	}
	entries, _ := fake.last["Entries"].([]any)
	if len(entries) != 1 {
		t.Fatalf("got request %v, want one entry", fake.last)
	}
	entry := entries[0].(map[string]any)
	if _, ok := entry["Time"]; ok {
		t.Errorf("an event without a time sent Time %v, want none (EventBridge's clock)", entry["Time"])
	}
	if entry["Source"] != Source || entry["DetailType"] != event.MessageRejected || entry["EventBusName"] != "default" {
		t.Errorf("got entry %v", entry)
	}
}
