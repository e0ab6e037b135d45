// Package invoke starts a Lambda function asynchronously: how the fetch
// function hands a backlog to a follow-up invocation of itself.
package invoke

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Invoker invokes one function.
type Invoker struct {
	c    *lambda.Client
	name string
}

// New returns an Invoker of the function functionName (a name or ARN).
func New(client *lambda.Client, functionName string) *Invoker {
	return &Invoker{c: client, name: functionName}
}

// InvokeAsync queues an invocation of the function with payload
// (InvocationType Event): Lambda answers 202 once the event is queued and
// runs the function later, retrying it on failure as the function's
// asynchronous invocation settings say.
func (i *Invoker) InvokeAsync(ctx context.Context, payload []byte) error {
	out, err := i.c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(i.name), InvocationType: types.InvocationTypeEvent, Payload: payload})
	if err != nil {
		return fmt.Errorf("invoke: queue an invocation of %s: %w", i.name, err)
	}
	if out.StatusCode != 202 {
		return fmt.Errorf("invoke: queue an invocation of %s: status %d, want 202", i.name, out.StatusCode)
	}
	return nil
}

// Sync invokes the function and waits for its result (the CLI's "run now").
func (i *Invoker) Sync(ctx context.Context, payload []byte) ([]byte, error) {
	out, err := i.c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(i.name), InvocationType: types.InvocationTypeRequestResponse, Payload: payload})
	if err != nil {
		return nil, fmt.Errorf("invoke: run %s: %w", i.name, err)
	}
	if out.FunctionError != nil {
		return out.Payload, fmt.Errorf("invoke: run %s: the function failed (%s): %s", i.name, aws.ToString(out.FunctionError), out.Payload)
	}
	return out.Payload, nil
}
