package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"mailconnector/shared/controlchar"
	"mailconnector/shared/request"
	"mailconnector/shared/store"
)

// cmdRequests lists requests, or shows one request with its conversations.
func newRequestsCmd(a *app) *cobra.Command {
	var limit int
	var jobID string
	cmd := &cobra.Command{
		Use:   "requests [ID] [--job ID] [--limit N]",
		Short: "list requests, or show one with its conversations",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmdRequests(cmd.Context(), &a.common, args, jobID, limit, a.stdout)
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 50, "how many requests")
	cmd.Flags().StringVar(&jobID, "job", "", "only this job's requests")
	return cmd
}

func cmdRequests(ctx context.Context, c *common, pos []string, jobID string, limit int, stdout io.Writer) error {
	b, err := c.backend(ctx)
	if err != nil {
		return err
	}
	defer b.close()
	if len(pos) == 0 {
		rs, err := b.store.ListRequests(ctx, jobID, limit)
		if err != nil {
			return fmt.Errorf("list requests: %w", err)
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NUMBER\tJOB\tSTATUS\tCREATED\tREQUESTER\tTITLE")
		for _, r := range rs {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.Number, r.JobID, r.Status,
				r.CreatedAt.Local().Format("2006-01-02 15:04"), shown(r.Requester.Address), truncate(r.Title, 60))
		}
		return tw.Flush()
	}
	var r request.Request
	n, perr := strconv.ParseInt(pos[0], 10, 64)
	if perr == nil {
		r, err = b.store.RequestByNumber(ctx, n)
	} else {
		r, err = b.store.Request(ctx, pos[0])
	}
	if errors.Is(err, store.ErrNotFound) {
		return &exitError{code: 1, msg: fmt.Sprintf("connector: no request %s", pos[0])}
	}
	if err != nil {
		return fmt.Errorf("read request %s: %w", pos[0], err)
	}
	convs, err := b.store.Conversations(ctx, r.ID)
	if err != nil {
		return fmt.Errorf("read conversations of request %s: %w", r.ID, err)
	}
	fmt.Fprintf(stdout, "Request #%d: %s\n", r.Number, shown(r.Title))
	fmt.Fprintf(stdout, "  job %s, status %s, requester %s, created %s\n", r.JobID, r.Status, shown(r.Requester.String()), r.CreatedAt.Local().Format("2006-01-02 15:04"))
	for k, v := range map[string]string{"priority": r.Priority, "category": r.Category, "queue": r.Queue, "assignee": r.Assignee} {
		if v != "" {
			fmt.Fprintf(stdout, "  %s: %s\n", k, shown(v))
		}
	}
	for i, cv := range convs {
		fmt.Fprintf(stdout, "\n--- conversation %d, %s, from %s: %s\n", i+1, cv.CreatedAt.Local().Format("2006-01-02 15:04"), shown(cv.From.String()), shown(cv.Subject))
		fmt.Fprintln(stdout, controlchar.Escape(cv.Text, true))
		for _, a := range cv.Attachments {
			if a.Dropped != "" {
				fmt.Fprintf(stdout, "  [attachment %s dropped: %s]\n", shown(a.Filename), shown(a.Dropped))
			} else {
				fmt.Fprintf(stdout, "  [attachment %s, %s, %d bytes]\n", shown(a.Filename), shown(a.ContentType), a.Size)
			}
		}
	}
	return nil
}
