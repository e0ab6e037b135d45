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
	"mailconnector/shared/awsenv/envnames"
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
	e, err := awsenv.Setup(ctx, envnames.Preprocess, os.Getenv)
	if err != nil {
		return nil, err
	}
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
