package awsnotify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"mailconnector/shared/notify"
	"mailconnector/shared/testkit/awstest"
)

var moto *awstest.Moto

func TestMain(m *testing.M) { awstest.Main(m, &moto) }

// The rules stage's SentNotifier, which the Notifier implements.
var _ interface {
	NotifySent(ctx context.Context, n notify.Notice) (string, error)
} = (*Notifier)(nil)

// newTopic creates a topic with an SQS queue subscribed to it.
func newTopic(tb testing.TB) (topicARN string, read func() snsEnvelope) {
	tb.Helper()
	ctx := context.Background()
	cfg := moto.Config()
	sc, qc := sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	name := awstest.Name("alerts")
	topic, err := sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		tb.Fatalf("create topic: %v", err)
	}
	q := moto.Queue(tb, name+"-inbox", nil)
	if _, err := sc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(q.ARN)}); err != nil {
		tb.Fatalf("subscribe: %v", err)
	}
	return *topic.TopicArn, func() snsEnvelope {
		tb.Helper()
		out, err := qc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.URL), WaitTimeSeconds: 2})
		if err != nil || len(out.Messages) != 1 {
			tb.Fatalf("read the topic: got %d messages, %v; want 1", len(out.Messages), err)
		}
		if _, err := qc.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.URL), ReceiptHandle: out.Messages[0].ReceiptHandle}); err != nil {
			tb.Fatal(err)
		}
		var env snsEnvelope
		if err := json.Unmarshal([]byte(*out.Messages[0].Body), &env); err != nil {
			tb.Fatalf("SNS envelope: %v", err)
		}
		return env
	}
}

// snsEnvelope is what an SQS subscription receives from SNS.
type snsEnvelope struct {
	Subject, Message  string
	MessageAttributes map[string]struct{ Value string }
}

func TestAdminNoticesReachTheTopic(t *testing.T) {
	topic, read := newTopic(t)
	cfg := moto.Config()
	n := New(sns.NewFromConfig(cfg), sesv2.NewFromConfig(cfg), topic, "helpdesk@example.com")
	tests := []struct {
		name        string
		notice      notify.Notice
		wantSubject string
	}{
		{"alert", notify.Notice{Kind: notify.Alert, JobID: "support", Subject: "Mail job support failing", Body: "connect: refused"}, "Mail job support failing"},
		{"recovery", notify.Notice{Kind: notify.Recovery, JobID: "support", Subject: "Mail job support works again", Body: "ok"}, "Mail job support works again"},
		{"long subject with a line break", notify.Notice{Kind: notify.Alert, JobID: "support", Subject: "Störung\r\n" + strings.Repeat("x", 120), Body: "b"},
			"Störung " + strings.Repeat("x", 90) + "…"},
		{"admins' notice", notify.Notice{Kind: "notice", JobID: "support", To: []string{"admin@example.com"}, Subject: "Attachment removed", Body: "setup.exe"}, "Attachment removed"},
		{"sender notice without recipients goes to the administrators", notify.Notice{Kind: notify.Sender, JobID: "support", Subject: "s", Body: "b"}, "s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := n.NotifySent(context.Background(), tt.notice)
			if err != nil {
				t.Fatalf("NotifySent: %v", err)
			}
			if id != "" {
				t.Errorf("got Message-ID %q for a topic notice, want none", id)
			}
			env := read()
			if env.Subject != tt.wantSubject || utf8.RuneCountInString(env.Subject) >= 100 {
				t.Errorf("got subject %q (%d characters), want %q (< 100)", env.Subject, utf8.RuneCountInString(env.Subject), tt.wantSubject)
			}
			if env.Message != tt.notice.Body || env.MessageAttributes["jobId"].Value != tt.notice.JobID || env.MessageAttributes["kind"].Value != tt.notice.Kind {
				t.Errorf("got message %q attributes %v, want %q with jobId %s kind %s", env.Message, env.MessageAttributes, tt.notice.Body, tt.notice.JobID, tt.notice.Kind)
			}
		})
	}
}

