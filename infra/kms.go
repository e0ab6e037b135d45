package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"

	"mailconnector/shared/blob/sealed"
)

// KMS: one customer-managed key, defined here, encrypts the table, the
// bucket, the queues (dead-letter queues included) and the alert topic.
// Rotation is on. Its policy keeps the account's default statement (IAM
// policies decide who in the account uses it) and lets CloudWatch alarms
// publish to the encrypted alert topic. Each function role gets
// kms:Decrypt and kms:GenerateDataKey only through the services it uses
// (kms:ViaService), never the key's administration.
func (c *ConnectorStack) defineKey() {
	c.Key = awskms.NewKey(c.Stack, jsii.String("Key"), &awskms.KeyProps{
		Description:       jsii.String("Mail Connector: table, bucket, queues and alert topic"),
		EnableKeyRotation: jsii.Bool(true),
		// Data encrypted with it outlives a stack deletion (table, bucket).
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	// CloudWatch alarms publish to the topic; SNS needs the publisher to
	// be allowed to use the key
	// (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html).
	c.Key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AlarmsPublishToTheAlertTopic"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"), // in a key policy, "*" is this key
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": c.Stack.Account()}},
	}), jsii.Bool(false))
}

// Services whose use of the key a function may need.
const (
	viaDynamoDB = "dynamodb"
	viaS3       = "s3"
	viaSQS      = "sqs"
	viaSNS      = "sns"
)

// keyServices are the services through which each function uses the key:
// the table (all), the bucket, the queues it sends to or consumes, the
// alert topic it publishes to.
var keyServices = map[string][]string{
	fnFetch:      {viaDynamoDB, viaS3, viaSNS, viaSQS},
	fnPreprocess: {viaDynamoDB, viaS3, viaSQS},
	fnRules:      {viaDynamoDB, viaS3, viaSNS, viaSQS},
	fnDeadletter: {viaDynamoDB, viaSNS, viaSQS},
	fnWebhook:    {viaDynamoDB, viaSNS},
	fnRenew:      {viaDynamoDB, viaSNS},
	fnSchedSync:  {viaDynamoDB, viaSNS},
}

// grantKey lets fn decrypt and make data keys through its services.
func (c *ConnectorStack) grantKey(fn string) {
	var via []*string
	for _, s := range keyServices[fn] {
		via = append(via, jsii.String(s+"."+*c.Stack.Region()+".amazonaws.com"))
	}
	c.Roles[fn].AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"),
		Resources:  &[]*string{c.Key.KeyArn()},
		Conditions: &map[string]any{"StringEquals": map[string]any{"kms:ViaService": via}},
	}))
}

// grantSealing lets fn make data keys of the stack's key for the error
// details and traces it seals (shared/blob/sealed/kmskeys), only with the
// encryption context purpose=error-details, and not through any service.
// It gets no kms:Decrypt for them: opening the sealed details is for the
// operator who exports or retries (kms:Decrypt with the same condition).
func (c *ConnectorStack) grantSealing(fn string) {
	c.Roles[fn].AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings("kms:GenerateDataKey"),
		Resources:  &[]*string{c.Key.KeyArn()},
		Conditions: &map[string]any{"StringEquals": map[string]any{"kms:EncryptionContext:purpose": sealed.PurposeErrorDetails}},
	}))
}
