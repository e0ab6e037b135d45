// Command webhook is the webhook Lambda function behind its Function URL:
// Graph posts change notifications to <url>notify and lifecycle
// notifications to <url>lifecycle; each starts (at most) one fetch run of
// the job by invoking the fetch function. It also serves the OAuth sign-in
// links (<url>signin, <url>callback) that `connector oauth link` makes;
// <url> is CONNECTOR_WEBHOOK_URL when set (a custom domain), else the
// Function URL as Lambda reports it in each event.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"mailconnector/shared/awsenv"
	"mailconnector/shared/awsenv/awspush"
	"mailconnector/shared/awsenv/envnames"
	"mailconnector/shared/signin"
	"mailconnector/shared/webhook"
)

func main() {
	awsenv.Start(envnames.Webhook, func(_ context.Context, e *awsenv.Env) (any, error) {
		h, err := build(e)
		if err != nil {
			return nil, err
		}
		return functionURL(h), nil
	})
}

func functionURL(h *webhook.Handler) func(context.Context, events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	serve := webhook.FunctionURL(h)
	return func(ctx context.Context, ev events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
		// Without CONNECTOR_WEBHOOK_URL (a function cannot be given its own
		// Function URL at deploy), the URL is the one Lambda reports for
		// the event, never the request's Host header. Lambda hands one
		// event at a time to an instance.
		if sign, ok := h.SignIn.(*signin.Handler); ok && sign.URL == "" {
			sign.URL = webhook.SelfURL(ev)
		}
		return serve(ctx, ev)
	}
}

func build(a *awsenv.Env) (*webhook.Handler, error) {
	e, err := awspush.New(a)
	if err != nil {
		return nil, err
	}
	svc := e.Service
	// The sign-in's redirect URI comes from CONNECTOR_WEBHOOK_URL or the
	// Function URL Lambda reports, never from the request's headers.
	sign := &signin.Handler{URL: svc.WebhookURL, Jobs: svc.Jobs, Store: e.Store, Secrets: e.Secrets, Notifier: e.Notifier, Logger: svc.Logger}
	return &webhook.Handler{Push: svc, SignIn: sign, Logger: svc.Logger}, nil
}
