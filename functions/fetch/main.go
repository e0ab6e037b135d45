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
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"mailconnector/shared/awsenv"
	"mailconnector/shared/connect"
	"mailconnector/shared/fetch"
	"mailconnector/shared/handler"
	"mailconnector/shared/invoke"
	"mailconnector/shared/metrics"
	"mailconnector/shared/notify/awsnotify"
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
	c, err := awsenv.FromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	if err := awsenv.Require("CONNECTOR_BUCKET", c.Bucket); err != nil {
		return nil, err
	}
	if err := awsenv.Require("CONNECTOR_PREPROCESS_QUEUE_URL", c.PreprocessQueueURL, "AWS_LAMBDA_FUNCTION_NAME", c.FunctionName); err != nil {
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
	svc := fetch.New(fetch.Options{
		Store:    st,
		Blobs:    c.Blobs(cfg),
		Queue:    sqsqueue.New(sqs.NewFromConfig(cfg), c.PreprocessQueueURL),
		Opener:   connect.Opener{Secrets: smsecrets.New(secretsmanager.NewFromConfig(cfg), nil), Logger: log},
		Notifier: awsnotify.New(sns.NewFromConfig(cfg), sesv2.NewFromConfig(cfg), c.AlertTopicARN, c.SenderAddress),
		Logger:   log,
	})
	return &handler.Fetch{
		Jobs:    jobs,
		Runner:  svc,
		Invoker: invoke.New(awslambda.NewFromConfig(cfg), c.FunctionName),
		Logger:  log,
		Metrics: metrics.New(os.Stdout),
		Push:    st,
	}, nil
}
