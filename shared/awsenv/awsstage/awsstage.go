// Package awsstage builds the handlers of the queue functions
// (preprocess, rules, deadletter) from their environment, for
// functions/* and for the benchmark that plays the stack on moto, so both
// run the same wiring.
package awsstage

import (
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"mailconnector/shared/awsenv"
	"mailconnector/shared/awsenv/envnames"
	"mailconnector/shared/event/ebevents"
	"mailconnector/shared/handler"
	"mailconnector/shared/metrics"
	"mailconnector/shared/preprocess"
	"mailconnector/shared/queue/sqsqueue"
	"mailconnector/shared/rules"
)

// Preprocess builds the preprocess function's handler: it consumes the
// preprocess queue and sends each message on to the rules queue.
func Preprocess(e *awsenv.Env) (*handler.Queue, error) {
	jobs, err := e.Jobs()
	if err != nil {
		return nil, err
	}
	stage := preprocess.NewStage(preprocess.StageOptions{
		Store: e.Store, Blobs: e.Blobs(e.AWSConfig), Jobs: jobs,
		Next:   sqsqueue.New(sqs.NewFromConfig(e.AWSConfig), e.RulesQueueURL),
		Logger: e.Logger,
	})
	return &handler.Queue{Name: envnames.Preprocess, Stage: stage, Ledger: e.Store, Logger: e.Logger, Sources: e.Sources()}, nil
}

// Rules builds the rules function's handler: it consumes the rules queue,
// stores each message's outcome with its request and publishes events to
// EventBridge.
func Rules(e *awsenv.Env) (*handler.Queue, error) {
	jobs, err := e.Jobs()
	if err != nil {
		return nil, err
	}
	stage := rules.NewStage(rules.StageOptions{
		Store: e.Store, Blobs: e.Blobs(e.AWSConfig), Jobs: jobs,
		Publisher: ebevents.New(eventbridge.NewFromConfig(e.AWSConfig), e.EventBus),
		Notifier:  e.Notifier(),
		Logger:    e.Logger,
	})
	return &handler.Queue{Name: envnames.Rules, Stage: stage, Ledger: e.Store, Logger: e.Logger, Metrics: metrics.New(e.Metrics), Sources: e.Sources()}, nil
}

// DeadLetter builds the dead-letter function's handler: it records each
// message of the dead-letter queues as failed in the ledger.
func DeadLetter(e *awsenv.Env) *handler.DeadLetter {
	return &handler.DeadLetter{Ledger: e.Store, Logger: e.Logger, Metrics: metrics.New(e.Metrics)}
}
