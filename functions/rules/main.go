// Command rules is the rules Lambda function: it consumes the rules queue
// in batches, stores each message's outcome with its request, and
// publishes events to EventBridge.
package main

import (
	"context"

	"mailconnector/shared/awsenv"
	"mailconnector/shared/awsenv/awsstage"
	"mailconnector/shared/awsenv/envnames"
)

func main() {
	awsenv.Start(envnames.Rules, func(_ context.Context, e *awsenv.Env) (any, error) {
		h, err := awsstage.Rules(e)
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	})
}
