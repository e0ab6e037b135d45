package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"mailconnector/shared/fetch"
)

func newErrorsMoveBackCmd(a *app) *cobra.Command {
	return command("move-back JOB [--jobs FILE] [--state DIR] [--aws]", "move every mail of a job's error folder back to the job's folder; the next run processes each once more", exactArgs(1),
		func(cmd *cobra.Command, args []string) error {
			return cmdErrorsMoveBack(cmd.Context(), &a.common, args[0], a.stdout)
		})
}

// cmdErrorsMoveBack is SupportCenter Plus's "Move mails to inbox": the
// mails the ledger counts in the job's error folder go back to the job's
// folder on the server, and leave the count.
func cmdErrorsMoveBack(ctx context.Context, c *common, id string, stdout io.Writer) error {
	j, b, err := c.jobBackend(ctx, id)
	if err != nil {
		return err
	}
	defer b.close()
	svc := fetch.New(fetch.Options{Store: b.store, Opener: opener{Secrets: b.secrets, Logger: c.logger(io.Discard)}, Logger: c.logger(io.Discard)})
	res, err := svc.MoveBack(ctx, j)
	if errors.Is(err, fetch.ErrNoFolders) {
		return &exitError{code: 1, msg: "connector: " + err.Error()}
	}
	if err != nil {
		return fmt.Errorf("move the error folder of job %s back: %w", j.ID, err)
	}
	fmt.Fprintf(stdout, "job %s: %d mails moved back to %s; the next run processes them again\n", j.ID, res.Moved, folderOrInbox(j.Server.Folder))
	if res.Gone > 0 {
		fmt.Fprintf(stdout, "  %d mails no longer in the error folder (moved or deleted by hand): no longer counted\n", res.Gone)
	}
	for _, l := range res.Left {
		fmt.Fprintf(stdout, "  left in the error folder: %s\n", l)
	}
	if len(res.Left) > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("connector: job %s: %d mails could not be moved back", j.ID, len(res.Left))}
	}
	return nil
}

func folderOrInbox(f string) string {
	if f == "" {
		return "INBOX"
	}
	return f
}
