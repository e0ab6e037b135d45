package main

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"

	"mailconnector/shared/awsenv/envnames"
	"mailconnector/shared/job"
	"mailconnector/shared/metrics"
	"mailconnector/shared/store/dynamostore"
)

func TestMain(m *testing.M) {
	var err error
	sharedDir, err = os.MkdirTemp("", "infra-test-")
	if err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(sharedDir)
	closeJSII()
	os.Exit(code)
}

func TestResourceCounts(t *testing.T) {
	r := example(t)
	for _, tc := range []struct {
		name string
		typ  string
		want float64
	}{
		{"one table", "AWS::DynamoDB::Table", 1},
		{"one bucket", "AWS::S3::Bucket", 1},
		{"two queues and two DLQs", "AWS::SQS::Queue", 4},
		{"five functions", "AWS::Lambda::Function", 5},
		{"preprocess, rules and two DLQ sources", "AWS::Lambda::EventSourceMapping", 4},
		{"one schedule group", "AWS::Scheduler::ScheduleGroup", 1},
		{"no schedule resource: the sync makes the jobs' schedules", "AWS::Scheduler::Schedule", 0},
		{"one schedule sync", "Custom::Schedules", 1},
		{"one alert topic", "AWS::SNS::Topic", 1},
		{"one admin", "AWS::SNS::Subscription", 1},
		{"2 DLQs + 5×(errors, throttles) + 2 jobs", "AWS::CloudWatch::Alarm", 14},
		{"one dashboard", "AWS::CloudWatch::Dashboard", 1},
		{"secrets are referenced, never created", "AWS::SecretsManager::Secret", 0},
		{"function roles and the scheduler's", "AWS::IAM::Role", 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert(t, tc.typ, func() { r.Template.ResourceCountIs(jsii.String(tc.typ), jsii.Number(tc.want)) })
		})
	}
}

func TestNoWarningsOrErrors(t *testing.T) {
	r := example(t)
	a := assertions.Annotations_FromStack(r.C.Stack)
	assert(t, "warnings", func() { a.HasNoWarning(jsii.String("*"), assertions.Match_AnyValue()) })
	assert(t, "errors", func() { a.HasNoError(jsii.String("*"), assertions.Match_AnyValue()) })
}

func TestTableMatchesStoreSchema(t *testing.T) {
	r := example(t)
	// Straight from the adapter's exports: the table it expects.
	s := dynamostore.TableSchema
	key := func(pk, sk string) []any {
		return []any{
			map[string]any{"AttributeName": pk, "KeyType": "HASH"},
			map[string]any{"AttributeName": sk, "KeyType": "RANGE"},
		}
	}
	attrs := []any{}
	str := func(n string) { attrs = append(attrs, map[string]any{"AttributeName": n, "AttributeType": "S"}) }
	str(s.PartitionKey)
	str(s.SortKey)
	var gsis []any
	for _, ix := range s.Indexes {
		str(ix.PartitionKey)
		str(ix.SortKey)
		gsis = append(gsis, map[string]any{
			"IndexName": ix.Name, "KeySchema": key(ix.PartitionKey, ix.SortKey),
			"Projection": map[string]any{"ProjectionType": ix.Projection},
		})
	}
	if len(gsis) == 0 {
		t.Fatal("dynamostore.TableSchema has no indexes")
	}
	want := map[string]any{
		"KeySchema":                        key(s.PartitionKey, s.SortKey),
		"AttributeDefinitions":             attrs,
		"GlobalSecondaryIndexes":           gsis,
		"BillingMode":                      "PAY_PER_REQUEST",
		"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
		"TimeToLiveSpecification":          map[string]any{"AttributeName": s.TTLAttribute, "Enabled": true},
		"SSESpecification": map[string]any{"SSEEnabled": true, "SSEType": "KMS",
			"KMSMasterKeyId": map[string]any{"Fn::GetAtt": []any{r.logicalID(t, "Key"), "Arn"}}},
	}
	assert(t, "table", func() {
		r.Template.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), assertions.Match_ObjectEquals(&want))
	})
	assert(t, "table is retained", func() {
		r.Template.HasResource(jsii.String("AWS::DynamoDB::Table"), map[string]any{"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})
	})
}

// TestOneIndexChangePerUpdate: CloudFormation creates or deletes one
// global secondary index per stack update (an index whose keys or
// projection change is both), so a stack deployed with the indexes
// below, the table's before GSI4, updates to this one only if the two
// differ by one index. When a change here needs more, it takes more
// deployments: add this list's successor and say so in the README.
func TestOneIndexChangePerUpdate(t *testing.T) {
	deployed := map[string]bool{"GSI1 GSI1PK GSI1SK ALL": true, "GSI2 GSI2PK GSI2SK ALL": true, "GSI3 GSI3PK GSI3SK ALL": true}
	changes := 0
	now := map[string]bool{}
	for _, ix := range dynamostore.TableSchema.Indexes {
		k := ix.Name + " " + ix.PartitionKey + " " + ix.SortKey + " " + ix.Projection
		now[k] = true
		if !deployed[k] {
			changes++
			t.Logf("created: %s", k)
		}
	}
	for k := range deployed {
		if !now[k] {
			changes++
			t.Logf("deleted: %s", k)
		}
	}
	if changes > 1 {
		t.Errorf("%d index creations and deletions from the deployed table; CloudFormation takes one per update", changes)
	}
}

func TestBucket(t *testing.T) {
	r := synth(t, synthOptions{Context: map[string]any{"jobsFile": "infra/testdata/jobs.retention.yaml"}})
	assert(t, "bucket", func() {
		r.Template.HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
			"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{
				map[string]any{"BucketKeyEnabled": true, "ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "aws:kms",
					"KMSMasterKeyID": map[string]any{"Fn::GetAtt": []any{r.logicalID(t, "Key"), "Arn"}}}},
			}},
			"PublicAccessBlockConfiguration": map[string]any{
				"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
			},
			"VersioningConfiguration": assertions.Match_Absent(),
			// The longest retention for every job, a rule of its own for a
			// job that keeps a class shorter (S3 honours the shorter).
			"LifecycleConfiguration": map[string]any{"Rules": []any{
				map[string]any{"Id": "expire-raw", "Prefix": "raw/", "ExpirationInDays": 7, "Status": "Enabled"},
				map[string]any{"Id": "expire-traces", "Prefix": "traces/", "ExpirationInDays": 7, "Status": "Enabled"},
				map[string]any{"Id": "expire-norm", "Prefix": "norm/", "ExpirationInDays": 500, "Status": "Enabled"},
				map[string]any{"Id": "expire-att", "Prefix": "att/", "ExpirationInDays": 500, "Status": "Enabled"},
				map[string]any{"Id": "expire-raw-hr", "Prefix": "raw/hr/", "ExpirationInDays": 3, "Status": "Enabled"},
				map[string]any{"Id": "expire-traces-hr", "Prefix": "traces/hr/", "ExpirationInDays": 3, "Status": "Enabled"},
				map[string]any{"Id": "expire-norm-hr", "Prefix": "norm/hr/", "ExpirationInDays": 400, "Status": "Enabled"},
				map[string]any{"Id": "expire-att-hr", "Prefix": "att/hr/", "ExpirationInDays": 400, "Status": "Enabled"},
				map[string]any{"Id": "expire-norm-support", "Prefix": "norm/support/", "ExpirationInDays": 400, "Status": "Enabled"},
				map[string]any{"Id": "expire-att-support", "Prefix": "att/support/", "ExpirationInDays": 400, "Status": "Enabled"},
				map[string]any{"Id": "abort-incomplete-uploads", "AbortIncompleteMultipartUpload": map[string]any{"DaysAfterInitiation": 7}, "Status": "Enabled"},
			}},
		})
	})
	assert(t, "TLS enforced by the bucket policy", func() {
		r.Template.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{
					"Effect": "Deny", "Action": "s3:*", "Principal": map[string]any{"AWS": "*"},
					"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
				}),
			})},
		})
	})
}

