package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// cmdRuns shows a job's recent runs, newest first, with their errors.
func newRunsCmd(a *app) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "runs JOB [--limit N] [--state DIR]",
		Short: "show a job's recent runs and their errors",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmdRuns(cmd.Context(), &a.common, args[0], limit, a.stdout)
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "how many runs")
	return cmd
}

func cmdRuns(ctx context.Context, c *common, id string, limit int, stdout io.Writer) error {
	pos := []string{id}
	b, err := c.backend(ctx)
	if err != nil {
		return err
	}
	defer b.close()
	runs, err := b.store.Runs(ctx, pos[0], limit)
	if err != nil {
		return fmt.Errorf("list runs of job %s: %w", pos[0], err)
	}
	if len(runs) == 0 {
		fmt.Fprintf(stdout, "job %s has no runs recorded in %s\n", pos[0], c.stateDir)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STARTED\tDURATION\tTRIGGER\tSTATUS\tFETCHED\tBYTES\tDUPLICATES\tDISPOSED\tERROR MAILS")
	for _, r := range runs {
		d := "-"
		if !r.EndedAt.IsZero() {
			d = r.EndedAt.Sub(r.StartedAt).Round(time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", r.StartedAt.Local().Format("2006-01-02 15:04:05"), d,
			r.Trigger, r.Status, r.Fetched, r.Bytes, r.Duplicates, r.Disposed, r.ErrorMails)
		for _, n := range r.Notes {
			fmt.Fprintf(tw, "  note: %s\n", shown(n))
		}
		for _, e := range r.Errors {
			fmt.Fprintf(tw, "  error: %s\n", shown(e))
		}
	}
	return tw.Flush()
}
