// Package consume handles one delivery of a stage's queue, the same way in
// every runtime. The local runner (in-process queues) and the Lambda
// functions (SQS batches with partial batch failures) only carry
// deliveries here and act on the Verdict: delete the message, or leave it
// to come back after its visibility timeout and, after the queue's receive
// limit, to reach the dead-letter queue (see the SQS Developer Guide,
// "Amazon SQS visibility timeout" and "Using dead-letter queues").
//
// For each delivery the consumer decodes the pointer, drops a delivery
// whose message already has its outcome in the ledger, keeps the delivery
// hidden while the stage works on it, records a permanent error as the
// message's failure, and notes a retryable one on the ledger entry so the
// dead-letter handler can name the last error.
package consume

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"mailconnector/shared/ledger"
	"mailconnector/shared/metrics"
	"mailconnector/shared/permanent"
	"mailconnector/shared/queue"
	"mailconnector/shared/rules"
	"mailconnector/shared/store"
)

// Stage handles one pointer: preprocess.Stage or rules.Stage.
type Stage interface {
	Handle(ctx context.Context, p ledger.Pointer) error
}

// Delivery is one received queue message.
type Delivery struct {
	ID           string // for logs
	Body         []byte
	ReceiveCount int // 1 on the first delivery
	// Receipt and Queue, when Queue is set, let the consumer keep the
	// delivery hidden while the stage works on it.
	Receipt string
	Queue   queue.Extender
}

// Verdict is what the transport does with a delivery once it is consumed.
type Verdict int

const (
	// Delete: the message is done with; acknowledge it.
	Delete Verdict = iota
	// Retry: leave the message on the queue; it comes back after its
	// visibility timeout, or moves to the dead-letter queue.
	Retry
)

func (v Verdict) String() string {
	if v == Retry {
		return "retry"
	}
	return "delete"
}

// DefaultVisibility is the visibility the consumer keeps a delivery at
// while the stage works, when Options.Visibility is zero.
const DefaultVisibility = 30 * time.Second

// Options configure a Consumer. Name, Stage and Ledger are required.
type Options struct {
	Name   string // "preprocess" or "rules", for logs and reasons
	Stage  Stage
	Ledger store.Ledger
	Logger *slog.Logger
	Now    func() time.Time
	// Metrics, when set, counts each message's outcome once the stage has
	// given it one (the rules stage): MessagesProcessed, MessagesRejected
	// or MessagesFailed per job.
	Metrics *metrics.Writer
	// Visibility is how long a delivery is kept hidden at each beat while
	// the stage works; it is extended every third of it. Zero:
	// DefaultVisibility.
	Visibility time.Duration
}

// Consumer consumes the deliveries of one stage's queue. It is safe for
// concurrent use.
type Consumer struct{ o Options }

// New returns a Consumer.
func New(o Options) *Consumer {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Visibility <= 0 {
		o.Visibility = DefaultVisibility
	}
	return &Consumer{o: o}
}

// Consume hands one delivery to the stage and says what becomes of it.
func (c *Consumer) Consume(ctx context.Context, d Delivery) Verdict {
	p, err := DecodePointer(d.Body)
	if err != nil {
		// Not a pointer of ours: let it reach the dead-letter queue,
		// where it can be inspected; nothing in the ledger waits on it.
		c.o.Logger.Error("malformed queue message", "stage", c.o.Name, "messageId", d.ID, "err", err)
		return Retry
	}
	log := c.o.Logger.With("stage", c.o.Name, "job", p.JobID, "ledgerKey", p.Key, "attempt", d.ReceiveCount)
	if e, err := c.o.Ledger.Entry(ctx, p.JobID, p.Key); err == nil && e.State.Final() {
		log.Debug("outcome already recorded; dropping the delivery", "state", e.State)
		return Delete
	}
	if d.Queue != nil && d.Receipt != "" {
		stop := queue.KeepHidden(ctx, d.Queue, d.Receipt, c.o.Visibility, func(err error) {
			log.Warn("keep the message hidden", "err", err)
		})
		defer stop()
	}
	err = c.o.Stage.Handle(ctx, p)
	if err == nil {
		c.countOutcome(ctx, p, log)
		return Delete
	}
	if permanent.Is(err) {
		log.Error("message failed", "err", err)
		if ferr := rules.Fail(ctx, c.o.Ledger, c.o.Now(), p, fmt.Sprintf("%s: %v", c.o.Name, err)); ferr != nil {
			log.Error("record failure", "err", ferr)
			return Retry
		}
		return Delete
	}
	log.Warn("message will be retried", "err", err)
	c.noteError(ctx, p, d.ReceiveCount, err)
	return Retry
}

