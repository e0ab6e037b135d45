// Package awsfetch builds the fetch function's handler from its
// environment, for functions/fetch and for the benchmark that plays the
// stack on moto, so both run the same wiring. It is apart from awsenv
// because it links the mailbox adapters and their protocol clients, which
// the queue functions need not.
package awsfetch

import (
	"time"

	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"mailconnector/shared/awsenv"
	"mailconnector/shared/connect"
	"mailconnector/shared/fetch"
	"mailconnector/shared/handler"
	"mailconnector/shared/invoke"
	"mailconnector/shared/metrics"
	"mailconnector/shared/queue/sqsqueue"
	"mailconnector/shared/secrets/smsecrets"
)

// Options changes what the function itself does not: for the benchmark.
type Options struct {
	// Now is the clock of the runs, the handler and the secret cache;
	// nil: time.Now.
	Now func() time.Time
	// Invoker continues a backlog; nil: the function invokes itself
	// (awsenv's FunctionName) asynchronously.
	Invoker handler.Invoker
}

// New builds the fetch handler of e.
func New(e *awsenv.Env, o Options) (*handler.Fetch, error) {
	jobs, err := e.Jobs()
	if err != nil {
		return nil, err
	}
	cfg := e.AWSConfig
	blobs := e.Blobs(cfg)
	var cache *smsecrets.Options
	if o.Now != nil {
		cache = &smsecrets.Options{Now: o.Now}
	}
	svc := fetch.New(fetch.Options{
		Store:        e.Store,
		Blobs:        blobs,
		ErrorDetails: e.ErrorDetails(cfg, blobs),
		Queue:        sqsqueue.New(sqs.NewFromConfig(cfg), e.PreprocessQueueURL),
		Opener:       connect.Opener{Secrets: smsecrets.New(secretsmanager.NewFromConfig(cfg), cache), Logger: e.Logger},
		Notifier:     e.Notifier(),
		Logger:       e.Logger,
		Now:          o.Now,
	})
	inv := o.Invoker
	if inv == nil {
		inv = invoke.New(awslambda.NewFromConfig(cfg), e.FunctionName)
	}
	return &handler.Fetch{
		Jobs:    jobs,
		Runner:  svc,
		Invoker: inv,
		Logger:  e.Logger,
		Metrics: metrics.New(e.Metrics),
		Push:    e.Store,
		Now:     o.Now,
	}, nil
}