// sentMessages are the messages moto's SES accepted (its inspection
// endpoint /moto-api/data.json).
func sentMessages(tb testing.TB) []motoMessage {
	tb.Helper()
	resp, err := http.Get(moto.URL + "/moto-api/data.json")
	if err != nil {
		tb.Fatalf("moto data: %v", err)
	}
	defer resp.Body.Close()
	var data struct {
		SES struct{ Message []motoMessage } `json:"ses"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&data); err != nil {
		tb.Fatalf("moto data: %v", err)
	}
	return data.SES.Message
}

type motoMessage struct {
	ID           string `json:"id"`
	Source       string `json:"source"`
	Subject      string `json:"subject"`
	Body         string `json:"body"`
	Destinations struct {
		ToAddresses []string
	} `json:"destinations"`
}

func TestSenderNotices(t *testing.T) {
	ctx := context.Background()
	cfg := moto.Config()
	ses := sesv2.NewFromConfig(cfg)
	if _, err := ses.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("helpdesk@example.com")}); err != nil {
		t.Fatal(err)
	}
	n := New(sns.NewFromConfig(cfg), ses, "", "helpdesk@example.com")
	no := notify.Notice{Kind: notify.Sender, JobID: "support", To: []string{"customer@example.org"}, Subject: "Your attachment was removed [#12]",
		Body: "setup.exe is blocked", InReplyTo: "m1@example.org", MessageID: "notice.abc@notices.example"}
	id, err := n.NotifySent(ctx, no)
	if err != nil {
		t.Fatalf("NotifySent: %v", err)
	}
	var got *motoMessage
	for _, m := range sentMessages(t) {
		if m.ID+"@email.amazonses.com" == id {
			got = &m
		}
	}
	if got == nil {
		t.Fatalf("got Message-ID %q, want <SES id>@email.amazonses.com of a message SES accepted", id)
	}
	want := motoMessage{ID: got.ID, Source: "helpdesk@example.com", Subject: no.Subject, Body: no.Body}
	want.Destinations.ToAddresses = no.To
	if diff := cmp.Diff(want, *got); diff != "" {
		t.Errorf("sent message (-want +got):\n%s", diff)
	}

	tests := []struct {
		name    string
		n       *Notifier
		notice  notify.Notice
		wantErr error
	}{
		{"unverified sender", New(sns.NewFromConfig(cfg), ses, "", "nobody@example.net"), no, nil},
		{"no sender address", New(sns.NewFromConfig(cfg), ses, "", ""), no, ErrNotConfigured},
		{"no topic", New(sns.NewFromConfig(cfg), ses, "", "helpdesk@example.com"), notify.Notice{Kind: notify.Alert, JobID: "support", Body: "b"}, ErrNotConfigured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.n.Notify(ctx, tt.notice)
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Errorf("Notify: got %v, want an error (%v)", err, tt.wantErr)
			}
		})
	}
}

// sesFake stands in for SES v2 SendEmail and keeps the last request.
type sesFake struct{ last map[string]any }

func (f *sesFake) RoundTrip(r *http.Request) (*http.Response, error) {
	f.last = nil
	if err := json.NewDecoder(r.Body).Decode(&f.last); err != nil {
		return nil, err
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader([]byte(`{"MessageId":"0102019a-test"}`))), Request: r}, nil
}

// TestSenderNoticeRequest checks what moto's SES drops: the headers.
func TestSenderNoticeRequest(t *testing.T) {
	tests := []struct {
		name, region, inReplyTo string
		wantHeaders             map[string]string
		wantID                  string
	}{
		{"reply", "us-east-1", "m1@example.org", map[string]string{"Auto-Submitted": "auto-generated", "X-Mail-Connector": "notice; job=support",
			"In-Reply-To": "<m1@example.org>", "References": "<m1@example.org>"}, "0102019a-test@email.amazonses.com"},
		{"bracketed", "eu-west-1", "<m1@example.org>", map[string]string{"Auto-Submitted": "auto-generated", "X-Mail-Connector": "notice; job=support",
			"In-Reply-To": "<m1@example.org>", "References": "<m1@example.org>"}, "0102019a-test@eu-west-1.amazonses.com"},
		{"no original", "us-east-1", "", map[string]string{"Auto-Submitted": "auto-generated", "X-Mail-Connector": "notice; job=support"}, "0102019a-test@email.amazonses.com"},
		{"a Message-ID that would break the header", "us-east-1", "m1@example.org\r\nBcc: x@example.net", map[string]string{"Auto-Submitted": "auto-generated", "X-Mail-Connector": "notice; job=support"}, "0102019a-test@email.amazonses.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &sesFake{}
			ses := sesv2.New(sesv2.Options{Region: tt.region, BaseEndpoint: aws.String("http://ses.invalid"),
				Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""), HTTPClient: &http.Client{Transport: fake}})
			n := New(nil, ses, "", "helpdesk@example.com")
			id, err := n.NotifySent(context.Background(), notify.Notice{Kind: notify.Sender, JobID: "support", To: []string{"c@example.org"},
				Subject: "Rejected:\r\n your message", Body: "b", InReplyTo: tt.inReplyTo})
			if err != nil {
				t.Fatalf("NotifySent: %v", err)
			}
			if id != tt.wantID {
				t.Errorf("got Message-ID %q, want %q", id, tt.wantID)
			}
			var req struct {
				Content struct {
					Simple struct {
						Subject struct{ Data string }
						Headers []struct{ Name, Value string }
					}
				}
			}
			b, _ := json.Marshal(fake.last)
			if err := json.Unmarshal(b, &req); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, h := range req.Content.Simple.Headers {
				got[h.Name] = h.Value
			}
			if diff := cmp.Diff(tt.wantHeaders, got); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			if s := req.Content.Simple.Subject.Data; s != "Rejected: your message" {
				t.Errorf("got subject %q, want %q", s, "Rejected: your message")
			}
		})
	}
}
