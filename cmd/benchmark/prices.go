package main

// Public us-east-1 list prices, on-demand, without free tiers or
// savings plans, read on pricesRead. AWS's own pricing pages render most
// figures from scripts, so where the stored copy of the page did not show
// the number, the source named is the page that did; "known" marks a
// figure no page read that day showed, used as it stood at the last AWS
// price change known here (re-check it before relying on it).

const pricesRead = "2026-12-06"

type price struct {
	name   string
	usd    float64 // per unit
	unit   string
	source string
}

var (
	priceDynamoWrite = price{"DynamoDB on-demand write request unit", 0.625 / 1e6, "WRU",
		"aws.amazon.com/dynamodb/pricing/on-demand (units); $0.625 per million WRU as quoted by airbyte.com/data-engineering-resources/dynamodb-pricing"}
	priceDynamoRead = price{"DynamoDB on-demand read request unit", 0.125 / 1e6, "RRU",
		"as above: $0.125 per million RRU"}
	priceDynamoStorage = price{"DynamoDB Standard storage", 0.25, "GB-month", "known: $0.25 per GB-month after the first 25 GB"}
	priceS3Put         = price{"S3 Standard PUT, COPY, POST, LIST", 0.005 / 1000, "request",
		"cloudkaramchari.com (per 1,000 PUT, COPY, POST or LIST requests, $0.005)"}
	priceS3Get = price{"S3 Standard GET and other requests", 0.0004 / 1000, "request",
		"known: $0.0004 per 1,000 GET requests (aws.amazon.com/s3/pricing rendered no figure)"}
	priceS3Storage = price{"S3 Standard storage", 0.023, "GB-month", "known: $0.023 per GB-month, first 50 TB"}
	priceSQS       = price{"SQS standard request (per 64 KB chunk)", 0.40 / 1e6, "request",
		"cloudburn.io/blog/amazon-sqs-pricing (March 2026) and factualminds.com: $0.40 per million"}
	priceLambdaRequest = price{"Lambda request", 0.20 / 1e6, "request",
		"aws.amazon.com/lambda/pricing examples; $0.20 per million"}
	priceLambdaArm = price{"Lambda arm64 duration", 0.0000133334, "GB-second",
		"cloudchipr.com/blog/aws-lambda-pricing: Arm, first 7.5 billion GB-s, $0.0000133334"}
	priceScheduler = price{"EventBridge Scheduler invocation", 1.00 / 1e6, "invocation",
		"AWS price list (AWSEvents, 2025-01-01): first 14 million a month free; $1.00 per million in us-east-1 is known, the page read showed Tokyo's $1.25"}
	priceEvents = price{"EventBridge custom event (per 64 KB)", 1.00 / 1e6, "event",
		"wring.co/blog/aws-eventbridge-pricing-guide: $1.00 per million custom events"}
	priceKMSRequest = price{"KMS symmetric request", 0.03 / 10000, "request",
		"aws.amazon.com/kms/pricing (20,000 free a month); wring.co/blog/aws-kms-pricing-guide: $0.03 per 10,000"}
	priceKMSKey         = price{"KMS customer managed key", 1.00, "key-month", "aws.amazon.com/kms/pricing: $1 a month"}
	priceSecretsRequest = price{"Secrets Manager API call", 0.05 / 10000, "call",
		"hivebook.wiki (AWS Secrets Manager): $0.05 per 10,000 API calls"}
	priceSecret     = price{"Secrets Manager secret", 0.40, "secret-month", "as above: $0.40 per secret a month"}
	priceLogsIngest = price{"CloudWatch Logs ingestion (standard)", 0.50, "GB",
		"factualminds.com (CloudWatch pricing): $0.50 per GB"}
	priceMetric = price{"CloudWatch custom metric", 0.30, "metric-month",
		"signoz.io/guides/cloudwatch-pricing: $0.30 a metric a month (first 10,000), prorated by the hour it is sent in"}
	priceAlarm = price{"CloudWatch standard alarm", 0.10, "alarm-month", "known: $0.10 an alarm a month (aws.amazon.com/cloudwatch/pricing lists 10 free)"}
)
