package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"mailconnector/shared/ledger"
	"mailconnector/shared/metrics"
	"mailconnector/shared/rules"
	"mailconnector/shared/store"
)

// Stage handles one pointer: preprocess.Stage or rules.Stage.
type Stage interface {
	Handle(ctx context.Context, p ledger.Pointer) error
}

// Queue handles an SQS batch for one stage and reports partial batch
// failures, so one bad message never holds up the others. The event source
// mapping must have ReportBatchItemFailures on.
type Queue struct {
	Name   string // "preprocess" or "rules", for logs and reasons
	Stage  Stage
	Ledger store.Ledger
	Logger *slog.Logger
	Now    func() time.Time
	// Metrics, when set, counts each message's outcome once the stage has
	// given it one (the rules stage): MessagesProcessed, MessagesRejected
	// or MessagesFailed per job.
	Metrics *metrics.Writer
}

// Handle processes every record; the failed ones are returned for retry.
func (h *Queue) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	log := h.Logger
	if log == nil {
		log = slog.Default()
	}
	var resp events.SQSEventResponse
	for _, rec := range ev.Records {
		p, err := DecodePointer(rec.Body)
		if err != nil {
			// Not a pointer of ours: let it reach the dead-letter queue
			// where it can be inspected; nothing in the ledger waits on it.
			log.Error("malformed queue message", "stage", h.Name, "messageId", rec.MessageId, "err", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			continue
		}
		l := log.With("stage", h.Name, "job", p.JobID, "ledgerKey", p.Key)
		err = h.Stage.Handle(ctx, p)
		if err == nil {
			h.countOutcome(ctx, p, l)
			continue
		}
		if isPermanent(err) {
			l.Error("message failed", "err", err)
			if ferr := rules.Fail(ctx, h.Ledger, h.now(), p, fmt.Sprintf("%s: %v", h.Name, err)); ferr != nil {
				l.Error("record failure", "err", ferr)
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			}
			continue
		}
		attempt, _ := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
		l.Warn("message will be retried", "attempt", attempt, "err", err)
		h.noteError(ctx, p, attempt, err)
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
	}
	return resp, nil
}

// countOutcome writes the outcome metric of a message the stage finished.
func (h *Queue) countOutcome(ctx context.Context, p ledger.Pointer, log *slog.Logger) {
	if h.Metrics == nil {
		return
	}
	e, err := h.Ledger.Entry(ctx, p.JobID, p.Key)
	if err != nil || !e.State.Final() {
		return
	}
	name := metrics.MessagesProcessed
	switch e.State {
	case ledger.Rejected:
		name = metrics.MessagesRejected
	case ledger.Failed:
		name = metrics.MessagesFailed
	}
	if err := h.Metrics.Put(p.JobID, metrics.Value{Name: name, Unit: metrics.Count, Value: 1}); err != nil {
		log.Warn("write metrics", "err", err)
	}
}

func (h *Queue) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// noteError keeps the last error on the ledger entry, so that the
// dead-letter handler can say why the message failed. A reply waiting for
// its original was already counted by the rules stage (MaxReplyAttempts
// bounds those waits), so it is not counted twice.
func (h *Queue) noteError(ctx context.Context, p ledger.Pointer, attempt int, cause error) {
	if we := (*rules.WaitingError)(nil); errors.As(cause, &we) {
		return
	}
	e, err := h.Ledger.Entry(ctx, p.JobID, p.Key)
	if err != nil || e.State.Final() {
		return
	}
	e.Reason = fmt.Sprintf("%s attempt %d: %v", h.Name, attempt, cause)
	e.Attempts++
	_, _ = h.Ledger.Update(ctx, e) // best effort: a conflict means someone moved it on
}

// DeadLetter handles a dead-letter queue: every message on it is recorded
// as failed in the ledger with the last error, so the next fetch run moves
// the source message to the job's error folder.
type DeadLetter struct {
	// Metrics, when set, counts MessagesFailed per job.
	Metrics *metrics.Writer
	// Name is the stage whose queue gave up; empty: read from the record's
	// source queue (".../mail-connector-rules-dlq" → "mail-connector-rules").
	Name   string
	Ledger store.Ledger
	Logger *slog.Logger
	Now    func() time.Time
}

// Handle records each dead letter; only a store failure is retried.
func (h *DeadLetter) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	log := h.Logger
	if log == nil {
		log = slog.Default()
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	var resp events.SQSEventResponse
	for _, rec := range ev.Records {
		p, err := DecodePointer(rec.Body)
		if err != nil {
			log.Error("dropping a malformed dead letter", "stage", h.Name, "messageId", rec.MessageId, "body", truncate(rec.Body, 200), "err", err)
			continue
		}
		stage := h.Name
		if stage == "" {
			stage = sourceQueue(rec.EventSourceARN)
		}
		reason := stage + " gave up after repeated failures"
		if e, err := h.Ledger.Entry(ctx, p.JobID, p.Key); err == nil && e.Reason != "" {
			reason += " (last: " + e.Reason + ")"
		}
		if err := rules.Fail(ctx, h.Ledger, now(), p, reason); err != nil {
			log.Error("record dead letter", "job", p.JobID, "ledgerKey", p.Key, "err", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			continue
		}
		log.Error("message failed", "stage", stage, "job", p.JobID, "ledgerKey", p.Key, "reason", reason)
		if h.Metrics != nil {
			_ = h.Metrics.Put(p.JobID, metrics.Value{Name: metrics.MessagesFailed, Unit: metrics.Count, Value: 1})
		}
	}
	return resp, nil
}

// sourceQueue names the queue a dead-letter queue serves, from its ARN.
func sourceQueue(arn string) string {
	name := arn[strings.LastIndex(arn, ":")+1:]
	if name == "" {
		return "queue"
	}
	return strings.TrimSuffix(strings.TrimSuffix(name, "-dlq"), "-deadletter")
}

// DecodePointer decodes a queue message body.
func DecodePointer(body string) (ledger.Pointer, error) {
	var p ledger.Pointer
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		return p, fmt.Errorf("decode pointer: %w", err)
	}
	if p.JobID == "" || p.Key == "" {
		return p, errors.New("decode pointer: jobId and key are required")
	}
	return p, nil
}

func isPermanent(err error) bool {
	var pe interface {
		error
		Permanent() bool
	}
	return errors.As(err, &pe) && pe.Permanent()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
