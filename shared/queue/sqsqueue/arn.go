package sqsqueue

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"mailconnector/shared/queue"
)

// Sources finds the queues a Lambda event source delivers from, by the
// ARN each record names (EventSourceARN), and the visibility timeout each
// was created with. It asks SQS once per queue (GetQueueUrl,
// GetQueueAttributes, which an SQS event source's role may call). It is
// safe for concurrent use.
type Sources struct {
	c  *sqs.Client
	mu sync.Mutex
	by map[string]source
}

type source struct {
	q          *Queue
	visibility time.Duration
}

// NewSources returns Sources using client.
func NewSources(client *sqs.Client) *Sources {
	return &Sources{c: client, by: map[string]source{}}
}

// Extender returns the queue of arn (arn:aws:sqs:<region>:<account>:<name>)
// and its visibility timeout.
func (s *Sources) Extender(ctx context.Context, arn string) (queue.Extender, time.Duration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if src, ok := s.by[arn]; ok {
		return src.q, src.visibility, nil
	}
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sqs" || parts[5] == "" {
		return nil, 0, fmt.Errorf("sqsqueue: %q is not a queue ARN", arn)
	}
	in := &sqs.GetQueueUrlInput{QueueName: aws.String(parts[5])}
	if parts[4] != "" {
		in.QueueOwnerAWSAccountId = aws.String(parts[4])
	}
	out, err := s.c.GetQueueUrl(ctx, in)
	if err != nil {
		return nil, 0, fmt.Errorf("sqsqueue: find queue %s: %w", parts[5], err)
	}
	attrs, err := s.c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl,
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameVisibilityTimeout}})
	if err != nil {
		return nil, 0, fmt.Errorf("sqsqueue: visibility timeout of %s: %w", parts[5], err)
	}
	secs, err := strconv.Atoi(attrs.Attributes[string(types.QueueAttributeNameVisibilityTimeout)])
	if err != nil {
		return nil, 0, fmt.Errorf("sqsqueue: visibility timeout of %s: %w", parts[5], err)
	}
	src := source{q: New(s.c, aws.ToString(out.QueueUrl)), visibility: time.Duration(secs) * time.Second}
	s.by[arn] = src
	return src.q, src.visibility, nil
}
