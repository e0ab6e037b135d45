package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"mailconnector/shared/blob/sealed"
	"mailconnector/shared/controlchar"
	"mailconnector/shared/demo"
	"mailconnector/shared/event"
	"mailconnector/shared/fetch"
	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/notify/lognotify"
	"mailconnector/shared/pipeline"
	"mailconnector/shared/request"
	"mailconnector/shared/run"
	"mailconnector/shared/secrets"
	"mailconnector/shared/secrets/localsecrets"
	"mailconnector/shared/store"
)

// runFlags are the flags of `connector run`.
type runFlags struct {
	once      bool
	only      string
	fetchOnly bool
	trace     bool
}

func newRunCmd(a *app) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [--once] [--job ID] [--fetch-only] [--jobs FILE] [--state DIR]",
		Short: "run the jobs file's jobs (no --jobs: the embedded demo)",
		Long: `Run the jobs file's jobs on their schedules, or each once with --once.
Without --jobs it runs the demo job against an embedded IMAP server.

Exit codes of run --once (for cron scripts, as fetchmail's):
  0  mail was fetched or requests were made
  1  nothing new
  2  connection failure (DNS, TCP, TLS, certificate, STARTTLS, protocol, folder)
  3  authentication failure
  4  configuration error (jobs file, flags, unknown job, missing secret)
  5  any other failure`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmdRun(cmd.Context(), &a.common, f, a.stdout, a.stderr)
		},
	}
	cmd.Flags().BoolVar(&f.once, "once", false, "run each job once, wait for its mail to be processed, and exit")
	cmd.Flags().StringVar(&f.only, "job", "", "run only this job (also when it is disabled)")
	cmd.Flags().BoolVar(&f.fetchOnly, "fetch-only", false, "with --once: fetch and record new mail, and leave its processing to the next run")
	cmd.Flags().BoolVar(&f.trace, "trace", false, "with --once: record each run's protocol conversation (connector runs JOB --trace RUN prints it)")
	cmd.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &exitError{code: exitConfig, msg: fmt.Sprintf("%s: %v\n%s", cmd.CommandPath(), err, cmd.UsageString())}
	})
	return cmd
}

// The exit codes of `connector run --once`.
const (
	exitProcessed  = 0
	exitNothingNew = 1
	exitConnection = 2
	exitAuth       = 3
	exitConfig     = 4
	exitOther      = 5
)

// runExitCode is the exit code a failed job's error calls for.
func runExitCode(err error) int {
	var ce *mailbox.ConnectError
	var pe *localsecrets.PermissionError
	switch {
	case errors.As(err, &ce) && ce.Step == mailbox.StepAuth:
		return exitAuth
	case errors.As(err, &ce):
		return exitConnection
	case errors.Is(err, secrets.ErrNotFound), errors.As(err, &pe):
		return exitConfig
	}
	return exitOther
}

// jobError is err as one line naming the job once: the stages already
// name it, the CLI adds it only when they did not.
func jobError(id string, err error) string {
	msg := err.Error()
	if strings.HasPrefix(msg, "job "+id+": ") {
		return msg
	}
	return "job " + id + ": " + msg
}

// cmdRun runs the chosen jobs: on AWS (--aws), once (--once, --fetch-only,
// the demo), or on their schedules until ctx ends.
func cmdRun(ctx context.Context, c *common, f runFlags, stdout, stderr io.Writer) error {
	if c.aws {
		return runOnAWS(ctx, c, f.only, stdout)
	}
	l, err := startLocalRun(ctx, c, &f, stdout, stderr)
	if err != nil {
		return asConfigError(err, f.once)
	}
	defer l.close()
	if f.fetchOnly {
		return l.fetchOnly(ctx, l.switchable(ctx, f.only), fetch.RunOptions{Trigger: "manual", Force: f.only != "", Trace: f.trace}, stdout)
	}
	chosen, err := l.choose(ctx, f.only)
	if err != nil {
		return asConfigError(err, f.once)
	}
	wait := l.startWorkers(ctx)
	defer wait()
	if f.once {
		return l.runOnce(ctx, chosen, fetch.RunOptions{Trigger: "manual", RequeueAll: true, Force: f.only != "", Trace: f.trace}, stdout)
	}
	return l.serve(ctx, chosen, stdout)
}

// asConfigError gives a usage or configuration failure of run --once
// exit code 4 (a cron script tells it from a connection failure).
func asConfigError(err error, once bool) error {
	var ee *exitError
	if once && errors.As(err, &ee) {
		return &exitError{code: exitConfig, msg: ee.msg}
	}
	if once {
		return &exitError{code: exitOther, msg: "connector: " + err.Error()}
	}
	return err
}