// TestKMSKey: one customer-managed key, rotated, retained, encrypts the
// table, bucket, queues and alert topic (the other tests check each), and
// lets CloudWatch alarms publish to the encrypted topic.
func TestKMSKey(t *testing.T) {
	r := example(t)
	keys := r.resources("AWS::KMS::Key")
	if len(keys) != 1 {
		t.Fatalf("KMS keys: got %d, want 1", len(keys))
	}
	p := r.props(t, r.logicalID(t, "Key"))
	if p["EnableKeyRotation"] != true {
		t.Errorf("EnableKeyRotation: got %v, want true", p["EnableKeyRotation"])
	}
	assert(t, "key retained", func() {
		r.Template.HasResource(jsii.String("AWS::KMS::Key"), map[string]any{"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})
	})
	policy := r.render(p["KeyPolicy"])
	for _, w := range []string{`"Service":"cloudwatch.amazonaws.com"`, `"aws:SourceAccount":{"Ref":"AWS::AccountId"}`, "kms:GenerateDataKey*"} {
		if !strings.Contains(policy, w) {
			t.Errorf("key policy %s lacks %s", policy, w)
		}
	}
	outs := r.JSON["Outputs"].(map[string]any)
	if o, ok := outs["KeyArn"].(map[string]any); !ok || r.render(o["Value"]) != "${Key.Arn}" {
		t.Errorf("KeyArn output: got %v, want the key's ARN", outs["KeyArn"])
	}
	if o, ok := outs["PreprocessQueueUrl"].(map[string]any); !ok || r.render(o["Value"]) != "${Queue:preprocess}" {
		t.Errorf("PreprocessQueueUrl output (for connector retry --aws): got %v, want the preprocess queue's URL", outs["PreprocessQueueUrl"])
	}
	// The fetch function seals the error details with the key.
	if got := r.environment(t, fnFetch)[envnames.ErrorKey]; got != "${Key.Arn}" {
		t.Errorf("fetch %s: got %q, want the key's ARN", envnames.ErrorKey, got)
	}
	topic := r.props(t, r.logicalID(t, "Topic"))
	if got, want := r.render(topic["KmsMasterKeyId"]), "${Key.Arn}"; got != want {
		t.Errorf("topic KmsMasterKeyId: got %s, want %s", got, want)
	}
	// No function may administer the key or use it beyond its services.
	for _, fn := range functionNames {
		for action := range r.permissions(t, "Role:"+fn) {
			if strings.HasPrefix(action, "kms:") && action != "kms:Decrypt" && action != "kms:GenerateDataKey" {
				t.Errorf("%s may %s", fn, action)
			}
		}
	}
}

// TestNoBroadTableAccess: no function may Scan or batch on the table,
// use dynamodb:*, or touch it without a partition condition.
func TestNoBroadTableAccess(t *testing.T) {
	for _, r := range []*synthResult{example(t), pushStack(t)} {
		for id, res := range r.resources("AWS::IAM::Policy") {
			doc := res["Properties"].(map[string]any)["PolicyDocument"].(map[string]any)
			for _, st := range list(doc["Statement"]) {
				s := st.(map[string]any)
				for _, a := range list(s["Action"]) {
					a := a.(string)
					if !strings.HasPrefix(a, "dynamodb:") {
						continue
					}
					switch a {
					case "dynamodb:*", "dynamodb:Scan", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem":
						t.Errorf("%s grants %s", id, a)
					}
					c, _ := s["Condition"].(map[string]any)
					lk, _ := c["ForAllValues:StringLike"].(map[string]any)
					if len(list(lk["dynamodb:LeadingKeys"])) == 0 {
						t.Errorf("%s grants %s without a dynamodb:LeadingKeys condition", id, a)
					}
				}
			}
		}
	}
}

func TestQueues(t *testing.T) {
	r := example(t)
	for _, tc := range []struct {
		name       string
		queue      string
		visibility float64 // 6 × the consumer's timeout
		dlq        string
	}{
		{"preprocess", qPreprocess, 6 * 300, qPreprocessDLQ},
		{"rules", qRules, 6 * 60, qRulesDLQ},
		{"preprocess DLQ", qPreprocessDLQ, 6 * 60, ""},
		{"rules DLQ", qRulesDLQ, 6 * 60, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := r.props(t, r.logicalID(t, "Queue:"+tc.queue))
			if got, want := p["QueueName"], "MailConnector-"+tc.queue; got != want {
				t.Errorf("QueueName: got %v, want %v", got, want)
			}
			if got := p["VisibilityTimeout"]; got != tc.visibility {
				t.Errorf("VisibilityTimeout: got %v, want %v", got, tc.visibility)
			}
			if got, want := r.render(p["KmsMasterKeyId"]), "${Key.Arn}"; got != want {
				t.Errorf("KmsMasterKeyId: got %v, want %v", got, want)
			}
			if tc.dlq == "" {
				if got := p["MessageRetentionPeriod"]; got != float64(14*24*3600) {
					t.Errorf("MessageRetentionPeriod: got %v, want 14 days", got)
				}
				if p["RedrivePolicy"] != nil {
					t.Errorf("a DLQ has a RedrivePolicy: %v", p["RedrivePolicy"])
				}
				return
			}
			rp, _ := p["RedrivePolicy"].(map[string]any)
			if got, want := r.render(rp["deadLetterTargetArn"]), "${Queue:"+tc.dlq+".Arn}"; got != want {
				t.Errorf("deadLetterTargetArn: got %s, want %s", got, want)
			}
			if got := rp["maxReceiveCount"]; got != float64(5) {
				t.Errorf("maxReceiveCount: got %v, want 5", got)
			}
		})
	}
}

func TestFunctions(t *testing.T) {
	r := example(t)
	common := map[string]string{
		"CONNECTOR_TABLE":           "${Table}",
		"CONNECTOR_BUCKET":          "${Bucket}",
		"CONNECTOR_LEDGER_TTL_DAYS": "90",
		"CONNECTOR_RUN_TTL_DAYS":    "30",
		"CONNECTOR_MAX_RECEIVES":    "5",
	}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range common {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		fn      string
		timeout float64
		memory  float64
		env     map[string]string
	}{
		{fnFetch, 900, 512, with(map[string]string{
			"CONNECTOR_PREPROCESS_QUEUE_URL": "${Queue:preprocess}",
			"CONNECTOR_ALERT_TOPIC_ARN":      "${Topic}",
			"CONNECTOR_ERROR_KEY":            "${Key.Arn}",
		})},
		{fnPreprocess, 300, 1024, with(map[string]string{"CONNECTOR_RULES_QUEUE_URL": "${Queue:rules}"})},
		{fnRules, 60, 256, with(map[string]string{"CONNECTOR_EVENT_BUS": "default", "CONNECTOR_ALERT_TOPIC_ARN": "${Topic}"})},
		{fnDeadletter, 60, 256, with(map[string]string{"CONNECTOR_ALERT_TOPIC_ARN": "${Topic}"})},
	} {
		t.Run(tc.fn, func(t *testing.T) {
			p := r.props(t, r.logicalID(t, "Function:"+tc.fn))
			for k, want := range map[string]any{
				"Runtime": "provided.al2023", "Handler": "bootstrap",
				"Timeout": tc.timeout, "MemorySize": tc.memory,
			} {
				if got := p[k]; got != want {
					t.Errorf("%s: got %v, want %v", k, got, want)
				}
			}
			if got := r.render(p["Architectures"]); got != "[arm64]" {
				t.Errorf("Architectures: got %s, want [arm64]", got)
			}
			if got, want := r.render(p["Role"]), "${Role:"+tc.fn+".Arn}"; got != want {
				t.Errorf("Role: got %s, want %s", got, want)
			}
			if got, want := r.render(p["LoggingConfig"].(map[string]any)["LogGroup"]), "${Logs:"+tc.fn+"}"; got != want {
				t.Errorf("LogGroup: got %s, want %s", got, want)
			}
			env := map[string]string{}
			for k, v := range p["Environment"].(map[string]any)["Variables"].(map[string]any) {
				env[k] = r.render(v)
			}
			if d := cmp.Diff(tc.env, env); d != "" {
				t.Errorf("environment (-want +got):\n%s", d)
			}
			conc, has := p["ReservedConcurrentExecutions"]
			switch {
			case tc.fn == fnFetch && conc != float64(2):
				t.Errorf("fetch ReservedConcurrentExecutions: got %v, want 2 (2 jobs)", conc)
			case tc.fn != fnFetch && has:
				t.Errorf("%s has reserved concurrency %v", tc.fn, conc)
			}
		})
	}
	assert(t, "fetch is not retried on error", func() {
		r.Template.HasResourceProperties(jsii.String("AWS::Lambda::EventInvokeConfig"), map[string]any{
			"FunctionName":         map[string]any{"Ref": r.logicalID(t, "Function:fetch")},
			"MaximumRetryAttempts": 0,
		})
	})
}

func TestFetchConcurrency(t *testing.T) {
	for _, tc := range []struct {
		name string
		jobs int
		want int
	}{
		{"one job still gets two", 1, 2},
		{"two", 2, 2},
		{"one per job", 7, 7},
		{"twenty", 20, 20},
		{"capped at twenty", 55, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fetchConcurrency(tc.jobs); got != tc.want {
				t.Errorf("fetchConcurrency(%d): got %d, want %d", tc.jobs, got, tc.want)
			}
		})
	}
}

