package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"mailconnector/shared/controlchar"
	"mailconnector/shared/demo"
	"mailconnector/shared/event"
	"mailconnector/shared/fetch"
	"mailconnector/shared/job"
	"mailconnector/shared/notify/lognotify"
	"mailconnector/shared/pipeline"
	"mailconnector/shared/request"
	"mailconnector/shared/run"
	"mailconnector/shared/scheduler/ticker"
	"mailconnector/shared/store"
)

// runFlags are the flags of `connector run`.
type runFlags struct {
	once      bool
	only      string
	fetchOnly bool
}

func newRunCmd(a *app) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [--once] [--job ID] [--fetch-only] [--jobs FILE] [--state DIR]",
		Short: "run the jobs file's jobs (no --jobs: the embedded demo)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmdRun(cmd.Context(), &a.common, f, a.stdout, a.stderr)
		},
	}
	cmd.Flags().BoolVar(&f.once, "once", false, "run each job once, wait for its mail to be processed, and exit")
	cmd.Flags().StringVar(&f.only, "job", "", "run only this job (also when it is disabled)")
	cmd.Flags().BoolVar(&f.fetchOnly, "fetch-only", false, "with --once: fetch and record new mail, and leave its processing to the next run")
	return cmd
}

func cmdRun(ctx context.Context, c *common, f runFlags, stdout, stderr io.Writer) error {
	once, only, fetchOnly := &f.once, &f.only, &f.fetchOnly
	log := c.logger(stderr)
	if c.jobsFile == "" && !c.verbose {
		// The demo prints its results; its log only says what went wrong.
		log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}

	if c.aws {
		jobs, err := c.loadJobs()
		if err != nil {
			return err
		}
		chosen := selected(jobs, *only)
		if len(chosen) == 0 {
			return &exitError{code: 2, msg: "connector: no job to run (name one with --job)"}
		}
		b, err := c.backend(ctx)
		if err != nil {
			return err
		}
		defer b.close()
		return runAWS(ctx, b, chosen, stdout)
	}

	var jobs *job.File
	var srv *demo.Server
	stateDir := c.stateDir
	if c.jobsFile == "" {
		var err error
		srv, err = demo.Start()
		if err != nil {
			return err
		}
		defer srv.Close()
		jobs = srv.Jobs()
		stateDir = filepath.Join(c.stateDir, "demo")
		*once = true
		fmt.Fprintf(stdout, "No jobs file given: running the demo job against an embedded IMAP server on %s (state in %s).\n", srv.Addr, stateDir)
	} else {
		var err error
		if jobs, err = c.loadJobs(); err != nil {
			return err
		}
	}
	loc, err := openLocal(stateDir)
	if err != nil {
		return err
	}
	defer loc.Close()
	sec := loc.secrets
	if srv != nil {
		sec = demo.Secrets{Next: sec}
	}
	before, err := loc.store.ListRequests(ctx, "", 1)
	if err != nil {
		return err
	}
	var lastBefore int64
	if len(before) > 0 {
		lastBefore = before[0].Number
	}

	workers := 4
	if srv != nil {
		// One worker per stage keeps the demo's requests numbered in the
		// order the mail arrived, as its sample replies expect.
		workers = 1
	}
	p := pipeline.Build(pipeline.Config{
		Jobs: jobs, Store: loc.store, Blobs: loc.blobs, Workers: workers,
		Opener:    opener{Secrets: sec, Logger: log},
		Notifier:  lognotify.New(log),
		Publisher: logPublisher{log},
		Logger:    log,
	})
	if *fetchOnly {
		failed := 0
		for _, j := range selected(jobs, *only) {
			runs, err := p.FetchJob(ctx, j, "manual")
			for _, r := range runs {
				printRun(stdout, r)
			}
			if err != nil {
				failed++
				fmt.Fprintf(stdout, "job %s: %v\n", j.ID, err)
			}
		}
		if failed > 0 {
			return &exitError{code: 1, msg: fmt.Sprintf("connector: %d jobs failed", failed)}
		}
		return nil
	}
	wctx, stopWorkers := context.WithCancel(ctx)
	wait := p.Start(wctx)
	defer func() { stopWorkers(); wait() }()

	chosen := selected(jobs, *only)
	if *only != "" && len(chosen) == 0 {
		_, err := findJob(jobs, *only)
		return err
	}
	if len(chosen) == 0 {
		return &exitError{code: 1, msg: "connector: no enabled job in the jobs file"}
	}

	if *once {
		failed := 0
		for _, j := range chosen {
			runs, err := p.RunJob(ctx, j, "manual", true)
			for _, r := range runs {
				printRun(stdout, r)
			}
			if err != nil {
				failed++
				fmt.Fprintf(stdout, "job %s: %v\n", j.ID, err)
			}
		}
		if err := printNewRequests(ctx, stdout, loc.store, lastBefore); err != nil {
			return err
		}
		if failed > 0 {
			return &exitError{code: 1, msg: fmt.Sprintf("connector: %d of %d jobs failed", failed, len(chosen))}
		}
		return nil
	}

	// Serve: the in-process queues did not survive the last exit, so each
	// job first puts back what it had in flight; then the ticker takes over.
	for _, j := range chosen {
		if _, err := p.RunJob(ctx, j, "startup", true); err != nil {
			log.Error("startup run", "job", j.ID, "err", err)
		}
	}
	fmt.Fprintf(stdout, "Running %d jobs on their schedules; Ctrl-C stops.\n", len(chosen))
	t := ticker.New(&ticker.Options{Logger: log})
	t.Run(ctx, chosen, func(ctx context.Context, jobID string) {
		j, _ := jobs.Job(jobID)
		runs, err := p.RunJob(ctx, j, "schedule", false)
		for _, r := range runs {
			if r.Fetched > 0 || r.Status == run.Failed {
				printRun(stdout, r)
			}
		}
		var held *fetch.LeaseHeldError
		if err != nil && !errors.As(err, &held) && ctx.Err() == nil {
			log.Error("run failed", "job", jobID, "err", err)
		}
	})
	return nil
}

