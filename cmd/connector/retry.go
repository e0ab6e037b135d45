package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"mailconnector/shared/awsenv/envnames"
	"mailconnector/shared/fetch"
	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
)

// retryFlags select what `connector retry JOB` retries when no keys are given.
type retryFlags struct {
	status string
	since  time.Duration
}

func newRetryCmd(a *app) *cobra.Command {
	var f retryFlags
	cmd := command("retry JOB (KEY… | --status rejected|failed [--since DURATION]) [--jobs FILE] [--aws]",
		"process rejected or failed messages once more under the current preprocessing rules and statements; one that made a request makes none",
		cobra.MinimumNArgs(1), func(cmd *cobra.Command, args []string) error {
			if (len(args) > 1) == (f.status != "") {
				return usageError(cmd)
			}
			return cmdRetry(cmd.Context(), &a.common, args[0], args[1:], f, a.stdout, a.stderr)
		})
	cmd.Flags().StringVar(&f.status, "status", "", "retry every message of the error folder with this outcome: rejected or failed")
	cmd.Flags().DurationVar(&f.since, "since", 0, "with --status: only those moved there this long ago or later (e.g. 24h)")
	return cmd
}

func cmdRetry(ctx context.Context, c *common, id string, keys []string, f retryFlags, stdout, stderr io.Writer) error {
	var state ledger.State
	switch f.status {
	case "":
	case "rejected":
		state = ledger.Rejected
	case "failed":
		state = ledger.Failed
	default:
		return &exitError{code: 2, msg: fmt.Sprintf("connector: retry --status %q: want rejected or failed", f.status)}
	}
	var since time.Time
	if f.since > 0 {
		since = time.Now().Add(-f.since)
	}
	j, err := c.job(id)
	if err != nil {
		return err
	}
	do := func(svc *fetch.Service) ([]fetch.RetryResult, error) {
		if state != "" {
			return svc.RetryWhere(ctx, j, state, since)
		}
		return svc.Retry(ctx, j, keys)
	}
	var res []fetch.RetryResult
	var outcome func(key string) string
	if c.aws {
		res, outcome, err = retryAWS(ctx, c, do)
	} else {
		res, outcome, err = retryLocal(ctx, c, j, do, stderr)
	}
	if err != nil {
		return fmt.Errorf("retry messages of job %s: %w", j.ID, err)
	}
	return printRetries(stdout, j, res, outcome)
}

// retryLocal retries on the local state and processes the retries at once.
func retryLocal(ctx context.Context, c *common, j *job.Job, do func(*fetch.Service) ([]fetch.RetryResult, error), stderr io.Writer) ([]fetch.RetryResult, func(string) string, error) {
	jobs, err := c.loadJobs()
	if err != nil {
		return nil, nil, err
	}
	loc, err := openLocal(c.stateDir)
	if err != nil {
		return nil, nil, err
	}
	defer loc.Close()
	l := &localRun{jobs: jobs, log: c.logger(stderr), loc: loc}
	l.p = l.buildPipeline()
	wait := l.startWorkers(ctx)
	res, err := do(l.p.Fetch())
	if err == nil {
		err = l.p.Drain(ctx)
	}
	wait()
	if err != nil {
		return nil, nil, err
	}
	outcomes := map[string]string{}
	for _, r := range res {
		if r.NewKey == "" {
			continue
		}
		e, err := loc.store.Entry(ctx, j.ID, r.NewKey)
		if err != nil {
			return nil, nil, err
		}
		outcomes[r.NewKey] = retryOutcome(e)
	}
	return res, func(key string) string { return outcomes[key] }, nil
}

// retryAWS records the retries in the deployed stack and sends them to its
// preprocess queue; the functions process them. A message whose details
// were sealed in the error folder gets its raw copy back from the sealed
// one first, which needs the stack's key (CONNECTOR_ERROR_KEY) and
// kms:Decrypt on it for the caller.
func retryAWS(ctx context.Context, c *common, do func(*fetch.Service) ([]fetch.RetryResult, error)) ([]fetch.RetryResult, func(string) string, error) {
	b, err := c.backend(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer b.close()
	if b.preprocess == nil || b.blobs == nil {
		return nil, nil, &exitError{code: 2, msg: fmt.Sprintf("connector: retry --aws needs %s and %s (the stack's PreprocessQueueUrl and BucketName outputs), and %s (KeyArn) for mail whose details are sealed in the error folder",
			envnames.PreprocessQueueURL, envnames.Bucket, envnames.ErrorKey)}
	}
	opts := fetch.Options{Store: b.store, Blobs: b.blobs, Queue: b.preprocess, Logger: c.logger(io.Discard)}
	if os.Getenv(envnames.ErrorKey) != "" {
		es, err := c.errorDetails(ctx, b, false)
		if err != nil {
			return nil, nil, err
		}
		opts.ErrorDetails = es.details
	}
	res, err := do(fetch.New(opts))
	return res, func(string) string { return "queued for processing" }, err
}

// retryOutcome says what became of a retry.
func retryOutcome(e ledger.Entry) string {
	switch o := e.Outcome(); o {
	case ledger.OutcomeCreated:
		return "created request " + requestRef(e)
	case ledger.OutcomeUpdated:
		return "added to request " + requestRef(e)
	case ledger.OutcomeIgnored:
		if e.Reason != "" {
			return "ignored: " + e.Reason
		}
		return "ignored"
	case ledger.OutcomePending:
		return "queued for processing"
	default:
		if e.Reason != "" {
			return string(o) + " again: " + e.Reason
		}
		return string(o) + " again"
	}
}

func printRetries(stdout io.Writer, j *job.Job, res []fetch.RetryResult, outcome func(string) string) error {
	if len(res) == 0 {
		fmt.Fprintf(stdout, "job %s: nothing to retry\n", j.ID)
		return nil
	}
	missing := 0
	for _, r := range res {
		switch {
		case r.NewKey != "":
			fmt.Fprintf(stdout, "%s: retried as %s: %s\n", shown(r.Key), shown(r.NewKey), shown(outcome(r.NewKey)))
		default:
			if r.Note == "not in the ledger" {
				missing++
			}
			fmt.Fprintf(stdout, "%s: not retried: %s\n", shown(r.Key), shown(r.Note))
		}
	}
	if missing > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("connector: job %s: %d of the keys are not in the ledger (connector messages %s lists them)", j.ID, missing, j.ID)}
	}
	return nil
}
