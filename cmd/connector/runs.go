package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

func newRunsCmd(a *app) *cobra.Command {
	var limit int
	var trace string
	cmd := command("runs JOB [--limit N] [--trace RUN] [--state DIR]", "show a job's recent runs and their errors, or the protocol trace of one", exactArgs(1),
		func(cmd *cobra.Command, args []string) error {
			if trace != "" {
				return cmdRunTrace(cmd.Context(), &a.common, args[0], trace, a.stdout)
			}
			return cmdRuns(cmd.Context(), &a.common, args[0], limit, a.stdout)
		})
	cmd.Flags().IntVar(&limit, "limit", 20, "how many runs")
	cmd.Flags().StringVar(&trace, "trace", "", "print the protocol trace of run RUN (recorded with debug.trace or run --trace)")
	return cmd
}

// cmdRuns shows a job's recent runs, newest first, with their errors.
func cmdRuns(ctx context.Context, c *common, id string, limit int, stdout io.Writer) error {
	b, err := c.jobState(ctx, id)
	if err != nil {
		return err
	}
	defer b.close()
	runs, err := b.store.Runs(ctx, id, limit)
	if err != nil {
		return fmt.Errorf("list runs of job %s: %w", id, err)
	}
	if len(runs) == 0 && c.jobsFile == "" {
		// Without the jobs file, a job that never ran and a misspelt
		// name look the same.
		return &exitError{code: 1, msg: fmt.Sprintf("connector: no runs of job %q recorded in %s (--jobs FILE tells whether the job exists)", id, where(c))}
	}
	if len(runs) == 0 {
		fmt.Fprintf(stdout, "job %s has no runs recorded in %s\n", id, where(c))
		return nil
	}
	tw := newTable("STARTED", "DURATION", "TRIGGER", "STATUS", "FETCHED", "SIZE", "DUPLICATES", "DISPOSED", "ERROR MAILS")
	for _, r := range runs {
		d := "-"
		if !r.EndedAt.IsZero() {
			d = r.Duration().Round(time.Millisecond).String()
		}
		tw.row(r.StartedAt.Local().Format("2006-01-02 15:04:05"), d, r.Trigger, string(r.Status), strconv.Itoa(r.Fetched), size(r.Bytes),
			strconv.Itoa(r.Duplicates), strconv.Itoa(r.Disposed), strconv.Itoa(r.ErrorMails))
		if r.Created+r.Updated+r.Ignored+r.Rejected+r.Failed+r.ErrorFolder > 0 {
			tw.line("  outcomes: created %d, updated %d, ignored %d, rejected %d, failed %d, error folder %d",
				r.Created, r.Updated, r.Ignored, r.Rejected, r.Failed, r.ErrorFolder)
		}
		for _, n := range r.Notes {
			tw.line("  note: %s", shown(n))
		}
		for _, e := range r.Errors {
			tw.line("  error: %s", shown(e))
		}
		if r.Trace != "" {
			tw.line("  trace: connector runs %s --trace %s", id, r.ID)
		}
	}
	return tw.write(stdout)
}

// where names the state a command reads: the directory, or the deployed stack.
func where(c *common) string {
	if c.aws {
		return "the deployed stack"
	}
	return c.stateDir
}
