// Command preprocess is the preprocess Lambda function: it consumes the
// preprocess queue in batches and reports partial batch failures.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"mailconnector/shared/awsenv"
	"mailconnector/shared/handler"
	"mailconnector/shared/preprocess"
	"mailconnector/shared/queue/sqsqueue"
)

func main() {
	h, err := realMain(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "preprocess:", err)
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
	if err := awsenv.Require("CONNECTOR_RULES_QUEUE_URL", c.RulesQueueURL); err != nil {
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
	stage := preprocess.NewStage(preprocess.StageOptions{
		Store: st, Blobs: c.Blobs(cfg), Jobs: jobs,
		Next:   sqsqueue.New(sqs.NewFromConfig(cfg), c.RulesQueueURL),
		Logger: log,
	})
	return &handler.Queue{Name: "preprocess", Stage: stage, Ledger: st, Logger: log}, nil
}
