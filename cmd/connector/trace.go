package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"mailconnector/shared/awsenv/envnames"
	"mailconnector/shared/blob"
	"mailconnector/shared/mailbox/mailtrace"
)

// cmdRunTrace prints the protocol trace stored with run runID of job id.
func cmdRunTrace(ctx context.Context, c *common, id, runID string, stdout io.Writer) error {
	blobs, done, err := traceBlobs(ctx, c)
	if err != nil {
		return err
	}
	defer done()
	r, err := blobs.Get(ctx, mailtrace.Key(id, runID))
	if errors.Is(err, blob.ErrNotFound) {
		return &exitError{code: 1, msg: fmt.Sprintf("connector: run %s of job %s has no trace in %s (turn it on with debug.trace in the jobs file)", runID, id, where(c))}
	}
	if err != nil {
		return fmt.Errorf("read the trace of run %s of job %s: %w", runID, id, err)
	}
	defer r.Close()
	_, err = io.Copy(stdout, r)
	return err
}

// traceBlobs is the blob store runs keep their traces in: the state
// directory's, or with --aws the stack's bucket (CONNECTOR_BUCKET).
func traceBlobs(ctx context.Context, c *common) (blob.Store, func(), error) {
	if !c.aws {
		loc, err := openLocal(c.stateDir)
		if err != nil {
			return nil, nil, err
		}
		return loc.blobs, func() { loc.Close() }, nil
	}
	cfg, ac, err := awsConfig(ctx)
	if err != nil {
		return nil, nil, err
	}
	if ac.Bucket = os.Getenv(envnames.Bucket); ac.Bucket == "" {
		return nil, nil, &exitError{code: 2, msg: "connector: runs --trace --aws needs " + envnames.Bucket + " (the stack's bucket)"}
	}
	return ac.Blobs(cfg), func() {}, nil
}
