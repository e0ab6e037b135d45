// Command webhook is the webhook Lambda function behind its Function URL:
// Graph posts change notifications to <url>notify and lifecycle
// notifications to <url>lifecycle; each starts (at most) one fetch run of
// the job by invoking the fetch function. It also serves the OAuth sign-in
// links (<url>signin, <url>callback) that `connector oauth link` makes;
// <url> is CONNECTOR_WEBHOOK_URL.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"mailconnector/shared/awsenv/awspush"
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
	e, err := awspush.New(ctx, false)
	if err != nil {
		return nil, err
	}
	svc := e.Service
	// The sign-in's redirect URI comes from CONNECTOR_WEBHOOK_URL (the
	// Function URL), never from the request; without it sign-in is refused
	// while notifications still work.
	sign := &signin.Handler{URL: svc.WebhookURL, Jobs: svc.Jobs, Store: e.Store, Secrets: e.Secrets, Notifier: e.Notifier, Logger: svc.Logger}
	return &webhook.Handler{Push: svc, SignIn: sign, Logger: svc.Logger}, nil
}
