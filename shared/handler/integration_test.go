package handler_test

// The three functions chained through real SQS queues (moto), with the
// DynamoDB store and S3 blobs (moto) and a Dovecot mailbox: the Lambda
// runtime's part, the event source mappings, is played by pollers that
// deliver SQS batches to the handlers and delete what they did not report
// as failed, as the real mappings do with ReportBatchItemFailures.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"mailconnector/shared/blob/s3blob"
	"mailconnector/shared/fetch"
	"mailconnector/shared/handler"
	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/imapbox"
	"mailconnector/shared/mailgen"
	"mailconnector/shared/preprocess"
	"mailconnector/shared/queue/memqueue"
	"mailconnector/shared/queue/sqsqueue"
	"mailconnector/shared/rules"
	"mailconnector/shared/secrets"
	"mailconnector/shared/store/dynamostore"
	"mailconnector/shared/testkit/awstest"
	"mailconnector/shared/testkit/dovecottest"
	"mailconnector/shared/testkit/localtest"
)

var (
	moto    *awstest.Moto
	dovecot *dovecottest.Server
)

func TestMain(m *testing.M) {
	var err error
	if moto, err = awstest.StartProcess(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if dovecot, err = dovecottest.StartProcess(nil); err != nil {
		moto.Stop()
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	dovecot.Stop()
	moto.Stop()
	os.Exit(code)
}

var envN atomic.Int64

// stack is one deployment: its own table, bucket, queues and mailbox user.
type stack struct {
	t                       *testing.T
	user                    string
	jobs                    *job.File
	store                   *dynamostore.Store
	blobs                   *s3blob.Store
	sqs                     *sqs.Client
	prepURL, rulesURL       string
	prepDLQURL, rulesDLQURL string
	log                     *slog.Logger
	fetch                   *handler.Fetch
	invocations             sync.WaitGroup
	follow                  atomic.Int64
	prep, rulesH            *handler.Queue
	dead                    *handler.DeadLetter
	crash                   func(fetch.Step, []string) error
	maxReceives             int
	stopPollers             func()
	fetchRunner             handler.Runner
	processingErrs          atomic.Int64
}

func newStack(t *testing.T, edit func(*job.Job), crash func(fetch.Step, []string) error) *stack {
	t.Helper()
	ctx := context.Background()
	n := envN.Add(1)
	s := &stack{t: t, crash: crash, maxReceives: 3, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	s.user = fmt.Sprintf("aws%d-%d", os.Getpid(), n)
	if err := dovecot.AddUser(s.user, "pw"); err != nil {
		t.Fatal(err)
	}
	j := job.Job{ID: "support", Server: job.Server{Protocol: job.IMAP, Host: dovecot.Host, Port: dovecot.Port(dovecottest.IMAP),
		Security: job.SecurityNone, Auth: job.Auth{Secret: s.user}}, Limits: job.Limits{BatchSize: 50}}
	if edit != nil {
		edit(&j)
	}
	s.jobs = &job.File{Jobs: []job.Job{j}}
	if err := s.jobs.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg := moto.Config()
	table := fmt.Sprintf("mc-%d", n)
	ddb := dynamodb.NewFromConfig(cfg)
	if err := dynamostore.CreateTable(ctx, ddb, table); err != nil {
		t.Fatal(err)
	}
	s.store = dynamostore.New(ddb, table, nil)
	s3c, bucket := moto.Bucket(t, "mail")
	s.blobs = s3blob.New(s3c, bucket, "", nil)
	s.sqs = sqs.NewFromConfig(cfg)
	s.prepURL, s.prepDLQURL = s.queue(fmt.Sprintf("prep-%d", n))
	s.rulesURL, s.rulesDLQURL = s.queue(fmt.Sprintf("rules-%d", n))

	svc := fetch.New(fetch.Options{Store: s.store, Blobs: s.blobs, Queue: sqsqueue.New(s.sqs, s.prepURL),
		Opener: fetch.OpenerFunc(s.open), Logger: s.log, Crash: s.crash})
	s.fetchRunner = svc
	s.fetch = &handler.Fetch{Jobs: s.jobs, Runner: svc, Invoker: s, Logger: s.log}
	s.prep = &handler.Queue{Name: "preprocess", Ledger: s.store, Logger: s.log,
		Stage: preprocess.NewStage(preprocess.StageOptions{Store: s.store, Blobs: s.blobs, Jobs: s.jobs, Next: sqsqueue.New(s.sqs, s.rulesURL), Logger: s.log})}
	s.rulesH = &handler.Queue{Name: "rules", Ledger: s.store, Logger: s.log,
		Stage: rules.NewStage(rules.StageOptions{Store: s.store, Blobs: s.blobs, Jobs: s.jobs, Logger: s.log})}
	s.dead = &handler.DeadLetter{Ledger: s.store, Logger: s.log}
	return s
}

func (s *stack) queue(name string) (url, dlqURL string) {
	q, dlq := moto.RedrivenQueue(s.t, name, s.maxReceives, map[string]string{"VisibilityTimeout": "1"})
	return q.URL, dlq.URL
}

func (s *stack) open(ctx context.Context, j *job.Job) (mailbox.Session, error) {
	return imapbox.Open(ctx, imapbox.Config{Server: j.Server, Credentials: secrets.Credentials{Username: s.user, Password: "pw"}})
}

// InvokeAsync plays Lambda's asynchronous invocation of the fetch function.
func (s *stack) InvokeAsync(_ context.Context, payload []byte) error {
	var p handler.SchedulerPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return err
	}
	s.follow.Add(1)
	s.invocations.Add(1)
	go func() {
		defer s.invocations.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if _, err := s.fetch.Handle(ctx, p); err != nil && !errors.Is(err, fetch.ErrCrash) {
			s.t.Errorf("follow-up invocation: %v", err)
		}
	}()
	return nil
}

// startPollers plays the SQS event source mappings.
func (s *stack) startPollers() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	poll := func(url string, h func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				out, err := s.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
					WaitTimeSeconds: 1, MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
				if err != nil || len(out.Messages) == 0 {
					continue
				}
				ev := events.SQSEvent{}
				for _, m := range out.Messages {
					attrs := map[string]string{}
					for k, v := range m.Attributes {
						attrs[k] = v
					}
					ev.Records = append(ev.Records, events.SQSMessage{MessageId: *m.MessageId, ReceiptHandle: *m.ReceiptHandle,
						Body: *m.Body, Attributes: attrs, EventSource: "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:" + url[strings.LastIndex(url, "/")+1:]})
				}
				resp, err := h(context.Background(), ev)
				failed := map[string]bool{}
				for _, f := range resp.BatchItemFailures {
					failed[f.ItemIdentifier] = true
				}
				for _, m := range out.Messages {
					if err == nil && !failed[*m.MessageId] {
						s.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle})
					} else {
						s.processingErrs.Add(1)
					}
				}
			}
		}()
	}
	poll(s.prepURL, s.prep.Handle)
	poll(s.rulesURL, s.rulesH.Handle)
	poll(s.prepDLQURL, s.dead.Handle)
	poll(s.rulesDLQURL, s.dead.Handle)
	s.stopPollers = func() { cancel(); wg.Wait() }
	s.t.Cleanup(s.stopPollers)
}

