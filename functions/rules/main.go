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
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"mailconnector/shared/awsenv"
	"mailconnector/shared/event/ebevents"
	"mailconnector/shared/handler"
	"mailconnector/shared/metrics"
	"mailconnector/shared/notify/awsnotify"
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
	c, err := awsenv.FromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	if err := awsenv.Require("CONNECTOR_BUCKET", c.Bucket); err != nil {
		return nil, err
	}
	if err := awsenv.Require("CONNECTOR_EVENT_BUS", c.EventBus); err != nil {
		return nil, err
	}
	cfg, err := c.AWS(ctx)
	if err != nil {
		return nil, err
	}
	jobs, err := c.Jobs()
	if err != nil {
		return nil, err
	}
	log := awsenv.Logger()
	st := c.Store(cfg)
	stage := rules.NewStage(rules.StageOptions{
		Store: st, Blobs: c.Blobs(cfg), Jobs: jobs,
		Publisher: ebevents.New(eventbridge.NewFromConfig(cfg), c.EventBus),
		Notifier:  awsnotify.New(sns.NewFromConfig(cfg), sesv2.NewFromConfig(cfg), c.AlertTopicARN, c.SenderAddress),
		Logger:    log,
	})
	return &handler.Queue{Name: "rules", Stage: stage, Ledger: st, Logger: log, Metrics: metrics.New(os.Stdout)}, nil
}
