package main

import (
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	"mailconnector/shared/job"
	"mailconnector/shared/store/dynamostore"
)

// IAM: every function gets exactly what it uses, statement by statement,
// with no resource "*". The resources that still hold a wildcard
// character are listed here and in the README ("Permissions"):
//
//   - S3 object ARNs end in a key prefix pattern (<bucket>/raw/*, norm/*,
//     att/*, err/*, traces/*): object permissions are granted per prefix,
//     which is the point.
//   - Log group ARNs end in ":*" (the log streams, which Lambda names).
//   - Secrets Manager ARNs end in "-??????": a secret referenced by name
//     has an ARN with six random characters that are unknown at synth.
//   - The schedule sync's scheduler ARN ends in schedule/mail-connector/*:
//     the schedules of the connector's group, whose names follow the jobs.
//
// The table's grants name each index ARN instead of <table>/index/*.
//
// On the table, each function gets the item actions its store methods
// make (tableAccessOf), only on the partitions it touches: a
// dynamodb:LeadingKeys condition (ForAllValues:StringLike) lists the
// partition key prefixes of dynamostore's key layout, and for a query on
// an index, the index's partition key prefixes. No function may Scan,
// BatchGetItem or BatchWriteItem; DeleteItem is granted separately, on
// the partitions where the function deletes.

var (
	// Streamed uploads use multipart upload; s3:PutObject covers it, and a
	// failed one is aborted.
	objectWrite = []string{"s3:PutObject", "s3:AbortMultipartUpload"}
	objectRead  = []string{"s3:GetObject"}
)

// tableAccess is what one function does on the table.
type tableAccess struct {
	Actions []string // item actions, on Keys
	Keys    []string // partition key patterns (dynamodb:LeadingKeys)
	Deletes []string // partition key patterns where it deletes items
	// Queries are the index partition key patterns it queries, by index.
	Queries map[string][]string
}

// tableAccessOf follows the store methods each function calls, and the
// DynamoDB calls dynamostore makes for them (a transaction needs the
// actions of its parts).
var tableAccessOf = map[string]tableAccess{
	// leases, cursors, job state (JOB#), Record and disposal (LEDGER#,
	// FP#, the entries' look-up items LWHO#), runs (RUNS#); Unfinished,
	// Undisposed (GSI1) and Runs (GSI2).
	fnFetch: {
		Actions: []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
		Keys:    []string{"FP#*", "JOB#*", "LEDGER#*", "LWHO#*", "RUNS#*"},
		Deletes: []string{"FP#*", "JOB#*"}, // a released lease, a fingerprint taken over
		Queries: map[string][]string{dynamostore.GSI1: {"UNDISPOSED#*", "UNFINISHED#*"}, dynamostore.GSI2: {"LMID#*", "RUNS#*"}},
	},
	// Entry and Update of the message's ledger entry, which indexes it
	// by its sender (LWHO#).
	fnPreprocess: {
		Actions: []string{"dynamodb:GetItem", "dynamodb:PutItem"},
		Keys:    []string{"LEDGER#*", "LWHO#*"},
	},
	// Entry, Update, Commit (ledger, requests and conversations with their
	// parts, the counter, Message-IDs, the outbox), quotas; threading by
	// Message-ID (GSI2) and by subject (requests of the job, GSI2).
	fnRules: {
		Actions: []string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"},
		Keys:    []string{"COUNTER", "LEDGER#*", "MSGID#*", "OUTBOX", "QUOTA#*", "REQ#*"},
		Deletes: []string{"OUTBOX"}, // published events
		Queries: map[string][]string{dynamostore.GSI2: {"LMID#*", "REQS#*"}},
	},
	// Entry and Update of a dead-lettered message's ledger entry.
	fnDeadletter: {
		Actions: []string{"dynamodb:GetItem", "dynamodb:PutItem"},
		Keys:    []string{"LEDGER#*"},
	},
	// Notifications mark a push pending and read the subscription; the
	// lifecycle events replace or drop it (JOB#); sign-in links and OAuth
	// state are one-time values (ONCE#), taken by deleting them.
	fnWebhook: {
		Actions: []string{"dynamodb:GetItem", "dynamodb:PutItem"},
		Keys:    []string{"JOB#*", "ONCE#*"},
		Deletes: []string{"JOB#*", "ONCE#*"},
	},
	// Subscriptions (JOB#): read, renewed, replaced, dropped.
	fnRenew: {
		Actions: []string{"dynamodb:GetItem", "dynamodb:PutItem"},
		Keys:    []string{"JOB#*"},
		Deletes: []string{"JOB#*"},
	},
	// The schedule sync's records (SCHEDULES): listed by a query, put,
	// and deleted with the schedule.
	fnSchedSync: {
		Actions: []string{"dynamodb:Query", "dynamodb:PutItem"},
		Keys:    []string{"SCHEDULES"},
		Deletes: []string{"SCHEDULES"},
	},
}

