package handler

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"mailconnector/shared/consume"
	"mailconnector/shared/metrics"
	"mailconnector/shared/store"
)

// Stage handles one pointer: preprocess.Stage or rules.Stage.
type Stage = consume.Stage

// Queue handles an SQS batch for one stage and reports partial batch
// failures, so one bad message never holds up the others. The event source
// mapping must have ReportBatchItemFailures on. What becomes of each
// record is decided by the consume package, as in the local runner.
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
	c := consume.New(consume.Options{
		Name: h.Name, Stage: h.Stage, Ledger: h.Ledger, Logger: h.Logger, Now: h.Now,
		Metrics: h.Metrics,
	})
	var resp events.SQSEventResponse
	for _, rec := range ev.Records {
		// The queue's visibility timeout is six times the function's
		// timeout (infra), so a record never needs its lease extended.
		if c.Consume(ctx, delivery(rec)) == consume.Retry {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

// delivery is the consume package's view of an SQS record.
func delivery(rec events.SQSMessage) consume.Delivery {
	n, _ := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	return consume.Delivery{ID: rec.MessageId, Body: []byte(rec.Body), ReceiveCount: n, Receipt: rec.ReceiptHandle}
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
	c := &consume.DeadLetter{Ledger: h.Ledger, Logger: h.Logger, Now: h.Now, Metrics: h.Metrics}
	var resp events.SQSEventResponse
	for _, rec := range ev.Records {
		stage := h.Name
		if stage == "" {
			stage = sourceQueue(rec.EventSourceARN)
		}
		if c.Consume(ctx, stage, delivery(rec)) == consume.Retry {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
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
