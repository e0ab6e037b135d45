package consume_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"mailconnector/shared/consume"
	"mailconnector/shared/handler"
	"mailconnector/shared/ledger"
	"mailconnector/shared/permanent"
	"mailconnector/shared/pipeline"
	"mailconnector/shared/queue"
	"mailconnector/shared/queue/memqueue"
	"mailconnector/shared/store"
	"mailconnector/shared/store/boltstore"
	"mailconnector/shared/testkit/localtest"
)

const maxReceives = 3

// scriptedStage behaves by the last element of the ledger key: "ok"
// records the outcome, "perm" fails for good, "flaky" fails every time,
// "slow" takes its time, and an unknown key is refused as the real
// stages refuse it.
type scriptedStage struct {
	st    store.Ledger
	delay time.Duration
	mu    sync.Mutex
	calls int
}

func (s *scriptedStage) Handle(ctx context.Context, p ledger.Pointer) error {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	e, err := s.st.Entry(ctx, p.JobID, p.Key)
	if errors.Is(err, store.ErrNotFound) {
		return &permanent.Error{Err: fmt.Errorf("job %s: message %s: not in the ledger", p.JobID, p.Key)}
	}
	if err != nil {
		return err
	}
	switch p.Key[strings.LastIndex(p.Key, "/")+1:] {
	case "perm":
		return &permanent.Error{Err: errors.New("the job is gone")}
	case "flaky":
		return errors.New("blob store unreachable")
	case "slow":
		time.Sleep(s.delay)
	}
	e.State, e.Reason = ledger.Processed, "created request 1"
	_, err = s.st.Update(ctx, e)
	return err
}

func (s *scriptedStage) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// newStore returns a ledger holding the given keys, each in state.
func newStore(tb testing.TB, state ledger.State, keys ...string) *boltstore.Store {
	tb.Helper()
	st := localtest.Store(tb, tb.TempDir())
	now := time.Now()
	var entries []ledger.Entry
	for _, k := range keys {
		entries = append(entries, ledger.Entry{JobID: "support", Key: k, State: state, FetchedAt: now, UpdatedAt: now})
	}
	if len(entries) > 0 {
		if _, err := st.Record(context.Background(), entries); err != nil {
			tb.Fatal(err)
		}
	}
	return st
}

// outcome is what became of one delivery.
type outcome struct {
	Calls    int    // times the stage ran
	State    string // of the ledger entry; "" when it has none
	Reason   string
	Attempts int
}

func read(tb testing.TB, st store.Ledger, key string, calls int) outcome {
	tb.Helper()
	o := outcome{Calls: calls}
	e, err := st.Entry(context.Background(), "support", key)
	if errors.Is(err, store.ErrNotFound) {
		return o
	}
	if err != nil {
		tb.Fatal(err)
	}
	o.State, o.Reason, o.Attempts = string(e.State), e.Reason, e.Attempts
	return o
}

// viaLambda feeds body to the SQS handlers as the event source mappings
// do: again with a higher receive count while the record is reported
// failed, then, past the receive limit, to the dead-letter handler.
func viaLambda(tb testing.TB, st store.Ledger, stage consume.Stage, body string) {
	tb.Helper()
	ctx := context.Background()
	h := &handler.Queue{Name: "preprocess", Stage: stage, Ledger: st}
	for n := 1; ; n++ {
		rec := events.SQSMessage{MessageId: "m-1", ReceiptHandle: fmt.Sprintf("r-%d", n), Body: body,
			Attributes:     map[string]string{"ApproximateReceiveCount": fmt.Sprint(n)},
			EventSourceARN: "arn:aws:sqs:eu-central-1:123456789012:mail-connector-preprocess"}
		resp, err := h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{rec}})
		if err != nil {
			tb.Fatal(err)
		}
		if len(resp.BatchItemFailures) == 0 {
			return
		}
		if n == maxReceives {
			break
		}
	}
	dead := &handler.DeadLetter{Name: "preprocess", Ledger: st}
	rec := events.SQSMessage{MessageId: "m-1", Body: body, Attributes: map[string]string{"ApproximateReceiveCount": "1"}}
	if resp, err := dead.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{rec}}); err != nil || len(resp.BatchItemFailures) != 0 {
		tb.Fatalf("dead letter: got %+v, %v; want it taken", resp, err)
	}
}

// viaLocal runs body through the local runner's in-process queues.
func viaLocal(tb testing.TB, st store.Store, stage consume.Stage, body string, visibility time.Duration) {
	tb.Helper()
	prepDLQ, rulesDLQ := memqueue.New(nil), memqueue.New(nil)
	prepQ := memqueue.New(&memqueue.Options{MaxReceives: maxReceives, DeadLetter: prepDLQ})
	rulesQ := memqueue.New(&memqueue.Options{MaxReceives: maxReceives, DeadLetter: rulesDLQ})
	l := pipeline.New(pipeline.Options{Store: st, Preprocess: stage, Rules: stage,
		PreprocessQueue: prepQ, RulesQueue: rulesQ, PreprocessDLQ: prepDLQ, RulesDLQ: rulesDLQ,
		Workers: 2, Visibility: visibility})
	ctx, cancel := context.WithCancel(context.Background())
	wait := l.Start(ctx)
	defer func() { cancel(); wait() }()
	if err := prepQ.Send(ctx, []queue.Message{{Body: []byte(body)}}); err != nil {
		tb.Fatal(err)
	}
	dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
	defer dcancel()
	if err := l.Drain(dctx); err != nil {
		tb.Fatalf("drain: %v", err)
	}
}

