// Package envnames names the environment variables of the Lambda
// functions, and which function needs which. The functions read them
// (awsenv) and the CDK app sets them (infra/), both from this list; it
// imports nothing, so the CDK app links no AWS client to use it.
package envnames

import (
	"fmt"
	"slices"
)

// The variables the CDK app sets.
const (
	Table              = "CONNECTOR_TABLE"                // the DynamoDB table
	Bucket             = "CONNECTOR_BUCKET"               // the S3 bucket for raw and normalized mail
	ErrorKey           = "CONNECTOR_ERROR_KEY"            // the KMS key that seals the error details
	JobsFile           = "CONNECTOR_JOBS_FILE"            // default $LAMBDA_TASK_ROOT/jobs.json
	PreprocessQueueURL = "CONNECTOR_PREPROCESS_QUEUE_URL" // where fetch sends pointers
	RulesQueueURL      = "CONNECTOR_RULES_QUEUE_URL"      // where preprocess sends pointers
	EventBus           = "CONNECTOR_EVENT_BUS"            // where rules publishes events
	AlertTopicARN      = "CONNECTOR_ALERT_TOPIC_ARN"      // the administrators' alerts
	SenderAddress      = "CONNECTOR_SENDER_ADDRESS"       // the From of sender notices
	LedgerTTLDays      = "CONNECTOR_LEDGER_TTL_DAYS"      // how long ledger entries are kept
	RunTTLDays         = "CONNECTOR_RUN_TTL_DAYS"         // how long run records are kept
	MaxReceives        = "CONNECTOR_MAX_RECEIVES"         // the stage queues' receive limit, for the operator's information
	FetchFunction      = "CONNECTOR_FETCH_FUNCTION"       // the fetch function the push functions invoke
	WebhookURL         = "CONNECTOR_WEBHOOK_URL"          // the webhook's URL
	Endpoint           = "CONNECTOR_AWS_ENDPOINT"         // one URL for every AWS client (tests)
	ScheduleGroup      = "CONNECTOR_SCHEDULE_GROUP"       // the jobs' EventBridge Scheduler group (schedsync)
	FetchFunctionARN   = "CONNECTOR_FETCH_FUNCTION_ARN"   // the schedules' target (schedsync)
	SchedulerRoleARN   = "CONNECTOR_SCHEDULER_ROLE_ARN"   // the role the schedules invoke it with (schedsync)
)

// The variables Lambda sets in every function.
const (
	FunctionName = "AWS_LAMBDA_FUNCTION_NAME"
	TaskRoot     = "LAMBDA_TASK_ROOT"
)

// Runtime are the names Lambda sets itself; the CDK app sets none of them.
var Runtime = []string{FunctionName, TaskRoot}

// The functions.
const (
	Fetch      = "fetch"
	Preprocess = "preprocess"
	Rules      = "rules"
	Deadletter = "deadletter"
	Webhook    = "webhook"
	Renew      = "renew"
	SchedSync  = "schedsync"
)

// common are read by every function when set.
var common = []string{Bucket, JobsFile, LedgerTTLDays, RunTTLDays, MaxReceives, Endpoint}

// env is what one function reads: the names it cannot start without, and
// the ones it uses when set.
type env struct{ required, optional []string }

var functions = map[string]env{
	Fetch:      {required: []string{Table, Bucket, PreprocessQueueURL, FunctionName}, optional: []string{AlertTopicARN, SenderAddress, ErrorKey}},
	Preprocess: {required: []string{Table, Bucket, RulesQueueURL}},
	Rules:      {required: []string{Table, Bucket, EventBus}, optional: []string{AlertTopicARN, SenderAddress}},
	Deadletter: {required: []string{Table}, optional: []string{AlertTopicARN}},
	Webhook:    {required: []string{Table, FetchFunction}, optional: []string{WebhookURL, AlertTopicARN, SenderAddress}},
	Renew:      {required: []string{Table, FetchFunction, WebhookURL}, optional: []string{AlertTopicARN, SenderAddress}},
	SchedSync:  {required: []string{Table, ScheduleGroup, FetchFunctionARN, SchedulerRoleARN}, optional: []string{AlertTopicARN}},
}

// Functions are the functions' names, sorted.
func Functions() []string {
	out := make([]string, 0, len(functions))
	for f := range functions {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// Requires is the names function cannot start without, Runtime names
// included; nil for a function it does not know.
func Requires(function string) []string {
	return slices.Clone(functions[function].required)
}

// Reads is every name function reads, required or not, sorted; nil for a
// function it does not know.
func Reads(function string) []string {
	e, ok := functions[function]
	if !ok {
		return nil
	}
	out := slices.Concat(e.required, e.optional, common)
	slices.Sort(out)
	return slices.Compact(out)
}

// Check fails naming the first name function requires that getenv
// reports empty.
func Check(function string, getenv func(string) string) error {
	e, ok := functions[function]
	if !ok {
		return fmt.Errorf("envnames: unknown function %q", function)
	}
	for _, n := range e.required {
		if getenv(n) == "" {
			return fmt.Errorf("%s is required", n)
		}
	}
	return nil
}