// runOnAWS runs the chosen jobs now on the deployed stack.
func runOnAWS(ctx context.Context, c *common, only string, stdout io.Writer) error {
	jobs, err := c.loadJobs()
	if err != nil {
		return err
	}
	chosen := selected(jobs, only)
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

// localRun is one local run: the jobs, the state they run in and the
// pipeline that runs them.
type localRun struct {
	jobs *job.File
	log  *slog.Logger
	loc  *local
	srv  *demo.Server // the embedded demo server, or nil
	p    *pipeline.Local
	// lastBefore is the number of the newest request before this run.
	lastBefore int64
	// now reads the clock (time.Now; tests set it).
	now func() time.Time
	// prog shows fetch progress (nil: none).
	prog *progress
}

// startLocalRun loads the jobs file (or starts the demo, which runs
// once), opens the state and builds the pipeline.
func startLocalRun(ctx context.Context, c *common, f *runFlags, stdout, stderr io.Writer) (_ *localRun, err error) {
	l := &localRun{log: c.logger(stderr), now: time.Now, prog: progressFor(ctx, c, stderr)}
	if c.jobsFile == "" && !c.verbose {
		// The demo prints its results; its log only says what went wrong.
		l.log = c.loggerAt(stderr, slog.LevelWarn)
	}
	defer func() {
		if err != nil {
			l.close()
		}
	}()
	stateDir := c.stateDir
	if c.jobsFile == "" {
		if l.srv, err = demo.Start(); err != nil {
			return nil, err
		}
		l.jobs = l.srv.Jobs()
		stateDir = filepath.Join(c.stateDir, "demo")
		f.once = true
		fmt.Fprintf(stdout, "No jobs file given: running the demo job against an embedded IMAP server on %s (state in %s).\n", l.srv.Addr, stateDir)
	} else if l.jobs, err = c.loadJobs(); err != nil {
		return nil, err
	}
	if l.loc, err = openLocal(stateDir); err != nil {
		return nil, err
	}
	if l.lastBefore, err = newestRequest(ctx, l.loc.store); err != nil {
		return nil, err
	}
	l.p = l.buildPipeline()
	return l, nil
}

func (l *localRun) close() {
	if l.loc != nil {
		l.loc.Close()
	}
	if l.srv != nil {
		l.srv.Close()
	}
}

// buildPipeline wires the stages on the local state.
func (l *localRun) buildPipeline() *pipeline.Local {
	sec := l.loc.secrets
	// Eight workers per stage: a stage's store writes wait for the
	// state database's group commit, so more messages in hand make fewer,
	// larger commits (go run ./cmd/benchmark -n 2000: end to end 10.0 s
	// with 4, 8.2–8.9 s with 8, no more with 16 or 32; the same peak RSS).
	workers := 8
	if l.srv != nil {
		sec = demo.Secrets{Next: sec}
		// One worker per stage keeps the demo's requests numbered in the
		// order the mail arrived, as its sample replies expect.
		workers = 1
	}
	return pipeline.Build(pipeline.Config{
		Jobs: l.jobs, Store: l.loc.store, Blobs: l.loc.blobs, Workers: workers,
		Opener:    opener{Secrets: sec, Logger: l.log},
		Notifier:  lognotify.New(l.log),
		Publisher: logPublisher{l.log},
		Progress:  l.prog.update,
		Logger:    l.log,
		// Sealed under the key of the secrets file, made at first use.
		ErrorDetails: sealed.New(l.loc.blobs, &localErrorKey{res: l.loc.secrets, create: true}),
	})
}

// choose returns the jobs to run: the one --job names (a forced run), or
// every job that is enabled or has a stored control (switchable).
func (l *localRun) choose(ctx context.Context, only string) ([]*job.Job, error) {
	chosen := l.switchable(ctx, only)
	if only != "" && len(chosen) == 0 {
		_, err := findJob(l.jobs, only)
		return nil, err
	}
	if len(chosen) == 0 {
		return nil, &exitError{code: 1, msg: "connector: no enabled job in the jobs file"}
	}
	return chosen, nil
}

// startWorkers starts the stage workers; wait stops them and waits.
func (l *localRun) startWorkers(ctx context.Context) (wait func()) {
	wctx, stop := context.WithCancel(ctx)
	done := l.p.Start(wctx)
	return func() { stop(); done() }
}

// fetchOnly runs the fetch stage of each job and leaves the processing to
// the next run.
func (l *localRun) fetchOnly(ctx context.Context, jobs []*job.Job, req fetch.RunOptions, stdout io.Writer) error {
	t := l.each(ctx, jobs, req, stdout, l.p.FetchJobWith)
	if t.failed > 0 {
		return &exitError{code: t.code, msg: fmt.Sprintf("connector: %d jobs failed", t.failed)}
	}
	return t.success(0)
}

// runOnce runs each job until its mail is processed, prints the new
// requests, and exits with the code the outcome calls for.
func (l *localRun) runOnce(ctx context.Context, jobs []*job.Job, req fetch.RunOptions, stdout io.Writer) error {
	t := l.each(ctx, jobs, req, stdout, l.p.RunJobWith)
	fresh, err := printNewRequests(ctx, stdout, l.loc.store, l.lastBefore)
	if err != nil {
		return &exitError{code: exitOther, msg: "connector: " + err.Error()}
	}
	if t.failed > 0 {
		return &exitError{code: t.code, msg: fmt.Sprintf("connector: %d of %d jobs failed", t.failed, len(jobs))}
	}
	if l.srv != nil {
		return nil // the demo is not a cron job
	}
	return t.success(fresh)
}

// each runs the jobs one after the other with do, ending each job's
// progress line, and prints and counts their runs.
func (l *localRun) each(ctx context.Context, jobs []*job.Job, req fetch.RunOptions, stdout io.Writer,
	do func(context.Context, *job.Job, fetch.RunOptions) ([]run.Run, error)) runTally {
	var t runTally
	for _, j := range jobs {
		runs, err := do(ctx, j, req)
		l.prog.end()
		t.add(stdout, j, runs, err)
	}
	return t
}

// runTally counts what the runs of one command fetched and which jobs failed.
type runTally struct {
	fetched int
	failed  int
	code    int // the exit code of the first failed job
}

// add prints a job's runs and its error, and counts them.
func (t *runTally) add(w io.Writer, j *job.Job, runs []run.Run, err error) {
	for _, r := range runs {
		printRun(w, r)
		t.fetched += r.Fetched
	}
	if err == nil {
		return
	}
	if t.failed == 0 {
		t.code = runExitCode(err)
	}
	t.failed++
	fmt.Fprintln(w, jobError(j.ID, err))
}

// success is the outcome of runs that all succeeded: nil when mail was
// fetched or requests were made, else "nothing new" (exit 1, no message).
func (t *runTally) success(newRequests int64) error {
	if t.fetched > 0 || newRequests > 0 {
		return nil
	}
	return &exitError{code: exitNothingNew}
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
	fmt.Fprintf(w, "run %s of job %s (%s): %s in %s — fetched %d (%s), duplicates %d, requeued %d, disposed %d",
		r.ID, r.JobID, r.Trigger, r.Status, r.Duration().Round(time.Microsecond), r.Fetched, size(r.Bytes), r.Duplicates, r.Requeued, r.Disposed)
	if r.Created+r.Updated+r.Ignored+r.Rejected+r.Failed+r.ErrorFolder > 0 {
		fmt.Fprintf(w, " — created %d, updated %d, ignored %d, rejected %d, failed %d, error folder %d",
			r.Created, r.Updated, r.Ignored, r.Rejected, r.Failed, r.ErrorFolder)
	}
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
	if r.Trace != "" {
		fmt.Fprintf(w, "  trace: connector runs %s --trace %s\n", r.JobID, r.ID)
	}
}

// newestRequest is the number of the newest request, 0 when there is none.
// Numbers come from a counter: the newest is the count.
func newestRequest(ctx context.Context, st store.Requests) (int64, error) {
	newest, err := st.ListRequests(ctx, "", 1)
	if err != nil {
		return 0, fmt.Errorf("list requests: %w", err)
	}
	if len(newest) == 0 {
		return 0, nil
	}
	return newest[0].Number, nil
}

// newRequestsShown is how many new requests run --once lists at most.
const newRequestsShown = 1000

// printNewRequests prints the requests made after number after, and
// returns how many there are.
func printNewRequests(ctx context.Context, w io.Writer, st store.Requests, after int64) (int64, error) {
	total, err := newestRequest(ctx, st)
	if err != nil {
		return 0, err
	}
	var fresh []request.Request
	if total > after {
		// Only the newest requests are listed (at most newRequestsShown).
		all, err := st.ListRequests(ctx, "", int(min(total-after, newRequestsShown)))
		if err != nil {
			return 0, fmt.Errorf("list requests: %w", err)
		}
		for _, r := range all {
			if r.Number > after {
				fresh = append(fresh, r)
			}
		}
	}
	fmt.Fprintf(w, "\n%d new requests (%d in all):\n", total-after, total)
	tw := newTable()
	tw.indent = "  "
	for i := len(fresh) - 1; i >= 0; i-- {
		r := fresh[i]
		convs, err := st.Conversations(ctx, r.ID)
		if err != nil {
			return 0, fmt.Errorf("list conversations of request %s: %w", r.ID, err)
		}
		tw.row("#"+strconv.FormatInt(r.Number, 10), truncate(r.Title, 60), shown(r.Requester.String()), fmt.Sprintf("%d conversation(s)", len(convs)))
	}
	if err := tw.write(w); err != nil {
		return 0, err
	}
	if n := total - after; n > int64(len(fresh)) {
		fmt.Fprintf(w, "showing %s of %s; `connector requests` for all\n", thousands(int64(len(fresh))), thousands(n))
	}
	return total - after, nil
}

// shown is a one-line value for the terminal: control characters
// escaped (controlchar.Escape), so a table cell cannot move the cursor
// or break the line.
func shown(s string) string { return controlchar.Escape(s, false) }

// logPublisher publishes events to the log (locally, the event bus).
type logPublisher struct{ log *slog.Logger }

func (p logPublisher) Publish(_ context.Context, e event.Event) error {
	p.log.Debug("event", "type", e.Type, "job", e.JobID, "ledgerKey", e.LedgerKey, "request", e.RequestNumber,
		"conversation", e.ConversationID, "reason", e.Reason, "time", e.Time.Format(time.RFC3339))
	return nil
}
