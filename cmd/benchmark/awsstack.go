package main

// One deployment of the connector on moto, with the handlers built as
// functions/fetch, functions/preprocess and functions/rules build them
// (awsenv, the same adapters and options), a Dovecot mailbox, and the
// Lambda service's part played here: the event source mappings (receive
// up to 10, hand the batch to the handler, delete what it did not report
// as failed) and the asynchronous invocations of follow-up runs.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"mailconnector/shared/awsenv"
	"mailconnector/shared/awsenv/awsfetch"
	"mailconnector/shared/awsenv/awsstage"
	"mailconnector/shared/awsenv/envnames"
	"mailconnector/shared/handler"
	"mailconnector/shared/job"
	"mailconnector/shared/redact"
	"mailconnector/shared/store/dynamostore"
	"mailconnector/shared/testkit/awstest"
	"mailconnector/shared/testkit/dovecottest"
)

// The functions measured, with the memory infra/stack.go gives them
// (functionSpecs) and the timeout that bounds one invocation.
var measuredFunctions = []struct {
	name     string
	memoryMB float64
	timeout  time.Duration
}{
	{envnames.Fetch, 512, 15 * time.Minute},
	{envnames.Preprocess, 1024, 5 * time.Minute},
	{envnames.Rules, 256, time.Minute},
}

// clock is the functions' clock: the real one, or during the idle runs
// one that moves by the poll interval per run, so an hour of polling
// (the secret cache's five minutes, the job state's hourly refresh) takes
// seconds.
type clock struct {
	mu  sync.Mutex
	sim time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sim.IsZero() {
		return time.Now()
	}
	return c.sim
}

func (c *clock) simulated() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.sim.IsZero()
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sim.IsZero() {
		c.sim = time.Now()
	}
	c.sim = c.sim.Add(d)
}

// byteCounter counts what a function writes to its log group (its JSON
// log lines and metric lines), and the names of the metrics in it
// (embedded metric format: each becomes a custom metric per job).
type byteCounter struct {
	mu      sync.Mutex
	n       int64
	metrics map[string]bool
	errs    []string // the last warnings and errors, to explain a failure
}

