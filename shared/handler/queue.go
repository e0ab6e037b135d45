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
	"mailconnector/shared/queue"
	"mailconnector/shared/store"
)

// Stage handles one pointer: preprocess.Stage or rules.Stage.
type Stage = consume.Stage

// Queue handles an SQS batch for one stage and reports partial batch
// failures, so one bad message never holds up the others. The event source
// mapping must have ReportBatchItemFailures on. What becomes of each
// record is decided by the consume package, as in the local runner.
//
// Name, Stage, Ledger, Logger, Now and Metrics are the consume.Options of
// the stage.
type Queue struct {
	Name    string
	Stage   Stage
	Ledger  store.Ledger
	Logger  *slog.Logger
	Now     func() time.Time
	Metrics *metrics.Writer
	// Sources, when set, finds the queue of each record, so the record
	// stays hidden (at the queue's visibility timeout) while the stage
	// works on it, however long that takes.
	Sources Sources
}

// Sources finds the queue a record was delivered from by its
// EventSourceARN, and the queue's visibility timeout (sqsqueue.Sources).
type Sources interface {
	Extender(ctx context.Context, arn string) (queue.Extender, time.Duration, error)
}

// Handle processes every record; the failed ones are returned for retry.
func (h *Queue) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, rec := range ev.Records {
		d := delivery(rec)
		var visibility time.Duration
		if h.Sources != nil {
			q, v, err := h.Sources.Extender(ctx, rec.EventSourceARN)
			if err != nil {
				// The record is still consumed; only its visibility is
				// not kept alive.
				h.logger().Warn("find the record's queue", "stage", h.Name, "messageId", rec.MessageId, "err", err)
			} else {
				d.Queue, visibility = q, v
			}
		}
		c := consume.New(consume.Options{
			Name: h.Name, Stage: h.Stage, Ledger: h.Ledger, Logger: h.Logger, Now: h.Now,
			Metrics: h.Metrics, Visibility: visibility,
		})
		if c.Consume(ctx, d) == consume.Retry {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

func (h *Queue) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.Default()
	}
	return h.Logger
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
