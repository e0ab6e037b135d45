// Package awspush builds the push service of the webhook and renew
// functions from their environment. It is apart from awsenv because it
// links the Graph adapter, which the other functions must not.
package awspush

import (
	"context"
	"os"

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
	"mailconnector/shared/store/dynamostore"
)

// Env is what the push functions share: the service and the pieces the
// webhook's sign-in also uses.
type Env struct {
	Service  *push.Service
	Store    *dynamostore.Store
	Secrets  *smsecrets.Resolver
	Notifier *awsnotify.Notifier
}

// New reads the environment (CONNECTOR_TABLE, CONNECTOR_JOBS_FILE,
// CONNECTOR_FETCH_FUNCTION, CONNECTOR_ALERT_TOPIC_ARN, and
// CONNECTOR_WEBHOOK_URL when needWebhookURL) and builds the push service.
func New(ctx context.Context, needWebhookURL bool) (*Env, error) {
	c, err := awsenv.FromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	if err := awsenv.Require("CONNECTOR_FETCH_FUNCTION", c.FetchFunction); err != nil {
		return nil, err
	}
	if needWebhookURL {
		if err := awsenv.Require("CONNECTOR_WEBHOOK_URL", c.WebhookURL); err != nil {
			return nil, err
		}
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
	e := &Env{
		Store:    c.Store(cfg),
		Secrets:  smsecrets.New(secretsmanager.NewFromConfig(cfg), nil),
		Notifier: awsnotify.New(sns.NewFromConfig(cfg), sesv2.NewFromConfig(cfg), c.AlertTopicARN, c.SenderAddress),
	}
	opener := connect.Opener{Secrets: e.Secrets, Logger: log}
	e.Service = &push.Service{
		Jobs: jobs, Store: e.Store, Connect: opener.Subscriptions, CheckSignIn: opener.CheckSignIn,
		Fetch:      push.InvokeFetch{Invoker: invoke.New(awslambda.NewFromConfig(cfg), c.FetchFunction)},
		WebhookURL: c.WebhookURL, Notifier: e.Notifier, Logger: log,
	}
	return e, nil
}