func (b *byteCounter) Write(p []byte) (int, error) {
	var emf struct {
		AWS struct {
			CloudWatchMetrics []struct {
				Metrics []struct{ Name string }
			}
		} `json:"_aws"`
	}
	if strings.Contains(string(p), `"CloudWatchMetrics"`) {
		_ = json.Unmarshal(p, &emf)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n += int64(len(p))
	if strings.Contains(string(p), `"level":"ERROR"`) || strings.Contains(string(p), `"level":"WARN"`) {
		b.errs = append(b.errs, strings.TrimSpace(string(p)))
		if len(b.errs) > 5 {
			b.errs = b.errs[1:]
		}
	}
	for _, d := range emf.AWS.CloudWatchMetrics {
		for _, m := range d.Metrics {
			if b.metrics == nil {
				b.metrics = map[string]bool{}
			}
			b.metrics[m.Name] = true
		}
	}
	return len(p), nil
}

// take returns the bytes and metric names written since the last take.
func (b *byteCounter) take() (int64, map[string]bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, names := b.n, b.metrics
	b.n, b.metrics = 0, nil
	return n, names
}

// tally is what one phase cost.
type tally struct {
	calls       map[awstest.Call]int
	meter       meterCounts
	rru, wru    float64 // DynamoDB request units (capacity pass only)
	indexWRU    float64
	wruByKind   map[string]float64
	invocations map[string]int
	wall        map[string]time.Duration
	logBytes    map[string]int64
	metrics     map[string]bool // metric names emitted (per job)
	// What the phase left stored (messages phase only): S3 bytes by
	// top-level prefix, DynamoDB bytes by item kind as billed (each item
	// and each of its index entries, plus 100 bytes apiece).
	s3Bytes, dynamoBytes map[string]int64
}

type awsStack struct {
	moto    *awstest.Moto
	dovecot *dovecottest.Server
	user    string
	clock   *clock
	counter *awstest.Counter
	meter   *meter
	capa    *capacity // nil: the timed pass
	logs    map[string]*byteCounter

	fetch       *handler.Fetch
	prep, rules *handler.Queue
	esm         *sqs.Client // the event source mappings' client (counted: SQS bills them)
	plain       *sqs.Client // uncounted: queue depth
	queues      map[string]awstest.Queue
	bucket      string
	table       string

	quiet bool // runs may end at once (a quiet mailbox not due)

	mu          sync.Mutex
	follow      []handler.SchedulerPayload
	invocations map[string]int
	wall        map[string]time.Duration
	failures    int
}

// newAWSStack creates the stack's resources on m (table, bucket, queues,
// topic, KMS key, the job's secret) under names with prefix, and builds
// the handlers. With withCapacity, DynamoDB request units are reckoned.
func newAWSStack(ctx context.Context, m *awstest.Moto, dc *dovecottest.Server, work, prefix string, withCapacity bool) (*awsStack, error) {
	s := &awsStack{moto: m, dovecot: dc, user: prefix, clock: &clock{}, counter: awstest.NewCounter(), meter: &meter{},
		logs: map[string]*byteCounter{}, queues: map[string]awstest.Queue{}, invocations: map[string]int{}, wall: map[string]time.Duration{}}
	if err := dc.AddUser(s.user, password); err != nil {
		return nil, err
	}
	plain := m.Config()
	s.plain = sqs.NewFromConfig(plain)
	table := prefix + "-table"
	s.table, s.bucket = table, prefix+"-mail"
	if err := dynamostore.CreateTable(ctx, dynamodb.NewFromConfig(plain), table); err != nil {
		return nil, err
	}
	bucket := s.bucket
	if _, err := m.S3().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return nil, fmt.Errorf("create bucket: %w", err)
	}
	// Visibility timeouts as the stack sets them: 6 × the consumer's timeout.
	for _, q := range []struct {
		name       string
		visibility time.Duration
	}{{"preprocess", 6 * 5 * time.Minute}, {"rules", 6 * time.Minute}} {
		out, err := s.plain.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(prefix + "-" + q.name),
			Attributes: map[string]string{"VisibilityTimeout": strconv.Itoa(int(q.visibility.Seconds()))}})
		if err != nil {
			return nil, fmt.Errorf("create queue %s: %w", q.name, err)
		}
		attrs, err := s.plain.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl,
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
		if err != nil {
			return nil, fmt.Errorf("queue %s ARN: %w", q.name, err)
		}
		s.queues[q.name] = awstest.Queue{URL: *out.QueueUrl, ARN: attrs.Attributes["QueueArn"]}
	}
	topic, err := sns.NewFromConfig(plain).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(prefix + "-alerts")})
	if err != nil {
		return nil, fmt.Errorf("create topic: %w", err)
	}
	key, err := kms.NewFromConfig(plain).CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		return nil, fmt.Errorf("create key: %w", err)
	}
	secret := prefix + "-mailbox"
	creds, _ := json.Marshal(map[string]string{"username": s.user, "password": password})
	if _, err := secretsmanager.NewFromConfig(plain).CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(secret),
		SecretString: aws.String(string(creds))}); err != nil {
		return nil, fmt.Errorf("create secret: %w", err)
	}
	// The jobs file as CDK puts it beside the functions (JSON), with the
	// defaults for everything the bench does not need to set.
	jobsFile := filepath.Join(work, prefix+"-jobs.json")
	jobsJSON := fmt.Sprintf(`{"jobs": [{"id": "support", "server": {"protocol": "imap", "host": %q, "port": %d, "security": "none",
  "auth": {"method": "password", "secret": %q}}}]}`, dc.Host, dc.Port(dovecottest.IMAP), secret)
	if err := os.WriteFile(jobsFile, []byte(jobsJSON), 0o600); err != nil {
		return nil, err
	}
	vars := map[string]string{
		envnames.Table: table, envnames.Bucket: bucket, envnames.JobsFile: jobsFile,
		envnames.PreprocessQueueURL: s.queues["preprocess"].URL, envnames.RulesQueueURL: s.queues["rules"].URL,
		envnames.EventBus: "default", envnames.AlertTopicARN: *topic.TopicArn, envnames.ErrorKey: *key.KeyMetadata.KeyId,
		envnames.FunctionName: prefix + "-fetch", envnames.LedgerTTLDays: "90", envnames.RunTTLDays: "30",
		envnames.Endpoint: m.URL,
	}
	if withCapacity {
		s.capa = &capacity{shadow: dynamodb.NewFromConfig(plain), table: table}
	}
	cfg := m.Config()
	s.counter.Attach(&cfg)
	s.meter.attach(&cfg)
	if s.capa != nil {
		s.capa.attach(&cfg)
	}
	s.esm = sqs.NewFromConfig(cfg)
	env := func(function string) (*awsenv.Env, error) {
		c, err := awsenv.Load(function, func(k string) string { return vars[k] })
		if err != nil {
			return nil, fmt.Errorf("%s: %w", function, err)
		}
		w := &byteCounter{}
		s.logs[function] = w
		// awsenv.Logger and the metrics, writing where the bench counts them.
		logger := slog.New(redact.Handler(slog.NewJSONHandler(w, nil)))
		return &awsenv.Env{Config: c, AWSConfig: cfg, Logger: logger, Store: c.Store(cfg), Metrics: w}, nil
	}
	// The handlers are built as functions/* build them.
	e, err := env(envnames.Fetch)
	if err != nil {
		return nil, err
	}
	if s.fetch, err = awsfetch.New(e, awsfetch.Options{Now: s.clock.Now, Invoker: s}); err != nil {
		return nil, err
	}
	if e, err = env(envnames.Preprocess); err != nil {
		return nil, err
	}
	if s.prep, err = awsstage.Preprocess(e); err != nil {
		return nil, err
	}
	if e, err = env(envnames.Rules); err != nil {
		return nil, err
	}
	if s.rules, err = awsstage.Rules(e); err != nil {
		return nil, err
	}
	return s, nil
}

