// Command deadletter is the dead-letter Lambda function: it consumes the
// preprocess and rules dead-letter queues and records each message as
// failed in the ledger, so the next fetch run moves it to the job's error
// folder.
package main

import (
	"context"

	"mailconnector/shared/awsenv"
	"mailconnector/shared/awsenv/awsstage"
	"mailconnector/shared/awsenv/envnames"
)

func main() {
	awsenv.Start(envnames.Deadletter, func(_ context.Context, e *awsenv.Env) (any, error) {
		return awsstage.DeadLetter(e).Handle, nil
	})
}