func pointer(key string) string { return fmt.Sprintf(`{"jobId":"support","key":%q}`, key) }

// TestBothRuntimesAgree feeds the same deliveries to the Lambda handlers
// and to the local runner: each must give the outcome the table wants, so
// neither can change alone.
func TestBothRuntimesAgree(t *testing.T) {
	tests := []struct {
		name  string
		key   string       // in the ledger, unless unknown
		state ledger.State // of the entry before the delivery
		body  string       // default: a pointer to key
		want  outcome
	}{
		{name: "valid", key: "imap/INBOX/7/ok", state: ledger.Queued,
			want: outcome{Calls: 1, State: "processed", Reason: "created request 1"}},
		{name: "malformed JSON", key: "imap/INBOX/7/ok", state: ledger.Queued, body: "this is not a pointer",
			want: outcome{Calls: 0, State: "queued"}},
		{name: "pointer without a key", key: "imap/INBOX/7/ok", state: ledger.Queued, body: `{"jobId":"support"}`,
			want: outcome{Calls: 0, State: "queued"}},
		{name: "unknown key", key: "", body: pointer("imap/INBOX/7/gone"),
			want: outcome{Calls: 1}},
		{name: "permanent error", key: "imap/INBOX/7/perm", state: ledger.Queued,
			want: outcome{Calls: 1, State: "failed", Reason: "preprocess: the job is gone"}},
		{name: "retryable until the receive limit", key: "imap/INBOX/7/flaky", state: ledger.Queued,
			want: outcome{Calls: maxReceives, State: "failed", Attempts: maxReceives,
				Reason: "preprocess gave up after repeated failures (last: preprocess attempt 3: blob store unreachable)"}},
		{name: "outcome already recorded", key: "imap/INBOX/7/ok", state: ledger.Rejected,
			want: outcome{Calls: 0, State: "rejected"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			if body == "" {
				body = pointer(tt.key)
			}
			look := tt.key
			if look == "" {
				look = "imap/INBOX/7/gone"
			}
			var keys []string
			if tt.key != "" {
				keys = []string{tt.key}
			}
			runtimes := []struct {
				name string
				run  func(st *boltstore.Store, stage *scriptedStage)
			}{
				{"lambda", func(st *boltstore.Store, stage *scriptedStage) { viaLambda(t, st, stage, body) }},
				{"local", func(st *boltstore.Store, stage *scriptedStage) { viaLocal(t, st, stage, body, 50*time.Millisecond) }},
			}
			got := map[string]outcome{}
			for _, rt := range runtimes {
				st := newStore(t, tt.state, keys...)
				stage := &scriptedStage{st: st}
				rt.run(st, stage)
				got[rt.name] = read(t, st, look, stage.Calls())
				if diff := cmp.Diff(tt.want, got[rt.name]); diff != "" {
					t.Errorf("%s: outcome (-want +got):\n%s", rt.name, diff)
				}
			}
			if diff := cmp.Diff(got["lambda"], got["local"]); diff != "" {
				t.Errorf("lambda and local differ (-lambda +local):\n%s", diff)
			}
		})
	}
}

// TestSlowStageKeepsItsDelivery: a stage working for several visibility
// timeouts keeps its delivery hidden, so no second worker gets it.
func TestSlowStageKeepsItsDelivery(t *testing.T) {
	const visibility = 100 * time.Millisecond
	tests := []struct {
		name string
		run  func(t *testing.T, st *boltstore.Store, stage *scriptedStage)
	}{
		{name: "local runner", run: func(t *testing.T, st *boltstore.Store, stage *scriptedStage) {
			viaLocal(t, st, stage, pointer("imap/INBOX/7/slow"), visibility)
		}},
		{name: "consumer on a queue", run: func(t *testing.T, st *boltstore.Store, stage *scriptedStage) {
			q := memqueue.New(nil)
			ctx := context.Background()
			if err := q.Send(ctx, []queue.Message{{Body: []byte(pointer("imap/INBOX/7/slow"))}}); err != nil {
				t.Fatal(err)
			}
			ds, err := q.Receive(ctx, 1, time.Second, visibility)
			if err != nil || len(ds) != 1 {
				t.Fatalf("receive: got %d, %v; want 1", len(ds), err)
			}
			// A second worker polls all the while the first one works.
			stolen := make(chan int, 1)
			go func() {
				d, _ := q.Receive(ctx, 1, 6*visibility, time.Minute)
				stolen <- len(d)
			}()
			c := consume.New(consume.Options{Name: "preprocess", Stage: stage, Ledger: st, Visibility: visibility})
			d := consume.Delivery{ID: ds[0].ID, Body: ds[0].Body, ReceiveCount: 1, Receipt: ds[0].Receipt, Queue: q}
			if v := c.Consume(ctx, d); v != consume.Delete {
				t.Fatalf("got verdict %v, want delete", v)
			}
			if err := q.Delete(ctx, ds[0].Receipt); err != nil {
				t.Fatal(err)
			}
			if n := <-stolen; n != 0 {
				t.Errorf("got %d deliveries to a second worker, want 0", n)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStore(t, ledger.Queued, "imap/INBOX/7/slow")
			stage := &scriptedStage{st: st, delay: 5 * visibility}
			tt.run(t, st, stage)
			if got := read(t, st, "imap/INBOX/7/slow", stage.Calls()); got.Calls != 1 || got.State != "processed" {
				t.Errorf("got %d stage runs ending %q, want 1 ending processed", got.Calls, got.State)
			}
		})
	}
}
