package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"mailconnector/shared/awsenv"
	"mailconnector/shared/awsenv/envnames"
	"mailconnector/shared/blob"
	"mailconnector/shared/fetch"
	"mailconnector/shared/handler"
	"mailconnector/shared/invoke"
	"mailconnector/shared/job"
	"mailconnector/shared/queue/sqsqueue"
	"mailconnector/shared/secrets"
	"mailconnector/shared/secrets/smsecrets"
	"mailconnector/shared/store"
	"mailconnector/shared/store/dynamostore"
)

// backend is where a command reads state and secrets: the local state
// directory, or the deployed stack (--aws).
type backend struct {
	store   store.Store
	secrets secrets.Resolver
	close   func() error
	// fetch invokes the deployed fetch function (nil locally).
	fetch *invoke.Invoker
	// blobs holds the raw and normalized messages; nil with --aws
	// unless CONNECTOR_BUCKET names the stack's bucket.
	blobs blob.Store
	// preprocess is the preprocess queue with --aws, when
	// CONNECTOR_PREPROCESS_QUEUE_URL names it (nil locally).
	preprocess fetch.Sender
}

// awsConfig is the deployed stack as the CLI finds it: the stack's outputs
// in the environment (CONNECTOR_TABLE, CONNECTOR_FETCH_FUNCTION) and the
// caller's AWS credentials and region.
func awsConfig(ctx context.Context) (aws.Config, awsenv.Config, error) {
	c := awsenv.Config{Table: os.Getenv("CONNECTOR_TABLE"), Endpoint: os.Getenv("CONNECTOR_AWS_ENDPOINT")}
	if c.Table == "" {
		return aws.Config{}, c, &exitError{code: 2, msg: "connector: --aws needs CONNECTOR_TABLE (the stack's TableName output)"}
	}
	cfg, err := c.AWS(ctx)
	return cfg, c, err
}

func (c *common) backend(ctx context.Context) (*backend, error) {
	if !c.aws {
		loc, err := openLocal(c.stateDir)
		if err != nil {
			return nil, err
		}
		return &backend{store: loc.store, secrets: loc.secrets, blobs: loc.blobs, close: loc.Close}, nil
	}
	cfg, ac, err := awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	b := &backend{
		store:   dynamostore.New(dynamodb.NewFromConfig(cfg), ac.Table, nil),
		secrets: secretsResolver(cfg),
		close:   func() error { return nil },
	}
	if ac.Bucket = os.Getenv(envnames.Bucket); ac.Bucket != "" {
		b.blobs = ac.Blobs(cfg)
	}
	if u := os.Getenv(envnames.PreprocessQueueURL); u != "" {
		b.preprocess = sqsqueue.New(sqs.NewFromConfig(cfg), u)
	}
	if fn := os.Getenv("CONNECTOR_FETCH_FUNCTION"); fn != "" {
		lc := lambda.NewFromConfig(cfg, func(o *lambda.Options) {
			if ep := os.Getenv("CONNECTOR_LAMBDA_ENDPOINT"); ep != "" {
				o.BaseEndpoint = aws.String(ep)
			}
		})
		b.fetch = invoke.New(lc, fn)
	}
	return b, nil
}

func secretsResolver(cfg aws.Config) secrets.Resolver {
	return smsecrets.New(secretsmanager.NewFromConfig(cfg), nil)
}

// runAWS runs jobs now on the deployed stack: one synchronous invocation
// of the fetch function each, forced (a disabled job runs too).
func runAWS(ctx context.Context, b *backend, jobs []*job.Job, stdout io.Writer) error {
	if b.fetch == nil {
		return &exitError{code: 2, msg: "connector: run --aws needs CONNECTOR_FETCH_FUNCTION (the stack's FetchFunctionName output)"}
	}
	failed := 0
	for _, j := range jobs {
		payload, _ := json.Marshal(handler.SchedulerPayload{JobID: j.ID, Trigger: "manual", Force: true})
		out, err := b.fetch.Sync(ctx, payload)
		if err != nil {
			failed++
			fmt.Fprintf(stdout, "job %s: %v\n", j.ID, err)
			continue
		}
		var res handler.FetchResult
		if err := json.Unmarshal(out, &res); err != nil {
			failed++
			fmt.Fprintf(stdout, "job %s: unreadable result: %v\n", j.ID, err)
			continue
		}
		if res.Skipped != "" {
			fmt.Fprintf(stdout, "job %s: skipped: %s\n", j.ID, res.Skipped)
			continue
		}
		printRun(stdout, res.Run)
		if res.Continue {
			fmt.Fprintf(stdout, "  a follow-up invocation continues with the rest\n")
		}
	}
	if failed > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("connector: %d of %d jobs failed", failed, len(jobs))}
	}
	return nil
}
