// Command fetch is the fetch Lambda function: one invocation is one run of
// the job that its EventBridge Scheduler payload names ({"jobId": "..."}).
// It continues a backlog by invoking itself asynchronously.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"mailconnector/shared/awsenv"
	"mailconnector/shared/awsenv/envnames"
	"mailconnector/shared/connect"
	"mailconnector/shared/fetch"
	"mailconnector/shared/handler"
	"mailconnector/shared/invoke"
	"mailconnector/shared/metrics"
	"mailconnector/shared/queue/sqsqueue"
	"mailconnector/shared/secrets/smsecrets"
)

func main() {
	h, err := realMain(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "fetch:", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}

func realMain(ctx context.Context) (*handler.Fetch, error) {
	e, err := awsenv.Setup(ctx, envnames.Fetch, os.Getenv)
	if err != nil {
		return nil, err
	}
	jobs, err := e.Jobs()
	if err != nil {
		return nil, err
	}
	cfg := e.AWSConfig
	blobs := e.Blobs(cfg)
	svc := fetch.New(fetch.Options{
		Store:        e.Store,
		Blobs:        blobs,
		ErrorDetails: e.ErrorDetails(cfg, blobs),
		Queue:        sqsqueue.New(sqs.NewFromConfig(cfg), e.PreprocessQueueURL),
		Opener:       connect.Opener{Secrets: smsecrets.New(secretsmanager.NewFromConfig(cfg), nil), Logger: e.Logger},
		Notifier:     e.Notifier(),
		Logger:       e.Logger,
	})
	return &handler.Fetch{
		Jobs:    jobs,
		Runner:  svc,
		Invoker: invoke.New(awslambda.NewFromConfig(cfg), e.FunctionName),
		Logger:  e.Logger,
		Metrics: metrics.New(os.Stdout),
		Push:    e.Store,
	}, nil
}
