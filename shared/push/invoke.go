package push

import (
	"context"
	"encoding/json"
)

// AsyncInvoker invokes a function asynchronously (invoke.Invoker).
type AsyncInvoker interface {
	InvokeAsync(ctx context.Context, payload []byte) error
}

// InvokeFetch starts fetch runs by invoking the fetch function with the
// scheduler's payload shape ({"jobId", "trigger"}).
type InvokeFetch struct{ Invoker AsyncInvoker }

// StartFetch invokes the fetch function for the job.
func (f InvokeFetch) StartFetch(ctx context.Context, jobID, trigger string) error {
	b, _ := json.Marshal(map[string]string{"jobId": jobID, "trigger": trigger})
	return f.Invoker.InvokeAsync(ctx, b)
}
