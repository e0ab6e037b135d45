package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"mailconnector/shared/awsenv/envnames"
	"mailconnector/shared/job"
	"mailconnector/shared/schedsync"
	"mailconnector/shared/scheduler"
)

// The Lambda functions, by the name of their directory in functions/ and
// build/; envnames says which environment each one reads.
const (
	fnFetch      = envnames.Fetch
	fnPreprocess = envnames.Preprocess
	fnRules      = envnames.Rules
	fnDeadletter = envnames.Deadletter
	fnWebhook    = envnames.Webhook
	fnRenew      = envnames.Renew
	fnSchedSync  = envnames.SchedSync
)

// functionNames lists the functions every stack has, in a stable order.
var functionNames = []string{fnFetch, fnPreprocess, fnRules, fnDeadletter, fnSchedSync}

// pushFunctionNames are the functions of Graph push, deployed only when a
// job has push enabled: an administrator with only polled mailboxes gets
// no public URL.
var pushFunctionNames = []string{fnWebhook, fnRenew}

// renewEvery is the renew function's schedule: four chances a day to renew
// a subscription before the day it has left runs out.
const renewEvery = "rate(6 hours)"

// The queues.
const (
	qPreprocess    = "preprocess"
	qRules         = "rules"
	qPreprocessDLQ = "preprocess-dlq"
	qRulesDLQ      = "rules-dlq"
)

// Queue settings shared with the functions.
const (
	maxReceiveCount   = 5  // redrive to the DLQ after this many receives; envnames.MaxReceives
	dlqRetentionDays  = 14 // the longest SQS allows
	visibilityFactor  = 6  // queue visibility timeout = factor × the consumer's timeout
	sqsBatchSize      = 10
	consumerMaxConc   = 5 // maxConcurrency of the preprocess and rules event sources
	deadletterMaxConc = 2 // the least SQS event sources allow
	maxFetchConc      = 20
	minFetchConc      = 2
	defaultEventBus   = "default"
	logRetention      = awslogs.RetentionDays_THREE_MONTHS
)

// functionSpec is the size of one function.
type functionSpec struct {
	name        string
	id          string // construct id
	description string
	timeoutMin  float64
	memoryMB    float64
}

func (s functionSpec) timeout() awscdk.Duration {
	return awscdk.Duration_Minutes(jsii.Number(s.timeoutMin))
}

var functionSpecs = map[string]functionSpec{
	fnFetch:      {fnFetch, "Fetch", "Mail Connector: one job run (lease, dispositions, new mail to S3, ledger, preprocess queue)", 15, 512},
	fnPreprocess: {fnPreprocess, "Preprocess", "Mail Connector: MIME, charsets, HTML to text, visible text, attachments", 5, 1024},
	fnRules:      {fnRules, "Rules", "Mail Connector: processing statements, threading, requests and conversations", 1, 256},
	fnDeadletter: {fnDeadletter, "Deadletter", "Mail Connector: records dead-lettered messages as failed and alerts", 1, 256},
	fnWebhook:    {fnWebhook, "Webhook", "Mail Connector: Graph change notifications (Function URL): validation, clientState, one fetch per burst", 0.5, 256},
	fnRenew:      {fnRenew, "Renew", "Mail Connector: subscribes push jobs to Graph change notifications and renews them", 5, 256},
	fnSchedSync:  {fnSchedSync, "SchedSync", "Mail Connector: each deploy's schedules (custom resource): creates, updates and deletes them, keeping edits made in EventBridge", 5, 256},
}

// ConnectorStack is the deployed connector. The fields give tests (and any
// later extension) the constructs by role.
type ConnectorStack struct {
	Stack         awscdk.Stack
	Config        Config
	Jobs          *job.File
	Key           awskms.Key // encrypts the table, bucket, queues and topic (kms.go)
	Table         awsdynamodb.Table
	Bucket        awss3.Bucket
	Topic         awssns.Topic
	Queues        map[string]awssqs.Queue
	Functions     map[string]awslambda.Function
	Roles         map[string]awsiam.Role
	LogGroups     map[string]awslogs.LogGroup
	Secrets       map[string]awssecretsmanager.ISecret // by reference
	ScheduleGroup awsscheduler.CfnScheduleGroup
	SchedulerRole awsiam.Role
	// RenewSchedulerRole may only invoke the renew function (push only).
	RenewSchedulerRole awsiam.Role
	// Schedules are the jobs file's schedule plan, which the
	// ScheduleSync custom resource carries to the schedsync function.
	Schedules    []scheduler.Spec
	ScheduleSync awscdk.CustomResource
	Alarms       []awscloudwatch.Alarm
	Dashboard    awscloudwatch.Dashboard
	// FunctionNames are the functions of this stack: functionNames, and
	// pushFunctionNames when a job pushes.
	FunctionNames []string
	// WebhookURL is the webhook's Function URL (push only).
	WebhookURL awslambda.FunctionUrl
	// Placeholder is true when any function got placeholder code.
	Placeholder bool
	// Notes are worth telling whoever synthesizes: disabled jobs, jobs
	// whose schedule has ended, placeholder code.
	Notes []string
}

