// Package awspush builds the push service of the webhook and renew
// functions from their environment. It is apart from awsenv because it
// links the Graph adapter, which the other functions must not.
package awspush

import (
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

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

// New builds the push service of a webhook or renew function's Env.
func New(a *awsenv.Env) (*Env, error) {
	jobs, err := a.Jobs()
	if err != nil {
		return nil, err
	}
	cfg := a.AWSConfig
	e := &Env{
		Store:    a.Store,
		Secrets:  smsecrets.New(secretsmanager.NewFromConfig(cfg), nil),
		Notifier: a.Notifier(),
	}
	opener := connect.Opener{Secrets: e.Secrets, Logger: a.Logger}
	e.Service = &push.Service{
		Jobs: jobs, Store: e.Store, Connect: opener.Subscriptions, CheckSignIn: opener.CheckSignIn,
		Fetch:      push.InvokeFetch{Invoker: invoke.New(awslambda.NewFromConfig(cfg), a.FetchFunction)},
		WebhookURL: a.WebhookURL, Notifier: e.Notifier, Logger: a.Logger,
	}
	return e, nil
}