// InvokeAsync plays Lambda's asynchronous invocation of the fetch
// function (a follow-up run): it is run after the current one.
func (s *awsStack) InvokeAsync(_ context.Context, payload []byte) error {
	var p handler.SchedulerPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return err
	}
	s.mu.Lock()
	s.follow = append(s.follow, p)
	s.mu.Unlock()
	return nil
}

// timed runs one invocation of function and adds its wall time.
func (s *awsStack) timed(function string, fn func(ctx context.Context) error) error {
	timeout := time.Minute
	for _, f := range measuredFunctions {
		if f.name == function {
			timeout = f.timeout
		}
	}
	// The invocation's deadline, as Lambda sets it; on the idle runs'
	// clock, which runs ahead, none (the run's own MaxRunTime bounds it,
	// shorter than the function's timeout).
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	if s.clock.simulated() {
		ctx, cancel = context.WithCancel(context.Background())
	}
	defer cancel()
	start := time.Now()
	err := fn(ctx)
	d := time.Since(start)
	s.mu.Lock()
	s.invocations[function]++
	s.wall[function] += d
	s.mu.Unlock()
	return err
}

// runFetch invokes the fetch function as a schedule does, then each
// follow-up it asks for, until the job's mail is taken.
func (s *awsStack) runFetch() (skipped bool, err error) {
	next := []handler.SchedulerPayload{{JobID: "support"}}
	for first := true; len(next) > 0; first = false {
		p := next[0]
		next = next[1:]
		var res handler.FetchResult
		err := s.timed(envnames.Fetch, func(ctx context.Context) error {
			var err error
			res, err = s.fetch.Handle(ctx, p)
			return err
		})
		if err != nil {
			return false, fmt.Errorf("fetch run: %w", err)
		}
		if res.Skipped != "" {
			if first && s.quiet {
				return true, nil // a quiet mailbox not yet due
			}
			return false, fmt.Errorf("fetch run skipped: %s", res.Skipped)
		}
		s.mu.Lock()
		next = append(next, s.follow...)
		s.follow = nil
		s.mu.Unlock()
	}
	return false, nil
}

