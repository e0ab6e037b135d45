// Command renew is the renew Lambda function, run on its own schedule:
// it subscribes every push-enabled Graph job to change notifications,
// renews the subscriptions that expire within a day, subscribes again
// where Graph dropped one, and unsubscribes jobs that no longer push. It
// also signs in for every oauth2 job and alerts when that fails.
package main

import (
	"context"
	"fmt"

	"mailconnector/shared/awsenv"
	"mailconnector/shared/awsenv/awspush"
	"mailconnector/shared/awsenv/envnames"
	"mailconnector/shared/push"
)

func main() {
	awsenv.Start(envnames.Renew, func(_ context.Context, a *awsenv.Env) (any, error) {
		e, err := awspush.New(a)
		if err != nil {
			return nil, err
		}
		return renew(e), nil
	})
}

func renew(e *awspush.Env) func(ctx context.Context) ([]push.JobReport, error) {
	return func(ctx context.Context) ([]push.JobReport, error) {
		reps := e.Service.Renew(ctx)
		for _, r := range reps {
			if r.Action == "failed" || r.Action == "sign-in failing" {
				// Reported to the administrators; the error makes the
				// function's Errors alarm see it too.
				return reps, fmt.Errorf("renew: job %s: %s", r.JobID, r.Error)
			}
		}
		return reps, nil
	}
}