func TestEventSources(t *testing.T) {
	r := example(t)
	got := map[string]string{}
	for _, res := range r.resources("AWS::Lambda::EventSourceMapping") {
		p := res["Properties"].(map[string]any)
		key := r.render(p["EventSourceArn"]) + " → " + r.render(p["FunctionName"])
		sc, _ := p["ScalingConfig"].(map[string]any)
		got[key] = r.render([]any{p["BatchSize"], p["FunctionResponseTypes"], sc["MaximumConcurrency"]})
	}
	want := map[string]string{
		"${Queue:preprocess.Arn} → ${Function:preprocess}":     "[10, [ReportBatchItemFailures], 5]",
		"${Queue:rules.Arn} → ${Function:rules}":               "[10, [ReportBatchItemFailures], 5]",
		"${Queue:preprocess-dlq.Arn} → ${Function:deadletter}": "[10, [ReportBatchItemFailures], 2]",
		"${Queue:rules-dlq.Arn} → ${Function:deadletter}":      "[10, [ReportBatchItemFailures], 2]",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("event sources (-want +got):\n%s", d)
	}
}

func TestAssetsHoldBootstrapAndJobs(t *testing.T) {
	r := example(t)
	for _, fn := range functionNames {
		t.Run(fn, func(t *testing.T) {
			dir := filepath.Join(r.C.Config.StagingDir, fn)
			st, err := os.Stat(filepath.Join(dir, "bootstrap"))
			if err != nil {
				t.Fatalf("bootstrap: %v", err)
			}
			if st.Mode().Perm()&0o111 == 0 {
				t.Errorf("bootstrap mode: got %v, want executable", st.Mode())
			}
			b, _ := os.ReadFile(filepath.Join(dir, "bootstrap"))
			if got, want := string(b), "fake binary of "+fn+"\n"; got != want {
				t.Errorf("bootstrap: got %q, want %q (copied from build/%s)", got, want, fn)
			}
			js, err := os.ReadFile(filepath.Join(dir, "jobs.json"))
			if err != nil {
				t.Fatalf("jobs.json: %v", err)
			}
			// The functions load jobs.json with the same loader.
			f, err := job.Parse(js)
			if err != nil {
				t.Fatalf("jobs.json does not load: %v", err)
			}
			if d := cmp.Diff(r.C.Jobs, f); d != "" {
				t.Errorf("jobs.json differs from the jobs file (-file +json):\n%s", d)
			}
		})
	}
}