// drain plays the event source mapping of queue for h until the queue is
// empty: batches of up to 10 (the stack's batch size), the handled ones
// deleted in one DeleteMessageBatch. The empty receives a real mapping
// makes while it waits are not counted here (they are a cost of the
// deployment, not of a message; see the README).
func (s *awsStack) drain(queue, function string, n int, h func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)) error {
	q := s.queues[queue]
	for {
		depth, err := s.depth(q.URL)
		if err != nil {
			return err
		}
		if depth == 0 {
			return nil
		}
		out, err := s.esm.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.URL), MaxNumberOfMessages: 10,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
		if err != nil {
			return fmt.Errorf("receive from %s: %w", queue, err)
		}
		if len(out.Messages) == 0 {
			time.Sleep(100 * time.Millisecond) // in flight elsewhere: wait
			continue
		}
		ev := events.SQSEvent{}
		for _, m := range out.Messages {
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: *m.MessageId, ReceiptHandle: *m.ReceiptHandle, Body: *m.Body,
				Attributes: m.Attributes, EventSource: "aws:sqs", EventSourceARN: q.ARN})
		}
		var resp events.SQSEventResponse
		err = s.timed(function, func(ctx context.Context) error {
			var err error
			resp, err = h(ctx, ev)
			return err
		})
		if err != nil {
			return fmt.Errorf("%s batch: %w", function, err)
		}
		failed := map[string]bool{}
		for _, f := range resp.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
		var del []sqstypes.DeleteMessageBatchRequestEntry
		for i, m := range out.Messages {
			if failed[*m.MessageId] {
				continue
			}
			del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
		s.mu.Lock()
		s.failures += len(failed)
		retries := s.failures
		s.mu.Unlock()
		if retries > 10*n {
			w := s.logs[function]
			w.mu.Lock()
			last := strings.Join(w.errs, "\n")
			w.mu.Unlock()
			return fmt.Errorf("%s: %d records failed; its last warnings:\n%s", function, retries, last)
		}
		// A failed record comes back when its visibility timeout ends
		// (a reply that waits for its original does so): here at once,
		// through the uncounted client, as the timeout costs nothing.
		for _, m := range out.Messages {
			if failed[*m.MessageId] {
				if _, err := s.plain.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(q.URL),
					ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
					return fmt.Errorf("make a failed record visible again: %w", err)
				}
			}
		}
		if len(del) == 0 {
			continue
		}
		if _, err := s.esm.DeleteMessageBatch(context.Background(), &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(q.URL), Entries: del}); err != nil {
			return fmt.Errorf("delete from %s: %w", queue, err)
		}
	}
}

func (s *awsStack) depth(url string) (int, error) {
	out, err := s.plain.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		return 0, fmt.Errorf("queue depth: %w", err)
	}
	a, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	b, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	return a + b, nil
}

// reset starts a phase: nothing counted.
func (s *awsStack) reset() {
	s.counter.Reset()
	s.meter.reset()
	if s.capa != nil {
		s.capa.reset()
	}
	for _, w := range s.logs {
		w.take()
	}
	s.mu.Lock()
	s.invocations, s.wall = map[string]int{}, map[string]time.Duration{}
	s.mu.Unlock()
}

// take ends a phase: what it cost.
func (s *awsStack) take() tally {
	t := tally{calls: s.counter.Calls(), meter: s.meter.take(), logBytes: map[string]int64{}, metrics: map[string]bool{}}
	if s.capa != nil {
		t.rru, t.wru, t.indexWRU, t.wruByKind = s.capa.units()
	}
	for f, w := range s.logs {
		n, names := w.take()
		t.logBytes[f] = n
		for m := range names {
			t.metrics[m] = true
		}
	}
	s.mu.Lock()
	t.invocations, t.wall = s.invocations, s.wall
	s.mu.Unlock()
	s.reset()
	return t
}

