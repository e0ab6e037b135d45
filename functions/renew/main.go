// Command renew is the renew Lambda function, run on its own schedule:
// it subscribes every push-enabled Graph job to change notifications,
// renews the subscriptions that expire within a day, subscribes again
// where Graph dropped one, and unsubscribes jobs that no longer push. It
// also signs in for every oauth2 job and alerts when that fails.
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

	"mailconnector/shared/awsenv"
	"mailconnector/shared/connect"
	"mailconnector/shared/invoke"
	"mailconnector/shared/notify/awsnotify"
	"mailconnector/shared/push"
	"mailconnector/shared/secrets/smsecrets"
)

func main() {
	svc, err := realMain(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "renew:", err)
		os.Exit(1)
	}
	lambda.Start(func(ctx context.Context) ([]push.JobReport, error) {
		reps := svc.Renew(ctx)
		for _, r := range reps {
			if r.Action == "failed" || r.Action == "sign-in failing" {
				// Reported to the administrators; the error makes the
				// function's Errors alarm see it too.
				return reps, fmt.Errorf("renew: job %s: %s", r.JobID, r.Error)
			}
		}
		return reps, nil
	})
}

func realMain(ctx context.Context) (*push.Service, error) {
	c, err := awsenv.FromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	if err := awsenv.Require("CONNECTOR_FETCH_FUNCTION", c.FetchFunction, "CONNECTOR_WEBHOOK_URL", c.WebhookURL); err != nil {
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
	opener := connect.Opener{Secrets: smsecrets.New(secretsmanager.NewFromConfig(cfg), nil), Logger: log}
	return &push.Service{
		Jobs: jobs, Store: c.Store(cfg), Connect: opener.Subscriptions,
		Fetch:      push.InvokeFetch{Invoker: invoke.New(awslambda.NewFromConfig(cfg), c.FetchFunction)},
		WebhookURL: c.WebhookURL, Logger: log, CheckSignIn: opener.CheckSignIn,
		Notifier: awsnotify.New(sns.NewFromConfig(cfg), sesv2.NewFromConfig(cfg), c.AlertTopicARN, c.SenderAddress),
	}, nil
}
