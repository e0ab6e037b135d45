package handler

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"mailconnector/shared/fetch"
	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/metrics"
	"mailconnector/shared/rules"
	"mailconnector/shared/run"
	"mailconnector/shared/store/boltstore"
	"mailconnector/shared/testkit/localtest"
)

func readEvent(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
}

func TestEventFixturesDecode(t *testing.T) {
	tests := []struct {
		file    string
		records int
	}{
		{"sqs-preprocess.json", 2}, {"sqs-rules.json", 2}, {"sqs-dlq-redrive.json", 1}, {"sqs-malformed.json", 2},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var ev events.SQSEvent
			readEvent(t, tt.file, &ev)
			if got := len(ev.Records); got != tt.records {
				t.Errorf("got %d records, want %d", got, tt.records)
			}
			for _, r := range ev.Records {
				if r.EventSource != "aws:sqs" || r.MessageId == "" {
					t.Errorf("record %+v lacks its source or id", r)
				}
			}
		})
	}
	for _, f := range []string{"scheduler-payload.json", "scheduler-payload-overrides.json"} {
		var p SchedulerPayload
		readEvent(t, f, &p)
		if p.JobID != "support" {
			t.Errorf("%s: got jobId %q, want support", f, p.JobID)
		}
	}
	var p SchedulerPayload
	if err := json.Unmarshal([]byte(`{"jobId": 7}`), &p); err == nil {
		t.Error("a numeric jobId decoded without error")
	}
	var ev events.SQSEvent
	if err := json.Unmarshal([]byte(`{"Records": [{"body": `), &ev); err == nil {
		t.Error("truncated JSON decoded without error")
	}
}

type fakeStage struct {
	mu    sync.Mutex
	seen  []string
	errFn func(p ledger.Pointer) error
}

func (f *fakeStage) Handle(_ context.Context, p ledger.Pointer) error {
	f.mu.Lock()
	f.seen = append(f.seen, p.Key)
	f.mu.Unlock()
	return f.errFn(p)
}

func newLedger(t *testing.T, keys ...string) *boltstore.Store {
	t.Helper()
	st := localtest.Store(t, t.TempDir())
	now := time.Now()
	var entries []ledger.Entry
	for _, k := range keys {
		entries = append(entries, ledger.Entry{JobID: "support", Key: k, State: ledger.Queued, FetchedAt: now, UpdatedAt: now})
	}
	if _, err := st.Record(context.Background(), entries); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestQueueReportsOnlyTheFailedRecords(t *testing.T) {
	st := newLedger(t, "imap/INBOX/1700000000/41", "imap/INBOX/1700000000/42")
	stage := &fakeStage{errFn: func(p ledger.Pointer) error {
		if strings.HasSuffix(p.Key, "/42") {
			return errors.New("blob store unreachable")
		}
		return nil
	}}
	h := &Queue{Name: "preprocess", Stage: stage, Ledger: st}
	var ev events.SQSEvent
	readEvent(t, "sqs-preprocess.json", &ev)
	resp, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "7a2d3e4f-1b2c-4d6e-9f01-123456789abc" {
		t.Errorf("got failures %+v, want only the second record", resp.BatchItemFailures)
	}
	if len(stage.seen) != 2 {
		t.Errorf("got %d records handled, want 2 (one failure must not block the other)", len(stage.seen))
	}
	e, _ := st.Entry(context.Background(), "support", "imap/INBOX/1700000000/42")
	if !strings.Contains(e.Reason, "preprocess attempt 3: blob store unreachable") {
		t.Errorf("got reason %q, want the last error noted", e.Reason)
	}
}

func TestQueueDoesNotCountAWaitingReplyTwice(t *testing.T) {
	st := newLedger(t, "imap/INBOX/1700000000/41", "imap/INBOX/1700000000/42")
	// The rules stage counts a wait on the entry itself (MaxReplyAttempts
	// bounds the waits); the queue must not add a second attempt.
	stage := &fakeStage{errFn: func(p ledger.Pointer) error {
		return &rules.WaitingError{MessageID: "orig@example.com", Original: "imap/INBOX/1700000000/40"}
	}}
	h := &Queue{Name: "rules", Stage: stage, Ledger: st}
	var ev events.SQSEvent
	readEvent(t, "sqs-preprocess.json", &ev)
	resp, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 2 {
		t.Fatalf("got failures %+v, want both records back on the queue", resp.BatchItemFailures)
	}
	for _, k := range []string{"imap/INBOX/1700000000/41", "imap/INBOX/1700000000/42"} {
		if e, _ := st.Entry(context.Background(), "support", k); e.Attempts != 0 {
			t.Errorf("%s: got %d attempts counted by the queue, want 0", k, e.Attempts)
		}
	}
}

func TestQueuePermanentErrorRecordsFailureAndAcknowledges(t *testing.T) {
	st := newLedger(t, "imap/INBOX/1700000000/41", "imap/INBOX/1700000000/42")
	stage := &fakeStage{errFn: func(ledger.Pointer) error {
		return &rules.PermanentError{Err: errors.New("the job is gone")}
	}}
	h := &Queue{Name: "rules", Stage: stage, Ledger: st}
	var ev events.SQSEvent
	readEvent(t, "sqs-rules.json", &ev)
	resp, _ := h.Handle(context.Background(), ev)
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("got failures %+v, want none (retrying cannot help)", resp.BatchItemFailures)
	}
	e, _ := st.Entry(context.Background(), "support", "imap/INBOX/1700000000/41")
	if e.State != ledger.Failed || !strings.Contains(e.Reason, "the job is gone") {
		t.Errorf("got %s %q, want failed with the reason", e.State, e.Reason)
	}
}