// messagesPhase delivers n messages and takes them through the pipeline:
// the run that fetches them (and its follow-ups), every preprocess and
// rules batch, and the next scheduled run, which marks them read.
func (s *awsStack) messagesPhase(raws [][]byte) (tally, error) {
	for i := 0; i < len(raws); i += 200 {
		if err := s.dovecot.DeliverMany(s.user, "INBOX", raws[i:min(i+200, len(raws))]); err != nil {
			return tally{}, err
		}
	}
	s.reset()
	if _, err := s.runFetch(); err != nil {
		return tally{}, err
	}
	if err := s.drain("preprocess", envnames.Preprocess, len(raws), s.prep.Handle); err != nil {
		return tally{}, err
	}
	if err := s.drain("rules", envnames.Rules, len(raws), s.rules.Handle); err != nil {
		return tally{}, err
	}
	if _, err := s.runFetch(); err != nil {
		return tally{}, err
	}
	t := s.take()
	if err := s.stored(&t); err != nil {
		return t, err
	}
	msgs, err := s.dovecot.Messages(s.user)
	if err != nil {
		return t, err
	}
	unread := 0
	for _, m := range msgs {
		if !m.Seen {
			unread++
		}
	}
	if len(msgs) != len(raws) || unread > 0 {
		return t, fmt.Errorf("after the pipeline: %d messages in the mailbox, %d not marked read; want %d, all read", len(msgs), unread, len(raws))
	}
	return t, nil
}

// stored measures what the stack holds (through uncounted clients).
func (s *awsStack) stored(t *tally) error {
	ctx := context.Background()
	t.s3Bytes, t.dynamoBytes = map[string]int64{}, map[string]int64{}
	p := s3.NewListObjectsV2Paginator(s.moto.S3(), &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list bucket: %w", err)
		}
		for _, o := range page.Contents {
			prefix, _, _ := strings.Cut(aws.ToString(o.Key), "/")
			t.s3Bytes[prefix] += aws.ToInt64(o.Size)
		}
	}
	scan := dynamodb.NewScanPaginator(dynamodb.NewFromConfig(s.moto.Config()), &dynamodb.ScanInput{TableName: aws.String(s.table)})
	for scan.HasMorePages() {
		page, err := scan.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("scan table: %w", err)
		}
		for _, it := range page.Items {
			// The item and each index entry, 100 bytes of overhead each;
			// an index that projects the keys only holds those.
			copies, keys := int64(1), int64(0)
			for _, ix := range dynamostore.TableSchema.Indexes {
				switch k := indexKey(it, ix); {
				case k == "":
				case ix.Projection == dynamostore.ProjectionKeysOnly:
					keys += int64(len(k)) + itemSize(keyOf(it)) + 100
				default:
					copies++
				}
			}
			t.dynamoBytes[kind(it)] += copies*(itemSize(it)+100) + keys
		}
	}
	return nil
}

// idlePhase runs the fetch function runs times, every interval on the
// functions' clock, on a mailbox with nothing new. It returns the wall
// times of the runs that polled and of those that ended at once.
func (s *awsStack) idlePhase(runs int, interval time.Duration) (t tally, polls, skips []time.Duration, err error) {
	s.reset()
	for i := 0; i < runs; i++ {
		s.clock.advance(interval)
		start := time.Now()
		skipped, err := s.runFetch()
		if err != nil {
			return tally{}, nil, nil, err
		}
		if skipped {
			skips = append(skips, time.Since(start))
		} else {
			polls = append(polls, time.Since(start))
		}
	}
	return s.take(), polls, skips, nil
}

// quietPhase is idlePhase at 1-minute polling with the job's
// schedule.idleEvery set to every (idleAfter: after): the first hours of
// the quiet spell are run and dropped, then runs are measured.
func (s *awsStack) quietPhase(every, after time.Duration, runs int) (tally, []time.Duration, []time.Duration, error) {
	j, _ := s.fetch.Jobs.Job("support")
	j.Schedule.IdleEvery, j.Schedule.IdleAfter = job.Duration(every), job.Duration(after)
	s.quiet = true
	if _, _, _, err := s.idlePhase(int((after+every)/time.Minute), time.Minute); err != nil {
		return tally{}, nil, nil, err
	}
	return s.idlePhase(runs, time.Minute)
}

// median of ds (which it sorts).
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}
