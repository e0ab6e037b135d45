// Package awsenv builds what the Lambda functions share from their
// configuration: the AWS clients, the store, the blob store and the jobs
// file. The functions' mains read their environment into Config (the only
// place that does) and pass it here.
package awsenv

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"mailconnector/shared/blob/s3blob"
	"mailconnector/shared/job"
	"mailconnector/shared/redact"
	"mailconnector/shared/store/dynamostore"
)

// Config is the environment of a function. Names are the environment
// variables CDK sets (infra/).
type Config struct {
	Table              string // CONNECTOR_TABLE
	Bucket             string // CONNECTOR_BUCKET
	JobsFile           string // CONNECTOR_JOBS_FILE, default $LAMBDA_TASK_ROOT/jobs.json
	PreprocessQueueURL string // CONNECTOR_PREPROCESS_QUEUE_URL (fetch)
	RulesQueueURL      string // CONNECTOR_RULES_QUEUE_URL (preprocess)
	EventBus           string // CONNECTOR_EVENT_BUS (rules)
	AlertTopicARN      string // CONNECTOR_ALERT_TOPIC_ARN (fetch, deadletter)
	SenderAddress      string // CONNECTOR_SENDER_ADDRESS (rules, optional)
	LedgerTTLDays      int    // CONNECTOR_LEDGER_TTL_DAYS
	RunTTLDays         int    // CONNECTOR_RUN_TTL_DAYS
	FetchFunction      string // CONNECTOR_FETCH_FUNCTION (webhook, renew: the fetch function to invoke)
	WebhookURL         string // CONNECTOR_WEBHOOK_URL (renew: the webhook's Function URL)
	FunctionName       string // AWS_LAMBDA_FUNCTION_NAME
	// Endpoint points every client at one URL (tests: a moto server).
	Endpoint string // CONNECTOR_AWS_ENDPOINT
}

// FromEnv reads Config with getenv (os.Getenv in a main).
func FromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Table: getenv("CONNECTOR_TABLE"), Bucket: getenv("CONNECTOR_BUCKET"), JobsFile: getenv("CONNECTOR_JOBS_FILE"),
		PreprocessQueueURL: getenv("CONNECTOR_PREPROCESS_QUEUE_URL"), RulesQueueURL: getenv("CONNECTOR_RULES_QUEUE_URL"),
		EventBus: getenv("CONNECTOR_EVENT_BUS"), AlertTopicARN: getenv("CONNECTOR_ALERT_TOPIC_ARN"),
		SenderAddress: getenv("CONNECTOR_SENDER_ADDRESS"), FunctionName: getenv("AWS_LAMBDA_FUNCTION_NAME"),
		Endpoint: getenv("CONNECTOR_AWS_ENDPOINT"), FetchFunction: getenv("CONNECTOR_FETCH_FUNCTION"),
		WebhookURL: getenv("CONNECTOR_WEBHOOK_URL"),
	}
	if c.JobsFile == "" {
		c.JobsFile = filepath.Join(getenv("LAMBDA_TASK_ROOT"), "jobs.json")
	}
	for name, dst := range map[string]*int{"CONNECTOR_LEDGER_TTL_DAYS": &c.LedgerTTLDays, "CONNECTOR_RUN_TTL_DAYS": &c.RunTTLDays} {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return c, fmt.Errorf("%s: %q is not a number of days", name, v)
			}
			*dst = n
		}
	}
	if c.Table == "" {
		return c, fmt.Errorf("CONNECTOR_TABLE is required")
	}
	return c, nil
}

// Require fails naming the first empty variable among names.
func Require(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			return fmt.Errorf("%s is required", pairs[i])
		}
	}
	return nil
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