// selected returns the job named only (enabled or not), or every enabled job.
func selected(jobs *job.File, only string) []*job.Job {
	var out []*job.Job
	for i := range jobs.Jobs {
		j := &jobs.Jobs[i]
		if only != "" {
			if j.ID == only {
				out = append(out, j)
			}
			continue
		}
		if j.IsEnabled() {
			out = append(out, j)
		}
	}
	return out
}

func printRun(w io.Writer, r run.Run) {
	fmt.Fprintf(w, "run %s of job %s (%s): %s in %s — fetched %d (%d bytes), duplicates %d, requeued %d, disposed %d",
		r.ID, r.JobID, r.Trigger, r.Status, r.EndedAt.Sub(r.StartedAt).Round(time.Microsecond), r.Fetched, r.Bytes, r.Duplicates, r.Requeued, r.Disposed)
	if r.More {
		fmt.Fprint(w, ", more to come")
	}
	fmt.Fprintln(w)
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
}

func printNewRequests(ctx context.Context, w io.Writer, st store.Requests, after int64) error {
	newest, err := st.ListRequests(ctx, "", 1)
	if err != nil {
		return fmt.Errorf("list requests: %w", err)
	}
	var total int64 // numbers come from a counter: the newest is the count
	if len(newest) > 0 {
		total = newest[0].Number
	}
	var fresh []request.Request
	if total > after {
		// Only the newest requests are listed (at most 1000).
		all, err := st.ListRequests(ctx, "", int(min(total-after, 1000)))
		if err != nil {
			return fmt.Errorf("list requests: %w", err)
		}
		for _, r := range all {
			if r.Number > after {
				fresh = append(fresh, r)
			}
		}
	}
	fmt.Fprintf(w, "\n%d new requests (%d in all):\n", total-after, total)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for i := len(fresh) - 1; i >= 0; i-- {
		r := fresh[i]
		convs, err := st.Conversations(ctx, r.ID)
		if err != nil {
			return fmt.Errorf("list conversations of request %s: %w", r.ID, err)
		}
		fmt.Fprintf(tw, "  #%d\t%s\t%s\t%d conversation(s)\n", r.Number, truncate(r.Title, 60), shown(r.Requester.String()), len(convs))
	}
	return tw.Flush()
}

// shown is a one-line value for the terminal: control characters
// escaped (controlchar.Escape), so a table cell cannot move the cursor
// or break the line.
func shown(s string) string { return controlchar.Escape(s, false) }

// truncate shows s on one line, cut to n characters.
func truncate(s string, n int) string {
	s = shown(strings.Join(strings.Fields(s), " "))
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// logPublisher publishes events to the log (locally, the event bus).
type logPublisher struct{ log *slog.Logger }

func (p logPublisher) Publish(_ context.Context, e event.Event) error {
	p.log.Info("event", "type", e.Type, "job", e.JobID, "ledgerKey", e.LedgerKey, "request", e.RequestNumber,
		"conversation", e.ConversationID, "reason", e.Reason, "time", e.Time.Format(time.RFC3339))
	return nil
}