// NewConnectorStack loads and validates the jobs file and defines the
// connector's stack in scope. A bad jobs file fails with job.LoadFile's
// error, which names the job id and the field.
func NewConnectorStack(scope constructs.Construct, cfg Config) (*ConnectorStack, error) {
	jobs, err := job.LoadFile(cfg.JobsFile)
	if err != nil {
		return nil, err
	}
	if err := checkDeployable(jobs, cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.JobsFile, err)
	}
	lifecycle, err := retentionRules(jobs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.JobsFile, err)
	}
	plans, notes, err := schedsync.Plan(jobs, cfg.Now)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.JobsFile, err)
	}
	jobsJSON, cas, err := lambdaJobsFile(jobs)
	if err != nil {
		return nil, err
	}
	assets := map[string]string{}
	c := &ConnectorStack{
		Config: cfg, Jobs: jobs, Schedules: plans,
		Queues:    map[string]awssqs.Queue{},
		Functions: map[string]awslambda.Function{},
		Roles:     map[string]awsiam.Role{},
		LogGroups: map[string]awslogs.LogGroup{},
		Secrets:   map[string]awssecretsmanager.ISecret{},
	}
	c.FunctionNames = append([]string{}, functionNames...)
	if pushJobs(jobs) {
		c.FunctionNames = append(c.FunctionNames, pushFunctionNames...)
	}
	for _, name := range c.FunctionNames {
		dir, placeholder, err := stageFunction(cfg, name, jobsJSON, cas)
		if err != nil {
			return nil, err
		}
		assets[name] = dir
		c.Placeholder = c.Placeholder || placeholder
	}

	stack := awscdk.NewStack(scope, jsii.String(cfg.StackName), &awscdk.StackProps{
		// No env: the template is account- and region-agnostic, and synth
		// needs no AWS credentials and makes no lookups.
		Description: jsii.String("Mail Connector: mailboxes to helpdesk requests (jobs file " + relPath(cfg.RepoRoot, cfg.JobsFile) + ")"),
	})
	c.Stack = stack
	c.Notes = notes
	if c.Placeholder {
		c.Notes = append(c.Notes, "placeholder function code (allowMissingBuild=true): for tests only, do not deploy this template")
	}

	c.defineKey()
	c.defineStorage(lifecycle)
	c.defineQueues()
	c.defineTopic()
	c.defineFunctions(assets)
	c.grant()
	if err := c.defineSchedules(); err != nil {
		return nil, err
	}
	c.defineMonitoring()
	c.defineOutputs()
	return c, nil
}

