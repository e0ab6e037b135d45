// Command fetch is the fetch Lambda function: one invocation is one run of
// the job that its EventBridge Scheduler payload names ({"jobId": "..."}).
// It continues a backlog by invoking itself asynchronously.
package main

import (
	"context"

	"mailconnector/shared/awsenv"
	"mailconnector/shared/awsenv/awsfetch"
	"mailconnector/shared/awsenv/envnames"
)

func main() {
	awsenv.Start(envnames.Fetch, func(_ context.Context, e *awsenv.Env) (any, error) {
		h, err := awsfetch.New(e, awsfetch.Options{})
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	})
}
