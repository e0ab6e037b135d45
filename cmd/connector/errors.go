package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"mailconnector/shared/fetch"
)

func newErrorsCmd(a *app) *cobra.Command {
	clearCmd := command("clear JOB [--state DIR]", "forget the mails counted in a job's error folder, so a job paused by stopAfter fetches again", exactArgs(1),
		func(cmd *cobra.Command, args []string) error {
			return cmdErrorsClear(cmd.Context(), &a.common, args[0], a.stdout)
		})
	return group("errors", "a job's error folder", clearCmd, newErrorsMoveBackCmd(a), newErrorsExportCmd(a))
}

// cmdErrorsClear clears the job's error-folder count; the mails stay
// where they are on the server.
func cmdErrorsClear(ctx context.Context, c *common, id string, stdout io.Writer) error {
	b, err := c.jobState(ctx, id)
	if err != nil {
		return err
	}
	defer b.close()
	n, err := fetch.New(fetch.Options{Store: b.store}).ClearErrors(ctx, id)
	if err != nil {
		return fmt.Errorf("clear the error folder of job %s: %w", id, err)
	}
	fmt.Fprintf(stdout, "job %s: %d mails in the error folder cleared (they stay on the server); fetching resumes at the next run\n", id, n)
	return nil
}