func TestQueueMalformedRecordsGoBackToTheQueue(t *testing.T) {
	st := newLedger(t)
	h := &Queue{Name: "preprocess", Stage: &fakeStage{errFn: func(ledger.Pointer) error { return nil }}, Ledger: st}
	var ev events.SQSEvent
	readEvent(t, "sqs-malformed.json", &ev)
	resp, _ := h.Handle(context.Background(), ev)
	if len(resp.BatchItemFailures) != 2 {
		t.Errorf("got failures %+v, want both malformed records (they end in the DLQ for inspection)", resp.BatchItemFailures)
	}
}

func TestDeadLetterMarksTheLedgerFailedWithTheLastError(t *testing.T) {
	key := "imap/INBOX/1700000000/43"
	st := newLedger(t, key)
	ctx := context.Background()
	e, _ := st.Entry(ctx, "support", key)
	e.Reason = "preprocess attempt 5: out of memory"
	if _, err := st.Update(ctx, e); err != nil {
		t.Fatal(err)
	}
	h := &DeadLetter{Ledger: st}
	var ev events.SQSEvent
	readEvent(t, "sqs-dlq-redrive.json", &ev)
	malformed := events.SQSMessage{MessageId: "junk", Body: "{"}
	ev.Records = append(ev.Records, malformed)
	resp, err := h.Handle(ctx, ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("got %+v, %v; want every dead letter taken", resp, err)
	}
	e, _ = st.Entry(ctx, "support", key)
	if e.State != ledger.Failed || !strings.Contains(e.Reason, "out of memory") || !strings.Contains(e.Reason, "mail-connector-preprocess gave up") {
		t.Errorf("got %s %q, want failed naming the stage and the last error", e.State, e.Reason)
	}
	// Twice is harmless: the outcome stays.
	if _, err := h.Handle(ctx, ev); err != nil {
		t.Fatal(err)
	}
}

type fakeRunner struct {
	mu   sync.Mutex
	reqs []fetch.RunOptions
	fn   func() (run.Run, error)
}

func (f *fakeRunner) Run(_ context.Context, j *job.Job, req fetch.RunOptions) (run.Run, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	return f.fn()
}

type fakeInvoker struct{ payloads []string }

func (f *fakeInvoker) InvokeAsync(_ context.Context, p []byte) error {
	f.payloads = append(f.payloads, string(p))
	return nil
}

