package push

import (
	"context"

	"mailconnector/shared/scheduler"
)

// AsyncInvoker invokes a function asynchronously (invoke.Invoker).
type AsyncInvoker interface {
	InvokeAsync(ctx context.Context, payload []byte) error
}

// InvokeFetch starts fetch runs by invoking the fetch function with the
// scheduler's payload.
type InvokeFetch struct{ Invoker AsyncInvoker }

// StartFetch invokes the fetch function for the job.
func (f InvokeFetch) StartFetch(ctx context.Context, jobID, trigger string) error {
	return f.Invoker.InvokeAsync(ctx, scheduler.Payload{JobID: jobID, Trigger: trigger}.Encode())
}