// checkDeployable refuses what validates locally but cannot work as deployed.
func checkDeployable(f *job.File, cfg Config) error {
	var errs job.Errors
	for i := range f.Jobs {
		j := &f.Jobs[i]
		if cfg.SenderAddress != "" {
			continue
		}
		// The rules function sends these notices through SES.
		for _, n := range []struct {
			field string
			set   bool
		}{
			{"notifications.notifySenderOnReject", j.Notifications.NotifySenderOnReject},
			{"attachments.notifyOnDrop.sender", j.Attachments.NotifyOnDrop.Sender},
			{"attachments.notifyOnDrop.admins", j.Attachments.NotifyOnDrop.Admins},
		} {
			if n.set {
				errs = append(errs, &job.FieldError{Job: j.ID, Index: i, Field: n.field,
					Msg: "sends mail: deploy with -c senderAddress=ADDRESS (an SES-verified identity)"})
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// defineStorage defines the table and the bucket, whose objects expire
// by the lifecycle rules (retentionRules).
func (c *ConnectorStack) defineStorage(lifecycle []*awss3.LifecycleRule) {
	s := storeSchema()
	c.Table = awsdynamodb.NewTable(c.Stack, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey:  s.PartitionKey.attribute(),
		SortKey:       s.SortKey.attribute(),
		BillingMode:   awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Encryption:    awsdynamodb.TableEncryption_CUSTOMER_MANAGED,
		EncryptionKey: c.Key,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		TimeToLiveAttribute: jsii.String(s.TTLAttribute),
		// The ledger, requests and conversations outlive a stack deletion.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	for _, ix := range s.Indexes {
		props := &awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      jsii.String(ix.Name),
			PartitionKey:   ix.PartitionKey.attribute(),
			ProjectionType: ix.Projection,
		}
		if ix.SortKey != nil {
			props.SortKey = ix.SortKey.attribute()
		}
		if len(ix.NonKeyAttributes) > 0 {
			props.NonKeyAttributes = jsii.Strings(ix.NonKeyAttributes...)
		}
		c.Table.AddGlobalSecondaryIndex(props)
	}

	days := func(n int) awscdk.Duration { return awscdk.Duration_Days(jsii.Number(float64(n))) }
	rules := append(lifecycle, &awss3.LifecycleRule{Id: jsii.String("abort-incomplete-uploads"), AbortIncompleteMultipartUploadAfter: days(7)})
	c.Bucket = awss3.NewBucket(c.Stack, jsii.String("Mail"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_KMS,
		EncryptionKey:     c.Key,
		BucketKeyEnabled:  jsii.Bool(true), // fewer KMS calls
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		MinimumTLSVersion: jsii.Number(1.2),
		Versioned:         jsii.Bool(false),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		// The jobs file's retention (retention.go); a run's protocol trace,
		// which holds parts of the mail it fetched, goes with the raw mail.
		// Streamed uploads are multipart; a crashed one leaves parts behind.
		LifecycleRules: &rules,
	})
}

func (c *ConnectorStack) defineQueues() {
	timeout := func(fn string) awscdk.Duration {
		return awscdk.Duration_Seconds(jsii.Number(visibilityFactor * 60 * functionSpecs[fn].timeoutMin))
	}
	// Named <stack>-<queue>: the deadletter function names the stage that
	// gave up after its source queue (without "-dlq").
	name := func(q string) *string { return jsii.String(c.Config.StackName + "-" + q) }
	dlq := func(id, q string) awssqs.Queue {
		return awssqs.NewQueue(c.Stack, jsii.String(id), &awssqs.QueueProps{
			QueueName:           name(q),
			Encryption:          awssqs.QueueEncryption_KMS,
			EncryptionMasterKey: c.Key,
			EnforceSSL:          jsii.Bool(true),
			RetentionPeriod:     awscdk.Duration_Days(jsii.Number(dlqRetentionDays)),
			VisibilityTimeout:   timeout(fnDeadletter),
		})
	}
	queue := func(id, q, consumer string, dead awssqs.Queue) awssqs.Queue {
		return awssqs.NewQueue(c.Stack, jsii.String(id), &awssqs.QueueProps{
			QueueName:           name(q),
			Encryption:          awssqs.QueueEncryption_KMS,
			EncryptionMasterKey: c.Key,
			EnforceSSL:          jsii.Bool(true),
			RetentionPeriod:     awscdk.Duration_Days(jsii.Number(4)),
			VisibilityTimeout:   timeout(consumer),
			DeadLetterQueue:     &awssqs.DeadLetterQueue{Queue: dead, MaxReceiveCount: jsii.Number(maxReceiveCount)},
		})
	}
	c.Queues[qPreprocessDLQ] = dlq("PreprocessDLQ", qPreprocessDLQ)
	c.Queues[qRulesDLQ] = dlq("RulesDLQ", qRulesDLQ)
	c.Queues[qPreprocess] = queue("PreprocessQueue", qPreprocess, fnPreprocess, c.Queues[qPreprocessDLQ])
	c.Queues[qRules] = queue("RulesQueue", qRules, fnRules, c.Queues[qRulesDLQ])
}

func (c *ConnectorStack) defineTopic() {
	c.Topic = awssns.NewTopic(c.Stack, jsii.String("Alerts"), &awssns.TopicProps{
		DisplayName: jsii.String("Mail Connector alerts"),
		MasterKey:   c.Key,
	})
	seen := map[string]bool{}
	var admins []string
	for _, j := range c.Jobs.Jobs {
		for _, a := range j.Notifications.Admins {
			k := strings.ToLower(strings.TrimSpace(a))
			if k == "" || seen[k] {
				continue
			}
			seen[k] = true
			admins = append(admins, k)
		}
	}
	sort.Strings(admins)
	for _, a := range admins {
		// Each address gets a confirmation mail from SNS and must accept it.
		c.Topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(a), nil))
	}
}

func (c *ConnectorStack) defineFunctions(assets map[string]string) {
	common := map[string]*string{
		envnames.Table:         c.Table.TableName(),
		envnames.Bucket:        c.Bucket.BucketName(),
		envnames.LedgerTTLDays: jsii.String(strconv.Itoa(c.Config.LedgerTTLDays)),
		envnames.RunTTLDays:    jsii.String(strconv.Itoa(c.Config.RunTTLDays)),
		envnames.MaxReceives:   jsii.String(strconv.Itoa(maxReceiveCount)),
	}
	extra := map[string]map[string]*string{
		fnFetch: {
			envnames.PreprocessQueueURL: c.Queues[qPreprocess].QueueUrl(),
			envnames.AlertTopicARN:      c.Topic.TopicArn(),
			// The error details are sealed with data keys from the stack's
			// key (encryption context purpose=error-details; kms.go).
			envnames.ErrorKey: c.Key.KeyArn(),
		},
		fnPreprocess: {
			envnames.RulesQueueURL: c.Queues[qRules].QueueUrl(),
		},
		fnRules: {
			envnames.EventBus:      jsii.String(defaultEventBus),
			envnames.AlertTopicARN: c.Topic.TopicArn(),
		},
		fnDeadletter: {
			envnames.AlertTopicARN: c.Topic.TopicArn(),
		},
	}
	if c.Config.SenderAddress != "" {
		extra[fnRules][envnames.SenderAddress] = jsii.String(c.Config.SenderAddress)
	}
	for _, name := range c.FunctionNames {
		spec := functionSpecs[name]
		env := map[string]*string{}
		for k, v := range common {
			env[k] = v
		}
		for k, v := range extra[name] {
			env[k] = v
		}
		// Own role and log group per function: no managed policy (the
		// basic execution role grants logs:* on every log group).
		role := awsiam.NewRole(c.Stack, jsii.String(spec.id+"Role"), &awsiam.RoleProps{
			AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
			Description: jsii.String("Mail Connector " + name + " function"),
		})
		logs := awslogs.NewLogGroup(c.Stack, jsii.String(spec.id+"Logs"), &awslogs.LogGroupProps{
			Retention:     logRetention,
			RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		})
		props := &awslambda.FunctionProps{
			Description:  jsii.String(spec.description),
			Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
			Architecture: awslambda.Architecture_ARM_64(),
			Handler:      jsii.String("bootstrap"),
			Code:         awslambda.Code_FromAsset(jsii.String(assets[name]), nil),
			Timeout:      spec.timeout(),
			MemorySize:   jsii.Number(spec.memoryMB),
			Role:         role,
			LogGroup:     logs,
			Environment:  &env,
		}
		switch name {
		case fnWebhook:
			// Graph sends bursts; a few at once is plenty (a throttled
			// notification is delivered again by Graph).
			props.ReservedConcurrentExecutions = jsii.Number(webhookConcurrency)
		case fnRenew:
			props.RetryAttempts = jsii.Number(0) // the next schedule retries
		}
		if name == fnFetch {
			props.ReservedConcurrentExecutions = jsii.Number(float64(fetchConcurrency(len(c.Jobs.Jobs))))
			// A failed run is not retried at once: the next scheduled run
			// (or follow-up) continues where it stopped.
			props.RetryAttempts = jsii.Number(0)
			props.MaxEventAge = awscdk.Duration_Hours(jsii.Number(1))
		}
		fn := awslambda.NewFunction(c.Stack, jsii.String(spec.id), props)
		c.Functions[name] = fn
		c.Roles[name] = role
		c.LogGroups[name] = logs
	}

	source := func(q awssqs.Queue, maxConc float64) awslambda.IEventSource {
		return awslambdaeventsources.NewSqsEventSource(q, &awslambdaeventsources.SqsEventSourceProps{
			BatchSize:               jsii.Number(sqsBatchSize),
			ReportBatchItemFailures: jsii.Bool(true),
			MaxConcurrency:          jsii.Number(maxConc),
		})
	}
	c.Functions[fnPreprocess].AddEventSource(source(c.Queues[qPreprocess], consumerMaxConc))
	c.Functions[fnRules].AddEventSource(source(c.Queues[qRules], consumerMaxConc))
	c.Functions[fnDeadletter].AddEventSource(source(c.Queues[qPreprocessDLQ], deadletterMaxConc))
	c.Functions[fnDeadletter].AddEventSource(source(c.Queues[qRulesDLQ], deadletterMaxConc))

	if hook, ok := c.Functions[fnWebhook]; ok {
		// AuthType NONE: Graph cannot sign requests with IAM, and a
		// browser following a sign-in link carries no AWS credentials.
		// What protects the URL is in the handler: a notification counts
		// only with the random clientState of a subscription the connector
		// made (compared in constant time), a validation request echoes
		// its token and changes nothing, /signin spends a one-time link
		// (an hour), /callback needs its single-use state and the PKCE
		// verifier kept with it, and every other path answers 404.
		c.WebhookURL = hook.AddFunctionUrl(&awslambda.FunctionUrlOptions{AuthType: awslambda.FunctionUrlAuthType_NONE})
		fetchName := c.Functions[fnFetch].FunctionName()
		hook.AddEnvironment(jsii.String(envnames.FetchFunction), fetchName, nil)
		hook.AddEnvironment(jsii.String(envnames.AlertTopicARN), c.Topic.TopicArn(), nil)
		renew := c.Functions[fnRenew]
		renew.AddEnvironment(jsii.String(envnames.FetchFunction), fetchName, nil)
		renew.AddEnvironment(jsii.String(envnames.AlertTopicARN), c.Topic.TopicArn(), nil)
		renew.AddEnvironment(jsii.String(envnames.WebhookURL), c.WebhookURL.Url(), nil)
	}
}

// webhookConcurrency bounds the webhook's concurrent invocations.
const webhookConcurrency = 5

// pushJobs reports whether any job subscribes to Graph change notifications.
func pushJobs(f *job.File) bool {
	for i := range f.Jobs {
		if f.Jobs[i].Server.Protocol == job.Graph && f.Jobs[i].Push.Enabled {
			return true
		}
	}
	return false
}

// fetchConcurrency is the fetch function's reserved concurrency: one per
// job (a lease keeps a job from running twice at once), at least 2 so a
// follow-up can start while a run ends, at most 20 to spare the mailboxes
// and the account.
func fetchConcurrency(jobs int) int {
	return min(maxFetchConc, max(minFetchConc, jobs))
}

// schedulerRole is a role EventBridge Scheduler assumes to invoke fn (the
// function named name), and nothing else.
func (c *ConnectorStack) schedulerRole(id, name string, fn awslambda.Function) awsiam.Role {
	role := awsiam.NewRole(c.Stack, jsii.String(id), &awsiam.RoleProps{
		Description: jsii.String("EventBridge Scheduler: invoke the Mail Connector " + name + " function"),
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			// Only this account's schedules may use the role (confused deputy).
			Conditions: &map[string]interface{}{
				"StringEquals": map[string]interface{}{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()},
			},
		}),
	})
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("lambda:InvokeFunction"),
		Resources: jsii.Strings(*fn.FunctionArn()),
	}))
	return role
}

