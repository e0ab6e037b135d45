package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/kms"

	"mailconnector/shared/awsenv/envnames"
	"mailconnector/shared/blob"
	"mailconnector/shared/blob/sealed"
	"mailconnector/shared/blob/sealed/kmskeys"
	"mailconnector/shared/mailbox/mailtrace"
)

// cmdRunTrace prints the protocol trace stored with run runID of job id.
func cmdRunTrace(ctx context.Context, c *common, id, runID string, stdout io.Writer) error {
	blobs, done, err := traceBlobs(ctx, c)
	if err != nil {
		return err
	}
	defer done()
	r, err := blobs.sealed.Get(ctx, mailtrace.Key(id, runID))
	if errors.Is(err, sealed.ErrTampered) {
		// Stored before traces were sealed, or where they are not.
		r, err = blobs.plain.Get(ctx, mailtrace.Key(id, runID))
	}
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

// traceStores are where runs keep their traces: sealed with the error
// details' key, or plain where runs do not seal them.
type traceStores struct{ sealed, plain blob.Store }

// traceBlobs opens the stores runs keep their traces in: the state
// directory's, sealed with the secrets file's error-details key, or with
// --aws the stack's bucket (CONNECTOR_BUCKET), sealed with its KMS key
// when CONNECTOR_ERROR_KEY names one.
func traceBlobs(ctx context.Context, c *common) (traceStores, func(), error) {
	if !c.aws {
		loc, err := openLocal(c.stateDir)
		if err != nil {
			return traceStores{}, nil, err
		}
		return traceStores{sealed: sealed.New(loc.blobs, &localErrorKey{res: loc.secrets}), plain: loc.blobs}, func() { loc.Close() }, nil
	}
	cfg, ac, err := awsConfig(ctx)
	if err != nil {
		return traceStores{}, nil, err
	}
	if ac.Bucket = os.Getenv(envnames.Bucket); ac.Bucket == "" {
		return traceStores{}, nil, &exitError{code: 2, msg: "connector: runs --trace --aws needs " + envnames.Bucket + " (the stack's bucket)"}
	}
	plain := ac.Blobs(cfg)
	out := traceStores{sealed: plain, plain: plain}
	if key := os.Getenv(envnames.ErrorKey); key != "" {
		out.sealed = sealed.New(plain, kmskeys.New(kms.NewFromConfig(cfg), key, kmskeys.PurposeErrorDetails))
	}
	return out, func() {}, nil
}