// leadingKeys is the condition that limits a statement to partitions.
func leadingKeys(patterns []string) *map[string]any {
	return &map[string]any{"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": patterns}}
}

// grantTable gives fn its tableAccess.
func (c *ConnectorStack) grantTable(fn string) {
	a := tableAccessOf[fn]
	stmt := func(actions, keys []string, resource *string) {
		c.Roles[fn].AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings(actions...), Resources: &[]*string{resource}, Conditions: leadingKeys(keys),
		}))
	}
	stmt(a.Actions, a.Keys, c.Table.TableArn())
	if len(a.Deletes) > 0 {
		stmt([]string{"dynamodb:DeleteItem"}, a.Deletes, c.Table.TableArn())
	}
	for _, ix := range storeSchema().Indexes {
		if keys := a.Queries[ix.Name]; len(keys) > 0 {
			stmt([]string{"dynamodb:Query"}, keys, jsii.String(*c.Table.TableArn()+"/index/"+ix.Name))
		}
	}
}

// allow adds one statement to the function's role.
func (c *ConnectorStack) allow(fn string, actions []string, resources ...*string) {
	c.Roles[fn].AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings(actions...),
		Resources: &resources,
	}))
}

func (c *ConnectorStack) objects(prefix string) *string {
	return c.Bucket.ArnForObjects(jsii.String(prefix + "/*"))
}

// grant gives every function its permissions.
func (c *ConnectorStack) grant() {
	for _, fn := range c.FunctionNames {
		// Logs: the function's own log group (":*" covers its streams).
		c.allow(fn, []string{"logs:CreateLogStream", "logs:PutLogEvents"}, c.LogGroups[fn].LogGroupArn())
		c.grantTable(fn)
		c.grantKey(fn)
	}
	// s3:ListBucket on the bucket (not its objects) makes a missing key a
	// 404 (blob.ErrNotFound) instead of a 403 for the functions that read.
	bucket := c.Bucket.BucketArn()

	// fetch: raw mail in, pointers out, itself for follow-ups, secrets, alerts.
	c.allow(fnFetch, append(append([]string{}, objectWrite...), "s3:GetObject", "s3:DeleteObject"), c.objects("raw"))
	c.allow(fnFetch, []string{"s3:ListBucket"}, bucket)
	// Error folder and traces: the sealed details (err/) and the run's
	// protocol trace (traces/) are written, never read, by the function;
	// the plaintext copies of an error mail are removed (the normalized
	// message is read for the attachments it names).
	c.allow(fnFetch, objectWrite, c.objects("err"), c.objects("traces"))
	c.allow(fnFetch, []string{"s3:GetObject", "s3:DeleteObject"}, c.objects("norm"))
	c.allow(fnFetch, []string{"s3:DeleteObject"}, c.objects("att"))
	c.grantSealing(fnFetch)
	c.allow(fnFetch, []string{"sqs:SendMessage"}, c.Queues[qPreprocess].QueueArn())
	c.allow(fnFetch, []string{"sns:Publish"}, c.Topic.TopicArn())
	// The follow-up invocation of itself is a separate policy: on the
	// role's default policy it would make the function depend on its own
	// ARN, a circular dependency.
	awsiam.NewPolicy(c.Stack, jsii.String("FetchSelfInvoke"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{c.Roles[fnFetch]},
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("lambda:InvokeFunction"),
			Resources: &[]*string{c.Functions[fnFetch].FunctionArn()},
		})},
	})
	c.grantSecrets()

	// preprocess: raw in, normalized message and attachments out.
	c.allow(fnPreprocess, objectRead, c.objects("raw"))
	c.allow(fnPreprocess, append(append([]string{}, objectWrite...), objectRead...), c.objects("norm"), c.objects("att"))
	c.allow(fnPreprocess, []string{"s3:ListBucket"}, bucket)
	c.allow(fnPreprocess, []string{"sqs:SendMessage"}, c.Queues[qRules].QueueArn())

	// rules: normalized message in, requests in the table, events out.
	c.allow(fnRules, objectRead, c.objects("norm"), c.objects("att"))
	c.allow(fnRules, []string{"s3:ListBucket"}, bucket)
	c.allow(fnRules, []string{"events:PutEvents"}, c.Stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("events"), Resource: jsii.String("event-bus"), ResourceName: jsii.String(defaultEventBus),
	}))
	// Notices to administrators (dropped attachments) go to the alert topic.
	c.allow(fnRules, []string{"sns:Publish"}, c.Topic.TopicArn())
	if a := c.Config.SenderAddress; a != "" {
		// SES authorizes sending against the verified identity of the From
		// address: the address itself or its domain, whichever is verified,
		// so the resources are those identity ARNs (not "*").
		c.allow(fnRules, []string{"ses:SendEmail", "ses:SendRawEmail"}, sesIdentities(c.Stack, a)...)
	}

	// deadletter: records failures in the table and alerts.
	c.allow(fnDeadletter, []string{"sns:Publish"}, c.Topic.TopicArn())
	// Consuming the queues is granted by the SQS event sources
	// (sqs:ReceiveMessage, DeleteMessage, ChangeMessageVisibility,
	// GetQueueAttributes, GetQueueUrl on each queue's ARN).

	// webhook and renew: start fetch runs, alert; their secrets are in
	// grantSecrets.
	for _, fn := range pushFunctionNames {
		if _, ok := c.Functions[fn]; !ok {
			continue
		}
		c.allow(fn, []string{"lambda:InvokeFunction"}, c.Functions[fnFetch].FunctionArn())
		c.allow(fn, []string{"sns:Publish"}, c.Topic.TopicArn())
	}
}

