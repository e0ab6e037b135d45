// Command deadletter is the dead-letter Lambda function: it consumes the
// preprocess and rules dead-letter queues and records each message as
// failed in the ledger, so the next fetch run moves it to the job's error
// folder.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"mailconnector/shared/awsenv"
	"mailconnector/shared/awsenv/envnames"
	"mailconnector/shared/handler"
	"mailconnector/shared/metrics"
)

func main() {
	h, err := realMain(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "deadletter:", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}

func realMain(ctx context.Context) (*handler.DeadLetter, error) {
	e, err := awsenv.Setup(ctx, envnames.Deadletter, os.Getenv)
	if err != nil {
		return nil, err
	}
	return &handler.DeadLetter{Ledger: e.Store, Logger: e.Logger, Metrics: metrics.New(os.Stdout)}, nil
}
