package main

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"mailconnector/shared/blob"
	"mailconnector/shared/fetch"
	"mailconnector/shared/ledger"
)

func newErrorsExportCmd(a *app) *cobra.Command {
	var out string
	cmd := command("export JOB --out FILE.zip [--state DIR] [--aws]", "write the details of the mails in a job's error folder, decrypted, to a zip: reason, headers and .eml per mail", exactArgs(1),
		func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return &exitError{code: 2, msg: "usage: " + cmd.UseLine() + "\n--out FILE.zip is required"}
			}
			return cmdErrorsExport(cmd.Context(), &a.common, args[0], out, a.stdout)
		})
	cmd.Flags().StringVar(&out, "out", "", "the zip file to write (created with mode 0600)")
	return cmd
}

// cmdErrorsExport writes, for each mail the ledger counts in the job's
// error folder, a directory named after its ledger key with reason.txt,
// headers.txt and message.eml, opened with the key that sealed them.
func cmdErrorsExport(ctx context.Context, c *common, id, out string, stdout io.Writer) error {
	b, err := c.jobState(ctx, id)
	if err != nil {
		return err
	}
	defer b.close()
	st, err := c.errorDetails(ctx, b, false)
	if err != nil {
		return err
	}
	in, err := b.store.ErrorFolder(ctx, id, 0)
	if err != nil {
		return fmt.Errorf("job %s: list the error folder: %w", id, err)
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("job %s: export the error details: %w", id, err)
	}
	zw := zip.NewWriter(f)
	err = exportDetails(ctx, zw, st, in)
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out)
		return fmt.Errorf("job %s: export the error details: %w", id, err)
	}
	fmt.Fprintf(stdout, "job %s: the details of %d mails in the error folder written to %s (decrypted: keep it safe)\n", id, len(in), out)
	return nil
}

func exportDetails(ctx context.Context, zw *zip.Writer, st *errorStores, in []ledger.Entry) error {
	for _, e := range in {
		dir := strings.NewReplacer("/", "_", "\\", "_", ":", "_").Replace(e.Key) + "/"
		for _, part := range []string{fetch.DetailReason, fetch.DetailHeaders, fetch.DetailMessage} {
			rc, err := st.details.Get(ctx, ledger.ErrorDetailKey(e.JobID, e.Key, part))
			if errors.Is(err, blob.ErrNotFound) && part == fetch.DetailMessage && e.RawKey != "" {
				// Not sealed (moved there before sealing, or sealing
				// failed): the raw copy, if it is still stored.
				rc, err = st.blobs.Get(ctx, e.RawKey)
			}
			if errors.Is(err, blob.ErrNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("%s %s: %w", e.Key, part, err)
			}
			w, err := zw.Create(dir + part)
			if err == nil {
				_, err = io.Copy(w, rc)
			}
			rc.Close()
			if err != nil {
				return fmt.Errorf("%s %s: %w", e.Key, part, err)
			}
		}
	}
	return nil
}