// grantSecrets lets fetch read the secret of every job (a disabled job may
// still be run by hand), and write back those of oauth2 jobs (rotated
// refresh tokens). Secrets are referenced by name, never created here.
func (c *ConnectorStack) grantSecrets() {
	refs := map[string]bool{} // ref → written
	for _, j := range c.Jobs.Jobs {
		ref := j.Server.Auth.Secret
		refs[ref] = refs[ref] || j.Server.Auth.Method == job.AuthOAuth2
	}
	names := make([]string, 0, len(refs))
	for r := range refs {
		names = append(names, r)
	}
	sort.Strings(names)
	var read, write []*string
	for _, r := range names {
		s := awssecretsmanager.Secret_FromSecretNameV2(c.Stack, jsii.String("Secret-"+constructID(r)), jsii.String(r))
		c.Secrets[r] = s
		// A secret's ARN ends in "-" and six random characters that are
		// unknown at synth: "-??????" matches exactly those (and not
		// another secret whose name merely starts with this one).
		arn := jsii.String(*s.SecretArn() + "-??????")
		read = append(read, arn)
		if refs[r] {
			write = append(write, arn)
		}
	}
	if len(read) > 0 {
		c.allow(fnFetch, []string{"secretsmanager:GetSecretValue"}, read...)
	}
	if len(write) > 0 {
		c.allow(fnFetch, []string{"secretsmanager:PutSecretValue"}, write...)
	}
	// webhook (lifecycle events) and renew sign in to the push jobs'
	// mailboxes for their subscriptions, and keep rotated refresh tokens.
	var push []*string
	seen := map[string]bool{}
	for _, j := range c.Jobs.Jobs {
		ref := j.Server.Auth.Secret
		if j.Server.Protocol != job.Graph || !j.Push.Enabled || seen[ref] {
			continue
		}
		seen[ref] = true
		push = append(push, jsii.String(*c.Secrets[ref].SecretArn()+"-??????"))
	}
	if _, ok := c.Functions[fnRenew]; ok && len(push) > 0 {
		c.allow(fnRenew, []string{"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"}, push...)
	}
	// The webhook also serves sign-in links: it writes the refresh token of
	// any oauth2 job (the same secrets fetch may write back).
	if _, ok := c.Functions[fnWebhook]; ok && len(write) > 0 {
		c.allow(fnWebhook, []string{"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"}, write...)
	}
}

// sesIdentities returns the SES identity ARNs that may authorize sending
// from address: the address and its domain.
func sesIdentities(stack awscdk.Stack, address string) []*string {
	ids := []string{address}
	if at := strings.LastIndexByte(address, '@'); at >= 0 {
		ids = append(ids, address[at+1:])
	}
	var arns []*string
	for _, id := range ids {
		arns = append(arns, stack.FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("ses"), Resource: jsii.String("identity"), ResourceName: jsii.String(id),
		}))
	}
	return arns
}

// constructID makes a construct id from a secret reference: ids may not
// hold "/", and "|" never occurs in a secret name, so no two collide.
func constructID(ref string) string {
	return strings.ReplaceAll(ref, "/", "|")
}
