// Package awsenv builds what the Lambda functions share from their
// configuration: the AWS clients, the store, the blob store and the jobs
// file. The functions' mains read their environment into Config (the only
// place that does) and pass it here.
package awsenv

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"mailconnector/shared/awsenv/envnames"
	"mailconnector/shared/blob"
	"mailconnector/shared/blob/s3blob"
	"mailconnector/shared/blob/sealed"
	"mailconnector/shared/blob/sealed/kmskeys"
	"mailconnector/shared/job"
	"mailconnector/shared/notify/awsnotify"
	"mailconnector/shared/queue/sqsqueue"
	"mailconnector/shared/redact"
	"mailconnector/shared/store/dynamostore"
)

// Config is the environment of a function, as the CDK app (infra/) sets
// it; envnames names each variable.
type Config struct {
	Table              string // envnames.Table
	Bucket             string // envnames.Bucket
	JobsFile           string // envnames.JobsFile, default $LAMBDA_TASK_ROOT/jobs.json
	PreprocessQueueURL string // envnames.PreprocessQueueURL (fetch)
	RulesQueueURL      string // envnames.RulesQueueURL (preprocess)
	EventBus           string // envnames.EventBus (rules)
	AlertTopicARN      string // envnames.AlertTopicARN
	SenderAddress      string // envnames.SenderAddress (optional)
	LedgerTTLDays      int    // envnames.LedgerTTLDays
	RunTTLDays         int    // envnames.RunTTLDays
	FetchFunction      string // envnames.FetchFunction (webhook, renew: the fetch function to invoke)
	WebhookURL         string // envnames.WebhookURL (renew: the webhook's Function URL)
	FunctionName       string // envnames.FunctionName
	ErrorKey           string // envnames.ErrorKey (fetch: the KMS key that seals the error details)
	// Endpoint points every client at one URL (tests: a moto server).
	Endpoint string // envnames.Endpoint
}

// Load reads the Config of function (one of envnames' functions) with
// getenv (os.Getenv in a main), and fails naming the first variable the
// function requires that is empty.
func Load(function string, getenv func(string) string) (Config, error) {
	c := Config{
		Table: getenv(envnames.Table), Bucket: getenv(envnames.Bucket), JobsFile: getenv(envnames.JobsFile),
		PreprocessQueueURL: getenv(envnames.PreprocessQueueURL), RulesQueueURL: getenv(envnames.RulesQueueURL),
		EventBus: getenv(envnames.EventBus), AlertTopicARN: getenv(envnames.AlertTopicARN),
		SenderAddress: getenv(envnames.SenderAddress), FunctionName: getenv(envnames.FunctionName),
		Endpoint: getenv(envnames.Endpoint), FetchFunction: getenv(envnames.FetchFunction),
		WebhookURL: getenv(envnames.WebhookURL), ErrorKey: getenv(envnames.ErrorKey),
	}
	if c.JobsFile == "" {
		c.JobsFile = filepath.Join(getenv(envnames.TaskRoot), "jobs.json")
	}
	for name, dst := range map[string]*int{envnames.LedgerTTLDays: &c.LedgerTTLDays, envnames.RunTTLDays: &c.RunTTLDays} {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return c, fmt.Errorf("%s: %q is not a number of days", name, v)
			}
			*dst = n
		}
	}
	if err := envnames.Check(function, getenv); err != nil {
		return c, err
	}
	return c, nil
}

// AWS loads the AWS configuration (the function's role), or one pointed
// at Endpoint.
func (c Config) AWS(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return cfg, fmt.Errorf("load AWS configuration: %w", err)
	}
	if c.Endpoint != "" {
		cfg.BaseEndpoint = aws.String(c.Endpoint)
	}
	return cfg, nil
}

// Jobs loads the jobs file that CDK put beside the function (JSON is
// YAML, so the same loader validates it).
func (c Config) Jobs() (*job.File, error) {
	return job.LoadFile(c.JobsFile)
}

// Store returns the DynamoDB store.
func (c Config) Store(cfg aws.Config) *dynamostore.Store {
	return dynamostore.New(dynamodb.NewFromConfig(cfg), c.Table, &dynamostore.Options{
		LedgerTTL: time.Duration(c.LedgerTTLDays) * 24 * time.Hour,
		RunTTL:    time.Duration(c.RunTTLDays) * 24 * time.Hour,
	})
}

// ErrorDetails returns the sealed error details in blobs, under data
// keys from the KMS key ErrorKey; nil without ErrorKey.
func (c Config) ErrorDetails(cfg aws.Config, blobs blob.Store) blob.Store {
	if c.ErrorKey == "" {
		return nil
	}
	return sealed.New(blobs, kmskeys.New(kms.NewFromConfig(cfg), c.ErrorKey, kmskeys.PurposeErrorDetails))
}

// Blobs returns the S3 blob store.
func (c Config) Blobs(cfg aws.Config) *s3blob.Store {
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = c.Endpoint != "" })
	return s3blob.New(client, c.Bucket, "", nil)
}

// Logger is the JSON logger every function uses; it masks every secret
// value the function resolved or obtained (redact) before writing.
func Logger() *slog.Logger {
	return slog.New(redact.Handler(slog.NewJSONHandler(os.Stderr, nil)))
}

// Env is what every function builds first: its Config, the AWS
// configuration, the logger and the store.
type Env struct {
	Config
	AWSConfig aws.Config
	Logger    *slog.Logger
	Store     *dynamostore.Store
	// Metrics is where the function writes its metrics (CloudWatch
	// embedded metric format lines): standard output.
	Metrics io.Writer
}

// Setup loads the Config of function (one of envnames' functions) with
// getenv (os.Getenv in a main) and builds its Env.
func Setup(ctx context.Context, function string, getenv func(string) string) (*Env, error) {
	c, err := Load(function, getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := c.AWS(ctx)
	if err != nil {
		return nil, err
	}
	return &Env{Config: c, AWSConfig: cfg, Logger: Logger(), Store: c.Store(cfg), Metrics: os.Stdout}, nil
}

// Sources finds the queues of SQS event records, for handler.Queue.
func (e *Env) Sources() *sqsqueue.Sources {
	return sqsqueue.NewSources(sqs.NewFromConfig(e.AWSConfig))
}

// Notifier sends alerts to the alert topic and sender notices from the
// sender address.
func (e *Env) Notifier() *awsnotify.Notifier {
	return awsnotify.New(sns.NewFromConfig(e.AWSConfig), sesv2.NewFromConfig(e.AWSConfig), e.AlertTopicARN, e.SenderAddress)
}

// Start is a function's main: it sets up the Env of function from the
// process environment, builds the handler with build and serves it to
// Lambda (lambda.Start). When either fails it prints the reason, prefixed
// with the function's name, and exits 1, so the failure shows in the
// function's log at its first invocation.
func Start(function string, build func(ctx context.Context, e *Env) (any, error)) {
	ctx := context.Background()
	h, err := func() (any, error) {
		e, err := Setup(ctx, function, os.Getenv)
		if err != nil {
			return nil, err
		}
		return build(ctx, e)
	}()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", function, err)
		os.Exit(1)
	}
	lambda.Start(h)
}