func testJobs(t *testing.T) *job.File {
	t.Helper()
	f, err := job.Parse([]byte(`
jobs:
  - id: support
    server: {protocol: imap, host: h, security: tls, auth: {secret: s}}
  - id: off
    enabled: false
    server: {protocol: imap, host: h, security: tls, auth: {secret: s}}
  - id: office-hours
    server: {protocol: imap, host: h, security: tls, auth: {secret: s}}
    schedule: {every: 15m, from: "08:00", to: "09:00", timeZone: UTC}
`))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFetchHandler(t *testing.T) {
	noon := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		payload     SchedulerPayload
		run         func() (run.Run, error)
		wantErr     string
		wantSkipped string
		wantInvoke  string
		wantRuns    int
	}{
		{name: "runs", payload: SchedulerPayload{JobID: "support"}, run: func() (run.Run, error) { return run.Run{Status: run.OK}, nil }, wantRuns: 1},
		{name: "unknown job", payload: SchedulerPayload{JobID: "nope"}, wantErr: `job "nope" is not in the jobs file`},
		{name: "no job id", payload: SchedulerPayload{}, wantErr: "no jobId"},
		{name: "disabled", payload: SchedulerPayload{JobID: "off"}, run: func() (run.Run, error) {
			return run.Run{Status: run.Disabled, Notes: []string{"the job is disabled: jobs file (enabled: false)"}}, nil
		}, wantSkipped: "disabled", wantRuns: 1},
		{name: "disabled but forced", payload: SchedulerPayload{JobID: "off", Force: true}, run: func() (run.Run, error) { return run.Run{}, nil }, wantRuns: 1},
		{name: "outside window", payload: SchedulerPayload{JobID: "office-hours"}, wantSkipped: "outside"},
		{name: "outside window, manual", payload: SchedulerPayload{JobID: "office-hours", Trigger: "manual"}, run: func() (run.Run, error) { return run.Run{}, nil }, wantRuns: 1},
		{name: "lease held", payload: SchedulerPayload{JobID: "support"}, run: func() (run.Run, error) { return run.Run{}, &fetch.LeaseHeldError{JobID: "support"} }, wantSkipped: "another run", wantRuns: 1},
		{name: "connection fails", payload: SchedulerPayload{JobID: "support"}, run: func() (run.Run, error) { return run.Run{}, errors.New("job support: connect: refused") }, wantErr: "refused", wantRuns: 1},
		{name: "backlog continues", payload: SchedulerPayload{JobID: "support", Chain: 2}, run: func() (run.Run, error) { return run.Run{More: true}, nil }, wantInvoke: `{"jobId":"support","trigger":"continue","chain":3}`, wantRuns: 1},
		{name: "chain bound", payload: SchedulerPayload{JobID: "support", Chain: 1000}, run: func() (run.Run, error) { return run.Run{More: true}, nil }, wantRuns: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeRunner{fn: tt.run}
			inv := &fakeInvoker{}
			h := &Fetch{Jobs: testJobs(t), Runner: r, Invoker: inv, Now: func() time.Time { return noon }}
			ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(time.Minute))
			defer cancel()
			res, err := h.Handle(ctx, tt.payload)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(res.Skipped, tt.wantSkipped) || (tt.wantSkipped == "" && res.Skipped != "") {
				t.Errorf("got skipped %q, want %q", res.Skipped, tt.wantSkipped)
			}
			if len(r.reqs) != tt.wantRuns {
				t.Errorf("got %d runs, want %d", len(r.reqs), tt.wantRuns)
			}
			if len(r.reqs) > 0 && r.reqs[0].Force != tt.payload.Force {
				t.Errorf("got Force %v, want the payload's %v", r.reqs[0].Force, tt.payload.Force)
			}
			if len(r.reqs) > 0 && r.reqs[0].Deadline.IsZero() {
				t.Error("the run got no deadline from the Lambda context")
			}
			got := strings.Join(inv.payloads, ",")
			if got != tt.wantInvoke {
				t.Errorf("got follow-up %q, want %q", got, tt.wantInvoke)
			}
		})
	}
}

func TestQueueCountsOutcomes(t *testing.T) {
	st := newLedger(t, "imap/INBOX/1700000000/41", "imap/INBOX/1700000000/42")
	ctx := context.Background()
	stage := &fakeStage{errFn: func(p ledger.Pointer) error {
		e, _ := st.Entry(ctx, p.JobID, p.Key)
		e.State = ledger.Processed
		if strings.HasSuffix(p.Key, "/42") {
			e.State, e.Reason = ledger.Rejected, "not allowed"
		}
		_, err := st.Update(ctx, e)
		return err
	}}
	var out strings.Builder
	h := &Queue{Name: "rules", Stage: stage, Ledger: st, Metrics: metrics.New(&out)}
	var ev events.SQSEvent
	readEvent(t, "sqs-rules.json", &ev)
	if _, err := h.Handle(ctx, ev); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if strings.Count(got, "\n") != 2 || !strings.Contains(got, `"MessagesProcessed":1`) || !strings.Contains(got, `"MessagesRejected":1`) {
		t.Errorf("got metrics\n%s\nwant one processed and one rejected", got)
	}
}
