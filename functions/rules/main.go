// Command rules is the rules Lambda function: it consumes the rules queue
// in batches, stores each message's outcome with its request, and
// publishes events to EventBridge.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"mailconnector/shared/awsenv"
	"mailconnector/shared/awsenv/envnames"
	"mailconnector/shared/event/ebevents"
	"mailconnector/shared/handler"
	"mailconnector/shared/metrics"
	"mailconnector/shared/rules"
)

func main() {
	h, err := realMain(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "rules:", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}

func realMain(ctx context.Context) (*handler.Queue, error) {
	e, err := awsenv.Setup(ctx, envnames.Rules, os.Getenv)
	if err != nil {
		return nil, err
	}
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
	return &handler.Queue{Name: envnames.Rules, Stage: stage, Ledger: e.Store, Logger: e.Logger, Metrics: metrics.New(os.Stdout), Sources: e.Sources()}, nil
}