func TestCAFileIsStaged(t *testing.T) {
	ca, f, js, cas := privateCAJobs(t, 0o644)
	cfg := Config{StagingDir: t.TempDir(), BuildDir: fakeBuild(t, t.TempDir())}
	staged, placeholder, err := stageFunction(cfg, fnFetch, js, cas)
	if err != nil {
		t.Fatal(err)
	}
	if placeholder {
		t.Error("placeholder used with a build present")
	}
	got, err := os.ReadFile(filepath.Join(staged, "ca", "private-ca.pem"))
	if err != nil {
		t.Fatalf("staged CA file: %v", err)
	}
	if want, _ := os.ReadFile(ca); string(got) != string(want) {
		t.Errorf("staged CA file: got %q, want %q", got, want)
	}
	if got, want := firstCAFile(t, js), "/var/task/ca/private-ca.pem"; got != want {
		t.Errorf("caFile in jobs.json: got %q, want %q", got, want)
	}
	if f.Jobs[0].Server.CAFile != ca {
		t.Errorf("lambdaJobsFile changed the loaded file: caFile %q", f.Jobs[0].Server.CAFile)
	}
}

func TestMissingBuild(t *testing.T) {
	empty := t.TempDir()
	t.Run("fails without allowMissingBuild", func(t *testing.T) {
		_, err := newTestStack(t, synthOptions{BuildDir: empty, Context: map[string]any{"allowMissingBuild": "false"}})
		if !errors.Is(err, ErrMissingBuild) {
			t.Fatalf("got %v, want ErrMissingBuild", err)
		}
		if !strings.Contains(err.Error(), "run make build first") {
			t.Errorf("error %q does not say: run make build first", err)
		}
	})
	t.Run("placeholder with allowMissingBuild", func(t *testing.T) {
		r := synth(t, synthOptions{BuildDir: empty, Context: map[string]any{"allowMissingBuild": "true"}})
		if !r.C.Placeholder {
			t.Error("Placeholder: got false, want true")
		}
		b, err := os.ReadFile(filepath.Join(r.C.Config.StagingDir, fnFetch, "bootstrap"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "PLACEHOLDER") {
			t.Errorf("placeholder bootstrap does not say so: %q", b)
		}
		if !strings.Contains(strings.Join(r.C.Notes, "\n"), "placeholder") {
			t.Errorf("notes do not mention the placeholder: %q", r.C.Notes)
		}
	})
}

func TestBadJobsFileFailsSynth(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ctx   map[string]any
		wants []string
	}{
		{"invalid field", map[string]any{"jobsFile": "infra/testdata/jobs.bad.yaml"},
			[]string{"jobs.bad.yaml", `job "support"`, "server.security", `"ssl"`}},
		{"mail notices without a sender", map[string]any{"jobsFile": "infra/testdata/jobs.notify.yaml"},
			[]string{`job "notify"`, "notifications.notifySenderOnReject", "senderAddress"}},
		{"missing file", map[string]any{"jobsFile": "infra/testdata/nope.yaml"},
			[]string{"read jobs file", "nope.yaml"}},
		{"bad context", map[string]any{"ledgerTtlDays": "thirty"},
			[]string{"context ledgerTtlDays", `"thirty"`}},
		{"retention in the context", map[string]any{"rawMailDays": 14},
			[]string{"context rawMailDays", "defaults.retention.rawDays"}},
		{"bad retention", map[string]any{"jobsFile": "infra/testdata/jobs.retention.bad.yaml"},
			[]string{"jobs.retention.bad.yaml", `job "support"`, "retention.rawDays: must not be zero"}},
		{"bad sender", map[string]any{"senderAddress": "Helpdesk <help@example.com>"},
			[]string{"context senderAddress"}},
		{"bad stack name", map[string]any{"stackName": "mail_connector"},
			[]string{"context stackName", `"mail_connector"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newTestStack(t, synthOptions{Context: tc.ctx})
			if err == nil {
				t.Fatal("got no error")
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestSenderAddress(t *testing.T) {
	r := synth(t, synthOptions{Context: map[string]any{
		"jobsFile":      "infra/testdata/jobs.notify.yaml",
		"senderAddress": "helpdesk@mail.example.com",
	}})
	p := r.props(t, r.logicalID(t, "Function:rules"))
	if got := p["Environment"].(map[string]any)["Variables"].(map[string]any)["CONNECTOR_SENDER_ADDRESS"]; got != "helpdesk@mail.example.com" {
		t.Errorf("CONNECTOR_SENDER_ADDRESS: got %v, want helpdesk@mail.example.com", got)
	}
	perms := r.permissions(t, "Role:rules")
	want := []string{
		"arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/helpdesk@mail.example.com",
		"arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/mail.example.com",
	}
	for _, a := range []string{"ses:SendEmail", "ses:SendRawEmail"} {
		if d := cmp.Diff(want, perms[a]); d != "" {
			t.Errorf("%s resources (-want +got):\n%s", a, d)
		}
	}
}

// wantTable is what each function may do on the table: the item actions
// its store methods make, each only on the partitions it uses.
var wantTable = func() map[string]map[string][]string {
	tbl, gsi1, gsi2 := "${Table.Arn} LeadingKeys=", "${Table.Arn}/index/GSI1 LeadingKeys=", "${Table.Arn}/index/GSI2 LeadingKeys="
	items := func(keys string, actions ...string) map[string][]string {
		m := map[string][]string{}
		for _, a := range actions {
			m["dynamodb:"+a] = []string{tbl + keys}
		}
		return m
	}
	with := func(m map[string][]string, action string, resources ...string) map[string][]string {
		m["dynamodb:"+action] = append(m["dynamodb:"+action], resources...)
		sort.Strings(m["dynamodb:"+action])
		return m
	}
	fetch := items("FP#*,JOB#*,LEDGER#*,LWHO#*,RUNS#*", "GetItem", "PutItem", "UpdateItem")
	with(fetch, "DeleteItem", tbl+"FP#*,JOB#*")
	with(fetch, "Query", gsi1+"UNDISPOSED#*,UNFINISHED#*", gsi2+"LMID#*,RUNS#*")
	rules := items("COUNTER,LEDGER#*,MSGID#*,OUTBOX,QUOTA#*,REQ#*", "GetItem", "Query", "PutItem", "UpdateItem", "ConditionCheckItem")
	with(rules, "DeleteItem", tbl+"OUTBOX")
	with(rules, "Query", gsi2+"LMID#*,REQS#*")
	webhook := items("JOB#*,ONCE#*", "GetItem", "PutItem")
	with(webhook, "DeleteItem", tbl+"JOB#*,ONCE#*")
	renew := items("JOB#*", "GetItem", "PutItem")
	with(renew, "DeleteItem", tbl+"JOB#*")
	return map[string]map[string][]string{
		fnFetch:      fetch,
		fnPreprocess: items("LEDGER#*,LWHO#*", "GetItem", "PutItem"),
		fnRules:      rules,
		fnDeadletter: items("LEDGER#*", "GetItem", "PutItem"),
		fnWebhook:    webhook,
		fnRenew:      renew,
		fnSchedSync:  with(items("SCHEDULES", "Query", "PutItem"), "DeleteItem", tbl+"SCHEDULES"),
	}
}()

// wantKeyServices are the services each function uses the KMS key through.
var wantKeyServices = map[string]string{
	fnFetch: "dynamodb,s3,sns,sqs", fnPreprocess: "dynamodb,s3,sqs", fnRules: "dynamodb,s3,sns,sqs",
	fnDeadletter: "dynamodb,sns,sqs", fnWebhook: "dynamodb,sns", fnRenew: "dynamodb,sns", fnSchedSync: "dynamodb,sns",
}

// fullPermissions is what each function may do in the example stack.
func fullPermissions(secrets []string) map[string]map[string][]string {
	base := func(fn string, more map[string][]string) map[string][]string {
		m := map[string][]string{
			"logs:CreateLogStream": {"${Logs:" + fn + ".Arn}"},
			"logs:PutLogEvents":    {"${Logs:" + fn + ".Arn}"},
		}
		for a, r := range wantTable[fn] {
			m[a] = r
		}
		m["kms:Decrypt"] = []string{"${Key.Arn} ViaService=" + wantKeyServices[fn]}
		m["kms:GenerateDataKey"] = []string{"${Key.Arn} ViaService=" + wantKeyServices[fn]}
		if fn == fnPreprocess || fn == fnRules || fn == fnDeadletter {
			// The SQS event source's grant to consume an encrypted queue.
			m["kms:Decrypt"] = append([]string{"${Key.Arn}"}, m["kms:Decrypt"]...)
		}
		for a, r := range more {
			m[a] = append(m[a], r...)
			sort.Strings(m[a])
		}
		return m
	}
	raw, norm, att := "${Bucket.Arn}/raw/*", "${Bucket.Arn}/norm/*", "${Bucket.Arn}/att/*"
	errs, traces := "${Bucket.Arn}/err/*", "${Bucket.Arn}/traces/*"
	consume := func(queues ...string) map[string][]string {
		m := map[string][]string{}
		for _, a := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"} {
			for _, q := range queues {
				m[a] = append(m[a], "${Queue:"+q+".Arn}")
			}
		}
		return m
	}
	merge := func(ms ...map[string][]string) map[string][]string {
		out := map[string][]string{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = append(out[k], v...)
				sort.Strings(out[k])
			}
		}
		return out
	}
	var secretARNs []string
	for _, s := range secrets {
		secretARNs = append(secretARNs, "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"+s+"-??????")
	}
	return map[string]map[string][]string{
		fnFetch: base(fnFetch, map[string][]string{
			// Raw mail in; an error mail's details sealed (err/), its
			// plaintext copies removed; the run's trace (traces/).
			"s3:PutObject": {errs, raw, traces}, "s3:AbortMultipartUpload": {errs, raw, traces},
			"s3:GetObject": {norm, raw}, "s3:DeleteObject": {att, norm, raw},
			// Sealing: data keys for the error details only, not through a
			// service, and no kms:Decrypt for them.
			"kms:GenerateDataKey":           {"${Key.Arn} Purpose=error-details"},
			"s3:ListBucket":                 {"${Bucket.Arn}"},
			"sqs:SendMessage":               {"${Queue:preprocess.Arn}"},
			"sns:Publish":                   {"${Topic}"},
			"lambda:InvokeFunction":         {"${Function:fetch.Arn}"},
			"secretsmanager:GetSecretValue": secretARNs,
		}),
		fnPreprocess: merge(base(fnPreprocess, map[string][]string{
			"s3:GetObject":            {att, norm, raw},
			"s3:PutObject":            {att, norm},
			"s3:AbortMultipartUpload": {att, norm},
			"s3:ListBucket":           {"${Bucket.Arn}"},
			"sqs:SendMessage":         {"${Queue:rules.Arn}"},
		}), consume(qPreprocess)),
		fnRules: merge(base(fnRules, map[string][]string{
			"s3:GetObject":     {att, norm},
			"s3:ListBucket":    {"${Bucket.Arn}"},
			"events:PutEvents": {"arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"},
			"sns:Publish":      {"${Topic}"},
		}), consume(qRules)),
		fnDeadletter: merge(base(fnDeadletter, map[string][]string{
			"sns:Publish": {"${Topic}"},
		}), consume(qPreprocessDLQ, qRulesDLQ)),
		fnSchedSync: base(fnSchedSync, schedSyncPermissions),
	}
}

func TestLeastPrivilege(t *testing.T) {
	r := example(t)
	want := fullPermissions([]string{"mail/billing", "mail/support"})
	for _, fn := range functionNames {
		t.Run(fn, func(t *testing.T) {
			if d := cmp.Diff(want[fn], r.permissions(t, "Role:"+fn)); d != "" {
				t.Errorf("permissions (-want +got):\n%s", d)
			}
			p := r.props(t, r.logicalID(t, "Role:"+fn))
			if p["ManagedPolicyArns"] != nil {
				t.Errorf("managed policies: %v", p["ManagedPolicyArns"])
			}
		})
	}
	t.Run("scheduler", func(t *testing.T) {
		got := r.permissions(t, "SchedulerRole")
		if d := cmp.Diff(map[string][]string{"lambda:InvokeFunction": {"${Function:fetch.Arn}"}}, got); d != "" {
			t.Errorf("permissions (-want +got):\n%s", d)
		}
		assume := r.render(r.props(t, r.logicalID(t, "SchedulerRole"))["AssumeRolePolicyDocument"])
		for _, w := range []string{`"Service":"scheduler.amazonaws.com"`, `"aws:SourceAccount":{"Ref":"AWS::AccountId"}`} {
			if !strings.Contains(assume, w) {
				t.Errorf("assume role policy %s lacks %s", assume, w)
			}
		}
	})
}

// allowedWildcards are the only resources that may hold * or ?: see the
// list in iam.go.
var allowedWildcards = []string{
	"${Bucket.Arn}/raw/*", "${Bucket.Arn}/norm/*", "${Bucket.Arn}/att/*", "${Bucket.Arn}/err/*", "${Bucket.Arn}/traces/*",
	":secret:",
	"arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/mail-connector/*",
}

func TestNoWildcardResources(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    func(t *testing.T) *synthResult
	}{
		{"example", example},
		{"every schedule form", func(t *testing.T) *synthResult {
			return synth(t, synthOptions{Context: map[string]any{"jobsFile": "infra/testdata/jobs.schedules.yaml"}})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.r(t)
			for id, res := range r.resources("AWS::IAM::Policy") {
				doc := res["Properties"].(map[string]any)["PolicyDocument"].(map[string]any)
				for _, st := range list(doc["Statement"]) {
					for _, v := range list(st.(map[string]any)["Resource"]) {
						s := r.render(v)
						if s == "*" {
							t.Errorf("%s: resource *", id)
							continue
						}
						// Log group ARNs (GetAtt Arn) end in ":*" in
						// CloudFormation, not in the template.
						if !strings.ContainsAny(s, "*?") {
							continue
						}
						ok := false
						for _, w := range allowedWildcards {
							ok = ok || strings.HasPrefix(s, w) || (w == ":secret:" && strings.Contains(s, w) && strings.HasSuffix(s, "-??????") && !strings.Contains(strings.TrimSuffix(s, "-??????"), "*"))
						}
						if !ok {
							t.Errorf("%s: resource %s holds a wildcard not listed in iam.go", id, s)
						}
					}
				}
			}
		})
	}
}

func TestSecretsOAuth2MayWriteBack(t *testing.T) {
	r := synth(t, synthOptions{Context: map[string]any{"jobsFile": "infra/testdata/jobs.schedules.yaml"}})
	perms := r.permissions(t, "Role:fetch")
	arn := func(s string) string {
		return "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:" + s + "-??????"
	}
	var read []string
	for _, s := range []string{"graph/tenant", "mail/daily", "mail/ended", "mail/every5", "mail/monthly", "mail/off", "mail/once", "mail/shared", "mail/started", "mail/weekly", "mail/yearly"} {
		read = append(read, arn(s))
	}
	if d := cmp.Diff(read, perms["secretsmanager:GetSecretValue"]); d != "" {
		t.Errorf("GetSecretValue (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{arn("graph/tenant")}, perms["secretsmanager:PutSecretValue"]); d != "" {
		t.Errorf("PutSecretValue, only the oauth2 job's (-want +got):\n%s", d)
	}
	if got, want := r.props(t, r.logicalID(t, "Function:fetch"))["ReservedConcurrentExecutions"], float64(12); got != want {
		t.Errorf("fetch ReservedConcurrentExecutions: got %v, want %v (12 jobs)", got, want)
	}
	// Admins de-duplicated regardless of case.
	var subs []string
	for _, res := range r.resources("AWS::SNS::Subscription") {
		p := res["Properties"].(map[string]any)
		subs = append(subs, p["Protocol"].(string)+":"+p["Endpoint"].(string))
	}
	sort.Strings(subs)
	if d := cmp.Diff([]string{"email:ops@example.com", "email:second@example.com"}, subs); d != "" {
		t.Errorf("subscriptions (-want +got):\n%s", d)
	}
}

func TestAlarms(t *testing.T) {
	r := example(t)
	type alarm struct{ Metric, Dimension, Stat, Threshold, Missing string }
	got := map[string]alarm{}
	for id, res := range r.resources("AWS::CloudWatch::Alarm") {
		p := res["Properties"].(map[string]any)
		if a := r.render(p["AlarmActions"]); a != "[${Topic}]" {
			t.Errorf("%s: AlarmActions %s, want [${Topic}]", id, a)
		}
		if p["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" || p["EvaluationPeriods"] != float64(1) {
			t.Errorf("%s: %v over %v periods, want GreaterThanOrEqualToThreshold over 1", id, p["ComparisonOperator"], p["EvaluationPeriods"])
		}
		got[p["AlarmName"].(string)] = alarm{
			Metric:    r.render(p["Namespace"]) + "/" + r.render(p["MetricName"]),
			Dimension: r.render(p["Dimensions"]),
			Stat:      r.render(p["Statistic"]),
			Threshold: r.render(p["Threshold"]),
			Missing:   r.render(p["TreatMissingData"]),
		}
	}
	fnDim := func(fn string) string {
		return `[{"Name":"FunctionName","Value":{"Ref":"` + r.logicalID(t, "Function:"+fn) + `"}}]`
	}
	qDim := func(q string) string {
		return `[{"Name":"QueueName","Value":{"Fn::GetAtt":["` + r.logicalID(t, "Queue:"+q) + `","QueueName"]}}]`
	}
	want := map[string]alarm{
		"MailConnector-preprocess-dlq":         {"AWS/SQS/ApproximateNumberOfMessagesVisible", qDim(qPreprocessDLQ), "Maximum", "1", "notBreaching"},
		"MailConnector-rules-dlq":              {"AWS/SQS/ApproximateNumberOfMessagesVisible", qDim(qRulesDLQ), "Maximum", "1", "notBreaching"},
		"MailConnector-job-support-connection": {metrics.Namespace + "/" + metrics.ConsecutiveConnectionFailures, `[{"Name":"JobId","Value":"support"}]`, "Maximum", "5", "ignore"},
		"MailConnector-job-billing-connection": {metrics.Namespace + "/" + metrics.ConsecutiveConnectionFailures, `[{"Name":"JobId","Value":"billing"}]`, "Maximum", "5", "ignore"},
	}
	for _, fn := range functionNames {
		want["MailConnector-"+fn+"-errors"] = alarm{"AWS/Lambda/Errors", fnDim(fn), "Sum", "1", "notBreaching"}
		want["MailConnector-"+fn+"-throttles"] = alarm{"AWS/Lambda/Throttles", fnDim(fn), "Sum", "1", "notBreaching"}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("alarms (-want +got):\n%s", d)
	}

	// The threshold follows notifications.connectionFailures.
	s := synth(t, synthOptions{Context: map[string]any{"jobsFile": "infra/testdata/jobs.schedules.yaml"}})
	assert(t, "connection alarm of job rate", func() {
		s.Template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
			"AlarmName": "MailConnector-job-rate-connection", "Threshold": 3,
			"MetricName": metrics.ConsecutiveConnectionFailures, "Namespace": metrics.Namespace,
		})
	})
}

func TestDashboard(t *testing.T) {
	r := example(t)
	var body string
	for _, res := range r.resources("AWS::CloudWatch::Dashboard") {
		p := res["Properties"].(map[string]any)
		body = r.render(p["DashboardBody"])
		if got, want := r.render(p["DashboardName"]), "MailConnector-${AWS::Region}"; got != want {
			t.Errorf("DashboardName: got %s, want %s", got, want)
		}
	}
	if body == "" {
		t.Fatal("no dashboard")
	}
	for _, jobID := range []string{"support", "billing"} {
		for _, m := range []string{metrics.MessagesFetched, metrics.MessagesProcessed, metrics.MessagesFailed, metrics.RunDuration, metrics.Backlog} {
			w := `["` + metrics.Namespace + `","` + m + `","JobId","` + jobID + `"`
			if !strings.Contains(body, w) {
				t.Errorf("dashboard lacks %s", w)
			}
		}
	}
	for _, q := range []string{qPreprocess, qRules, qPreprocessDLQ, qRulesDLQ} {
		if w := `"AWS/SQS","ApproximateNumberOfMessagesVisible","QueueName","${Queue:` + q + `.QueueName}"`; !strings.Contains(body, w) {
			t.Errorf("dashboard lacks the depth of %s: %s", q, w)
		}
	}
	for _, fn := range functionNames {
		if w := `"AWS/Lambda","Errors","FunctionName","${Function:` + fn + `}"`; !strings.Contains(body, w) {
			t.Errorf("dashboard lacks the errors of %s: %s", fn, w)
		}
	}
}
