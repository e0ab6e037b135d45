package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"mailconnector/shared/controlchar"
	"mailconnector/shared/job"
	"mailconnector/shared/request"
	"mailconnector/shared/rules"
	"mailconnector/shared/store"
)

func newRequestsCmd(a *app) *cobra.Command {
	var limit int
	var jobID string
	cmd := command("requests [ID] [--job ID] [--limit N]", "list requests, or show one with its conversations", argsBetween(0, 1),
		func(cmd *cobra.Command, args []string) error {
			return cmdRequests(cmd.Context(), &a.common, args, jobID, limit, a.stdout)
		})
	cmd.Flags().IntVar(&limit, "limit", 50, "how many requests")
	cmd.Flags().StringVar(&jobID, "job", "", "only this job's requests")
	return cmd
}

// cmdRequests lists requests, or shows one request with its conversations.
func cmdRequests(ctx context.Context, c *common, args []string, jobID string, limit int, stdout io.Writer) error {
	b, err := c.backend(ctx)
	if err != nil {
		return err
	}
	defer b.close()
	if len(args) == 0 {
		rs, err := b.store.ListRequests(ctx, jobID, limit)
		if err != nil {
			return fmt.Errorf("list requests: %w", err)
		}
		tw := newTable("NUMBER", "JOB", "STATUS", "CREATED", "REQUESTER", "TITLE")
		for _, r := range rs {
			tw.row(strconv.FormatInt(r.Number, 10), r.JobID, string(r.Status),
				r.CreatedAt.Local().Format("2006-01-02 15:04"), shown(r.Requester.Address), truncate(r.Title, 60))
		}
		return tw.write(stdout)
	}
	var r request.Request
	if n, ok := c.requestNumber(args[0]); ok {
		r, err = b.store.RequestByNumber(ctx, n)
	} else {
		r, err = b.store.Request(ctx, args[0])
	}
	if errors.Is(err, store.ErrNotFound) {
		return &exitError{code: 1, msg: fmt.Sprintf("connector: no request %s", args[0])}
	}
	if err != nil {
		return fmt.Errorf("read request %s: %w", args[0], err)
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
				fmt.Fprintf(stdout, "  [attachment %s, %s, %s]\n", shown(a.Filename), shown(a.ContentType), size(a.Size))
			}
		}
	}
	return nil
}

// requestNumber reads a request number as the operator may give it: 42,
// or the subject token ([REQ-000042], REQ-000042) in the default format or
// a format of the jobs file.
func (c *common) requestNumber(arg string) (int64, bool) {
	if n, err := strconv.ParseInt(arg, 10, 64); err == nil {
		return n, true
	}
	formats := []string{job.DefaultRequestToken}
	if c.jobsFile != "" {
		if f, err := job.LoadFile(c.jobsFile); err == nil {
			for _, j := range f.Jobs {
				formats = append(formats, j.Processing.RequestToken)
			}
		}
	}
	for _, format := range formats {
		// The token as written, or without its brackets.
		for _, f := range []string{format, strings.Trim(format, "[]()<> ")} {
			if !strings.Contains(f, "{number}") {
				continue
			}
			if sm := rules.TokenPattern(f).FindStringSubmatch(arg); sm != nil && sm[0] == arg {
				n, err := strconv.ParseInt(sm[1], 10, 64)
				return n, err == nil
			}
		}
	}
	return 0, false
}