// countOutcome writes the outcome metric of a message the stage finished.
func (c *Consumer) countOutcome(ctx context.Context, p ledger.Pointer, log *slog.Logger) {
	if c.o.Metrics == nil {
		return
	}
	e, err := c.o.Ledger.Entry(ctx, p.JobID, p.Key)
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
	if err := c.o.Metrics.Put(p.JobID, metrics.Value{Name: name, Unit: metrics.Count, Value: 1}); err != nil {
		log.Warn("write metrics", "err", err)
	}
}

// noteError keeps the last error on the ledger entry, so that the
// dead-letter consumer can say why the message failed, and counts the
// attempt. A reply waiting for its original was already counted by the
// rules stage (MaxReplyAttempts bounds those waits), so it is not counted
// twice.
func (c *Consumer) noteError(ctx context.Context, p ledger.Pointer, attempt int, cause error) {
	if we := (*rules.WaitingError)(nil); errors.As(cause, &we) {
		return
	}
	e, err := c.o.Ledger.Entry(ctx, p.JobID, p.Key)
	if err != nil || e.State.Final() {
		return
	}
	e.Reason = fmt.Sprintf("%s attempt %d: %v", c.o.Name, attempt, cause)
	e.Attempts++
	_, _ = c.o.Ledger.Update(ctx, e) // best effort: a conflict means someone moved it on
}

// DeadLetter consumes a dead-letter queue: every message on it is recorded
// as failed in the ledger with the last error noted, so the next fetch run
// moves the source message to the job's error folder.
type DeadLetter struct {
	Ledger store.Ledger
	Logger *slog.Logger
	Now    func() time.Time
	// Metrics, when set, counts MessagesFailed per job.
	Metrics *metrics.Writer
}

// Consume records one dead letter of the named stage. Only a store
// failure is retried; a malformed dead letter is logged and dropped.
func (h *DeadLetter) Consume(ctx context.Context, stage string, d Delivery) Verdict {
	log := h.Logger
	if log == nil {
		log = slog.Default()
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	p, err := DecodePointer(d.Body)
	if err != nil {
		log.Error("dropping a malformed dead letter", "stage", stage, "messageId", d.ID, "body", truncate(string(d.Body), 200), "err", err)
		return Delete
	}
	reason := stage + " gave up after repeated failures"
	if e, err := h.Ledger.Entry(ctx, p.JobID, p.Key); err == nil && e.Reason != "" {
		reason += " (last: " + e.Reason + ")"
	}
	if err := rules.Fail(ctx, h.Ledger, now(), p, reason); err != nil {
		log.Error("record dead letter", "stage", stage, "job", p.JobID, "ledgerKey", p.Key, "err", err)
		return Retry
	}
	log.Error("message failed", "stage", stage, "job", p.JobID, "ledgerKey", p.Key, "reason", reason)
	if h.Metrics != nil {
		_ = h.Metrics.Put(p.JobID, metrics.Value{Name: metrics.MessagesFailed, Unit: metrics.Count, Value: 1})
	}
	return Delete
}

// DecodePointer decodes a queue message body.
func DecodePointer(body []byte) (ledger.Pointer, error) {
	var p ledger.Pointer
	if err := json.Unmarshal(body, &p); err != nil {
		return p, fmt.Errorf("decode pointer: %w", err)
	}
	if p.JobID == "" || p.Key == "" {
		return p, errors.New("decode pointer: jobId and key are required")
	}
	return p, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
