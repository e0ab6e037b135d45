// Command webhook is the webhook Lambda function behind its Function URL:
// Graph posts change notifications to <url>notify and lifecycle
// notifications to <url>lifecycle; each starts (at most) one fetch run of
// the job by invoking the fetch function. It also serves the OAuth sign-in
// links (<url>signin, <url>callback) that `connector oauth link` makes.
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
	"mailconnector/shared/signin"
	"mailconnector/shared/webhook"
)

func main() {
	h, err := realMain(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "webhook:", err)
		os.Exit(1)
	}
	lambda.Start(webhook.FunctionURL(h))
}

func realMain(ctx context.Context) (*webhook.Handler, error) {
	c, err := awsenv.FromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	if err := awsenv.Require("CONNECTOR_FETCH_FUNCTION", c.FetchFunction); err != nil {
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
	sm := smsecrets.New(secretsmanager.NewFromConfig(cfg), nil)
	st := c.Store(cfg)
	notifier := awsnotify.New(sns.NewFromConfig(cfg), sesv2.NewFromConfig(cfg), c.AlertTopicARN, c.SenderAddress)
	opener := connect.Opener{Secrets: sm, Logger: log}
	svc := &push.Service{
		Jobs: jobs, Store: st, Connect: opener.Subscriptions,
		Fetch:      push.InvokeFetch{Invoker: invoke.New(awslambda.NewFromConfig(cfg), c.FetchFunction)},
		WebhookURL: c.WebhookURL, Logger: log,
		Notifier: notifier,
	}
	sign := &signin.Handler{Jobs: jobs, Store: st, Secrets: sm, Notifier: notifier, Logger: log}
	return &webhook.Handler{Push: svc, SignIn: sign, Logger: log}, nil
}