func (s *stack) queueDepth(url string) int {
	out, err := s.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		s.t.Fatal(err)
	}
	a, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	b, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	return a + b
}

// drain waits until every queue is empty.
func (s *stack) drain() {
	s.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	quiet := 0
	for quiet < 2 {
		if time.Now().After(deadline) {
			s.t.Fatalf("queues did not drain: preprocess %d, rules %d", s.queueDepth(s.prepURL), s.queueDepth(s.rulesURL))
		}
		if s.queueDepth(s.prepURL)+s.queueDepth(s.rulesURL)+s.queueDepth(s.prepDLQURL)+s.queueDepth(s.rulesDLQURL) == 0 {
			quiet++
		} else {
			quiet = 0
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func (s *stack) invoke(p handler.SchedulerPayload) (handler.FetchResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	return s.fetch.Handle(ctx, p)
}

func (s *stack) deliver(n int, seed int64) []string {
	s.t.Helper()
	var raws [][]byte
	var ids []string
	err := mailgen.Generate(n, &mailgen.Options{Seed: seed, MinAttachment: 1 << 10, MaxAttachment: 8 << 10}, func(_ int, m mailgen.Message) error {
		raws, ids = append(raws, m.Raw), append(ids, m.MessageID)
		return nil
	})
	if err != nil {
		s.t.Fatal(err)
	}
	if err := dovecot.DeliverMany(s.user, "INBOX", raws); err != nil {
		s.t.Fatal(err)
	}
	return ids
}

func (s *stack) assertExactlyOnce(ids []string) {
	s.t.Helper()
	ctx := context.Background()
	reqs, err := s.store.ListRequests(ctx, "", 0)
	if err != nil {
		s.t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range reqs {
		convs, err := s.store.Conversations(ctx, r.ID)
		if err != nil {
			s.t.Fatal(err)
		}
		for _, c := range convs {
			seen[c.MessageID]++
		}
	}
	for _, id := range ids {
		if seen[id] != 1 {
			s.t.Errorf("message %s: got %d conversations, want 1", id, seen[id])
		}
	}
	if len(seen) != len(ids) {
		s.t.Errorf("got conversations for %d messages, want %d", len(seen), len(ids))
	}
	msgs, err := dovecot.Messages(s.user)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, m := range msgs {
		if !m.Seen {
			s.t.Errorf("message %s is not marked read", m.MessageID)
		}
	}
}

func TestFunctionsChainedThroughSQS(t *testing.T) {
	s := newStack(t, nil, nil)
	ids := s.deliver(40, 1)
	s.startPollers()
	res, err := s.invoke(handler.SchedulerPayload{JobID: "support"})
	if err != nil || res.Run.Fetched != 40 {
		t.Fatalf("got %+v, %v; want 40 fetched", res.Run, err)
	}
	s.drain()
	// The next scheduled run tells the mailbox what became of each message.
	if _, err := s.invoke(handler.SchedulerPayload{JobID: "support"}); err != nil {
		t.Fatal(err)
	}
	s.assertExactlyOnce(ids)
}

func TestFunctionsCrashAtEveryStep(t *testing.T) {
	for _, step := range []fetch.Step{fetch.AfterBlob, fetch.AfterLedger, fetch.AfterEnqueue, fetch.AfterCursor, fetch.BeforeDispose, fetch.AfterDispose} {
		t.Run(string(step), func(t *testing.T) {
			var fired atomic.Bool
			var hits atomic.Int64
			crash := func(st fetch.Step, keys []string) error {
				if st != step || fired.Load() || (len(keys) == 0 && st != fetch.AfterCursor) {
					return nil
				}
				if hits.Add(1) == 2 {
					fired.Store(true)
					return fetch.ErrCrash
				}
				return nil
			}
			s := newStack(t, func(j *job.Job) { j.Limits.BatchSize = 10 }, crash)
			ids := s.deliver(35, int64(len(step)))
			s.startPollers()
			for i := 0; i < 4 && !fired.Load(); i++ {
				if _, err := s.invoke(handler.SchedulerPayload{JobID: "support"}); err != nil && !errors.Is(err, fetch.ErrCrash) {
					t.Fatal(err)
				}
				s.drain()
			}
			if !fired.Load() {
				t.Fatalf("the crash at %s never fired", step)
			}
			// The crashed invocation's lease runs out; then the schedule
			// fires again.
			runs, _ := s.store.Runs(context.Background(), "support", 1)
			if len(runs) > 0 {
				_ = s.store.ReleaseLease(context.Background(), "support", runs[0].ID)
			}
			for i := 0; i < 3; i++ {
				if _, err := s.invoke(handler.SchedulerPayload{JobID: "support"}); err != nil {
					t.Fatal(err)
				}
				s.drain()
			}
			s.assertExactlyOnce(ids)
		})
	}
}

func TestFunctionsInvokedTwiceAtOnce(t *testing.T) {
	s := newStack(t, nil, nil)
	ids := s.deliver(60, 9)
	s.startPollers()
	var wg sync.WaitGroup
	results := make([]handler.FetchResult, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			results[i], err = s.invoke(handler.SchedulerPayload{JobID: "support"})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	s.drain()
	if _, err := s.invoke(handler.SchedulerPayload{JobID: "support"}); err != nil {
		t.Fatal(err)
	}
	s.assertExactlyOnce(ids)
}

// deliverBacklog puts n small messages in the user's inbox: the subject
// here is the number of messages, not their bytes.
func deliverBacklog(t *testing.T, user string, n int) {
	t.Helper()
	raws := make([][]byte, 0, 1000)
	for i := 0; i < n; i++ {
		raws = append(raws, []byte(fmt.Sprintf("Message-ID: <b%d@example.com>\r\nFrom: c%d@example.com\r\nSubject: backlog %d\r\n\r\nhello %d\r\n", i, i%50, i, i)))
		if len(raws) == cap(raws) || i == n-1 {
			if err := dovecot.DeliverMany(user, "INBOX", raws); err != nil {
				t.Fatal(err)
			}
			raws = raws[:0]
		}
	}
}

// TestFetchDrainsABacklogByInvokingItself runs the chain on the AWS
// adapters. moto copies a whole table for every transaction and scans it
// for every index query, so the backlog here is 600 messages (set
// CONNECTOR_BACKLOG_TEST_SIZE for more); the 20,000-message drain runs the
// same handler on the embedded adapters below.
func TestFetchDrainsABacklogByInvokingItself(t *testing.T) {
	n := 600
	if v := os.Getenv("CONNECTOR_BACKLOG_TEST_SIZE"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	s := newStack(t, func(j *job.Job) { j.Limits.MaxMessagesPerRun = n / 4; j.Limits.BatchSize = 500 }, nil)
	deliverBacklog(t, s.user, n)
	res, err := s.invoke(handler.SchedulerPayload{JobID: "support"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Continue || !res.Run.More {
		t.Fatalf("got %+v; want a partial run that continues", res)
	}
	s.invocations.Wait()
	if got := s.queueDepth(s.prepURL); got != n {
		t.Errorf("got %d pointers on the preprocess queue, want %d", got, n)
	}
	if got := s.follow.Load(); got < 3 {
		t.Errorf("got %d follow-up invocations, want at least 3", got)
	}
	runs, err := s.store.Runs(context.Background(), "support", 0)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, r := range runs {
		total += r.Fetched
	}
	if total != n {
		t.Errorf("got %d fetched over %d runs, want %d", total, len(runs), n)
	}
}

// chain plays Lambda's asynchronous invocation for the embedded test.
type chain struct {
	h     *handler.Fetch
	wg    sync.WaitGroup
	count atomic.Int64
	t     *testing.T
}

func (c *chain) InvokeAsync(_ context.Context, payload []byte) error {
	var p handler.SchedulerPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return err
	}
	c.count.Add(1)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if _, err := c.h.Handle(context.Background(), p); err != nil {
			c.t.Errorf("follow-up invocation: %v", err)
		}
	}()
	return nil
}

func TestFetchDrains20000MessagesWithoutHelp(t *testing.T) {
	const n = 20000
	user := fmt.Sprintf("backlog%d", os.Getpid())
	if err := dovecot.AddUser(user, "pw"); err != nil {
		t.Fatal(err)
	}
	deliverBacklog(t, user, n)
	jobs := &job.File{Jobs: []job.Job{{ID: "support", Server: job.Server{Protocol: job.IMAP, Host: dovecot.Host,
		Port: dovecot.Port(dovecottest.IMAP), Security: job.SecurityNone, Auth: job.Auth{Secret: user}},
		Limits: job.Limits{MaxMessagesPerRun: 4000, BatchSize: 500}}}}
	if err := jobs.Validate(); err != nil {
		t.Fatal(err)
	}
	st := localtest.Store(t, t.TempDir())
	blobs := localtest.Blobs(t, t.TempDir())
	q := memqueue.New(nil)
	svc := fetch.New(fetch.Options{Store: st, Blobs: blobs, Queue: q, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Opener: fetch.OpenerFunc(func(ctx context.Context, j *job.Job) (mailbox.Session, error) {
			return imapbox.Open(ctx, imapbox.Config{Server: j.Server, Credentials: secrets.Credentials{Username: user, Password: "pw"}})
		})})
	c := &chain{t: t}
	c.h = &handler.Fetch{Jobs: jobs, Runner: svc, Invoker: c}
	res, err := c.h.Handle(context.Background(), handler.SchedulerPayload{JobID: "support"})
	if err != nil || !res.Continue {
		t.Fatalf("got %+v, %v; want a partial run that continues", res, err)
	}
	c.wg.Wait()
	if got := q.Len(); got != n {
		t.Errorf("got %d pointers queued, want %d", got, n)
	}
	if got := c.count.Load(); got != n/4000-1 {
		t.Errorf("got %d follow-up invocations, want %d", got, n/4000-1)
	}
	runs, _ := st.Runs(context.Background(), "support", 0)
	total := 0
	for _, r := range runs {
		total += r.Fetched
	}
	if total != n {
		t.Errorf("got %d fetched over %d runs, want %d", total, len(runs), n)
	}
}