func (c *ConnectorStack) defineOutputs() {
	out := func(id, desc string, v *string) {
		awscdk.NewCfnOutput(c.Stack, jsii.String(id), &awscdk.CfnOutputProps{Value: v, Description: jsii.String(desc)})
	}
	out("TableName", "DynamoDB table ("+envnames.Table+")", c.Table.TableName())
	out("BucketName", "S3 bucket for raw and normalized mail ("+envnames.Bucket+")", c.Bucket.BucketName())
	out("AlertTopicArn", "SNS topic for administrator alerts", c.Topic.TopicArn())
	out("KeyArn", "KMS key that encrypts the table, the bucket, the queues and the alert topic, and seals the error details ("+envnames.ErrorKey+")", c.Key.KeyArn())
	out("PreprocessQueueUrl", "the preprocess queue ("+envnames.PreprocessQueueURL+"; connector retry --aws sends retries to it)", c.Queues[qPreprocess].QueueUrl())
	out("FetchFunctionName", "the fetch function (invoke with {\"jobId\":\"ID\"})", c.Functions[fnFetch].FunctionName())
	out("ScheduleGroupName", "EventBridge Scheduler group with one schedule per job", c.ScheduleGroup.Name())
	out("ScheduleSync", "what this deploy did to the jobs' schedules", c.ScheduleSync.GetAttString(jsii.String(schedsync.AttrSummary)))
	out("ScheduleDrift", "schedules edited in EventBridge and kept (connector schedules diff --aws; -c resetSchedules=JOB|all puts the jobs file's back)", c.ScheduleSync.GetAttString(jsii.String(schedsync.AttrDrift)))
	out("DashboardName", "CloudWatch dashboard", c.Dashboard.DashboardName())
	if c.WebhookURL != nil {
		out("WebhookUrl", "the webhook's Function URL: use it for `connector oauth link JOB --url <url>` (sign-in links); Graph posts notifications to <url>notify", c.WebhookURL.Url())
	}
}
