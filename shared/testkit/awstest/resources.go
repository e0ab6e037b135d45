package awstest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// The resources below each get a name of their own, so the tests of a
// package share one server without a reset between them.

var names atomic.Int64

// Name returns prefix, a dash and a number no other call in this test
// binary returns: a resource name of its own on a shared server.
func Name(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, names.Add(1))
}

// S3 returns an S3 client for this server. It addresses buckets by path
// (http://host/bucket/key), as moto on a loopback port needs.
func (m *Moto) S3() *s3.Client {
	return s3.NewFromConfig(m.Config(), func(o *s3.Options) { o.UsePathStyle = true })
}

// Bucket creates a bucket named after prefix (see Name) and returns an S3
// client and the bucket's name.
func (m *Moto) Bucket(tb testing.TB, prefix string) (*s3.Client, string) {
	tb.Helper()
	c, name := m.S3(), Name(prefix)
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		tb.Fatalf("awstest: create bucket %s: %v", name, err)
	}
	return c, name
}

// Queue is an SQS queue on the server.
type Queue struct {
	URL, ARN string
}

// Queue creates the SQS queue name with the given attributes
// (VisibilityTimeout, RedrivePolicy…) and returns its URL and ARN.
func (m *Moto) Queue(tb testing.TB, name string, attrs map[string]string) Queue {
	tb.Helper()
	ctx := context.Background()
	c := sqs.NewFromConfig(m.Config())
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		tb.Fatalf("awstest: create queue %s: %v", name, err)
	}
	got, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		tb.Fatalf("awstest: queue %s ARN: %v", name, err)
	}
	return Queue{URL: *out.QueueUrl, ARN: got.Attributes["QueueArn"]}
}

// RedrivenQueue creates the queue name-dlq and the queue name, whose
// messages move to name-dlq after maxReceives receives, with the other
// attributes given. It returns both.
func (m *Moto) RedrivenQueue(tb testing.TB, name string, maxReceives int, attrs map[string]string) (q, dlq Queue) {
	tb.Helper()
	dlq = m.Queue(tb, name+"-dlq", nil)
	all := map[string]string{"RedrivePolicy": fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, dlq.ARN, maxReceives)}
	for k, v := range attrs {
		all[k] = v
	}
	return m.Queue(tb, name, all), dlq
}

// ScheduleGroup creates an EventBridge Scheduler schedule group named
// after prefix (see Name) and returns a Scheduler client and the group's
// name.
func (m *Moto) ScheduleGroup(tb testing.TB, prefix string) (*scheduler.Client, string) {
	tb.Helper()
	c, name := scheduler.NewFromConfig(m.Config()), Name(prefix)
	if _, err := c.CreateScheduleGroup(context.Background(), &scheduler.CreateScheduleGroupInput{Name: aws.String(name)}); err != nil {
		tb.Fatalf("awstest: create schedule group %s: %v", name, err)
	}
	return c, name
}
