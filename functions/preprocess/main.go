// Command preprocess is the preprocess Lambda function: it consumes the
// preprocess queue in batches and reports partial batch failures.
package main

import (
	"context"

	"mailconnector/shared/awsenv"
	"mailconnector/shared/awsenv/awsstage"
	"mailconnector/shared/awsenv/envnames"
)

func main() {
	awsenv.Start(envnames.Preprocess, func(_ context.Context, e *awsenv.Env) (any, error) {
		h, err := awsstage.Preprocess(e)
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	})
}
