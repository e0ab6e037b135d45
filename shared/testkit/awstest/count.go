package awstest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// Call names one AWS API operation: the service ID the SDK gives it
// ("DynamoDB", "S3", "SQS", "Secrets Manager"…) and the operation name
// ("PutItem").
type Call struct {
	Service, Operation string
}

func (c Call) String() string { return c.Service + " " + c.Operation }

// Counter counts the AWS API calls made through the configurations it is
// attached to, one per operation a client calls (the SDK's retries of
// it are not counted again). Tests use it to hold a code path to the
// calls it makes; the benchmark to price them.
type Counter struct {
	mu    sync.Mutex
	calls map[Call]int
}

// NewCounter returns a Counter with nothing counted.
func NewCounter() *Counter { return &Counter{calls: map[Call]int{}} }

// Attach makes every client built from cfg afterwards count its calls
// here.
func (c *Counter) Attach(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("awstest.Counter",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				c.add(Call{Service: awsmiddleware.GetServiceID(ctx), Operation: awsmiddleware.GetOperationName(ctx)})
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
}

func (c *Counter) add(k Call) {
	c.mu.Lock()
	c.calls[k]++
	c.mu.Unlock()
}

// Calls returns a copy of the counts.
func (c *Counter) Calls() map[Call]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[Call]int, len(c.calls))
	for k, v := range c.calls {
		out[k] = v
	}
	return out
}

// N returns how often operation of service was called.
func (c *Counter) N(service, operation string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[Call{service, operation}]
}

// Service returns how many calls went to service, all operations.
func (c *Counter) Service(service string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k, v := range c.calls {
		if k.Service == service {
			n += v
		}
	}
	return n
}

// Reset forgets what was counted.
func (c *Counter) Reset() {
	c.mu.Lock()
	c.calls = map[Call]int{}
	c.mu.Unlock()
}

// String lists the counts, one "Service Operation: n" a line, sorted: for
// failure messages.
func (c *Counter) String() string {
	calls := c.Calls()
	keys := make([]Call, 0, len(calls))
	for k := range calls {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %d\n", k, calls[k])
	}
	return b.String()
}
