package main

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"
)

// meter counts what is billed by size rather than by call: SQS bills each
// 64 KB chunk of a request's payload as one request, EventBridge each
// 64 KB chunk of each event of a PutEvents.
type meter struct {
	mu sync.Mutex
	c  meterCounts
}

type meterCounts struct {
	sqsBilled int     // SQS requests as billed (64 KB chunks, at least 1 a call)
	events    int     // EventBridge events as billed
	sqsBytes  float64 // largest payload of one SQS request, bytes
}

const chunk = 64 << 10

func chunks(n int) int { return max(1, (n+chunk-1)/chunk) }

func (m *meter) attach(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("benchmark.meter",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				switch awsmiddleware.GetServiceID(ctx) {
				case "SQS":
					m.sqs(in.Parameters, out.Result)
				case "EventBridge":
					if p, ok := in.Parameters.(*eventbridge.PutEventsInput); ok {
						n := 0
						for _, e := range p.Entries {
							n += chunks(len(aws.ToString(e.Detail)) + len(aws.ToString(e.DetailType)) + len(aws.ToString(e.Source)))
						}
						m.mu.Lock()
						m.c.events += n
						m.mu.Unlock()
					}
				}
				return out, md, err
			}), middleware.After)
	})
}

func (m *meter) sqs(in, out any) {
	n := 0
	switch p := in.(type) {
	case *sqs.SendMessageInput:
		n = len(aws.ToString(p.MessageBody))
	case *sqs.SendMessageBatchInput:
		for _, e := range p.Entries {
			n += len(aws.ToString(e.MessageBody))
		}
	}
	if o, ok := out.(*sqs.ReceiveMessageOutput); ok && o != nil {
		for _, msg := range o.Messages {
			n += len(aws.ToString(msg.Body))
		}
	}
	m.mu.Lock()
	m.c.sqsBilled += chunks(n)
	m.c.sqsBytes = max(m.c.sqsBytes, float64(n))
	m.mu.Unlock()
}

func (m *meter) reset() { m.take() }

func (m *meter) take() meterCounts {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.c
	m.c = meterCounts{}
	return c
}
