package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	awsscheduler "github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/spf13/cobra"

	"mailconnector/shared/awsenv/envnames"
	"mailconnector/shared/job"
	"mailconnector/shared/schedsync"
	"mailconnector/shared/scheduler"
	"mailconnector/shared/scheduler/ebscheduler"
	"mailconnector/shared/store"
)

// defaultScheduleGroup is the stack's schedule group (its
// ScheduleGroupName output); CONNECTOR_SCHEDULE_GROUP overrides it.
const defaultScheduleGroup = "mail-connector"

func newSchedulesCmd(a *app) *cobra.Command {
	return group("schedules", "the jobs' EventBridge schedules: the jobs file's plan, the last deploy's, and edits made in EventBridge",
		command("diff [JOB] [--jobs FILE] [--aws]",
			"per job: the jobs file's schedule, what the last deploy wrote, and what EventBridge holds now, in words", argsBetween(0, 1),
			func(cmd *cobra.Command, args []string) error {
				return cmdSchedulesDiff(cmd.Context(), &a.common, args, time.Now(), a.stdout)
			}),
		command("adopt JOB [--jobs FILE] --aws",
			"print the job's schedule as EventBridge holds it, as jobs file YAML to paste", exactArgs(1),
			func(cmd *cobra.Command, args []string) error {
				return cmdSchedulesAdopt(cmd.Context(), &a.common, args[0], a.stdout)
			}),
	)
}

// eventBridge is the deployed stack's schedules and the sync's records.
type eventBridge struct {
	sched   *ebscheduler.Scheduler
	records map[string]store.ScheduleRecord
}

// openEventBridge reads the deployed schedule group (CONNECTOR_SCHEDULE_GROUP,
// default mail-connector) and the sync's records in the stack's table.
func openEventBridge(ctx context.Context) (*eventBridge, error) {
	cfg, ac, err := awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	group := os.Getenv(envnames.ScheduleGroup)
	if group == "" {
		group = defaultScheduleGroup
	}
	eb := &eventBridge{sched: ebscheduler.New(awsscheduler.NewFromConfig(cfg), group, "", ""), records: map[string]store.ScheduleRecord{}}
	recs, err := ac.Store(cfg).ScheduleRecords(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the last-applied schedules: %w", err)
	}
	for _, r := range recs {
		eb.records[r.Name] = r
	}
	return eb, nil
}

// JobSchedules is what EventBridge holds for one job: its schedules, and
// whether a person edited them since the last deploy.
type JobSchedules struct {
	Held []scheduler.Spec
	// Edited are the kept edits the last sync recorded, by schedule name.
	Edited map[string]store.ScheduleRecord
}

// Disabled reports whether every schedule of the job is disabled (in the
// console, or by `connector disable --aws`): the job does not run on its
// schedule, and nothing is broken.
func (s JobSchedules) Disabled() bool {
	for _, h := range s.Held {
		if h.State != scheduler.Disabled {
			return false
		}
	}
	return len(s.Held) > 0
}

// Words says what EventBridge holds in words: "every 15 min …, disabled in
// EventBridge", "edited in EventBridge on 2026-12-05, kept; the jobs file
// says …", or "no schedule".
func (s JobSchedules) Words() string {
	if len(s.Held) == 0 {
		return "no schedule in EventBridge"
	}
	var parts []string
	for _, h := range s.Held {
		w := describeSpec(h)
		if r, ok := s.Edited[h.Name]; ok && r.Drift != nil {
			w += fmt.Sprintf(" (edited in EventBridge on %s, kept; the jobs file says %s)", r.DriftSeen.UTC().Format(time.DateOnly), describeSpec(wanted(r)))
		}
		parts = append(parts, w)
	}
	return strings.Join(parts, "; ")
}

func wanted(r store.ScheduleRecord) scheduler.Spec {
	if r.Wanted != nil {
		return *r.Wanted
	}
	return r.Applied
}

// heldSchedules is what EventBridge holds for job j: the schedules its
// plan names and those the last sync recorded for it. `connector jobs
// --aws` and `disable/enable --aws` use it.
func (eb *eventBridge) heldSchedules(ctx context.Context, j *job.Job) (JobSchedules, error) {
	out := JobSchedules{Edited: map[string]store.ScheduleRecord{}}
	names := map[string]bool{}
	var order []string
	add := func(n string) {
		if !names[n] {
			names[n] = true
			order = append(order, n)
		}
	}
	if plan, err := schedsync.JobPlan(j, 0, time.Now()); err == nil {
		for _, p := range plan {
			add(p.Name)
		}
	}
	for n, r := range eb.records {
		if r.JobID == j.ID {
			add(n)
		}
	}
	for _, n := range order {
		h, err := eb.sched.Get(ctx, n)
		if errors.Is(err, scheduler.ErrNotFound) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("job %s: %w", j.ID, err)
		}
		if h.JobID != j.ID {
			continue
		}
		out.Held = append(out.Held, h)
		if r, ok := eb.records[n]; ok && r.Drift != nil {
			out.Edited[n] = r
		}
	}
	return out, nil
}

// describeSpec says one schedule in words: job.Schedule's Describe of its
// expression and time zone, then its dates, flexible window and state.
func describeSpec(s scheduler.Spec) string {
	w := (&job.Schedule{Expression: s.Expression, TimeZone: s.TimeZone}).Describe()
	if strings.HasPrefix(w, "invalid") {
		w = s.Expression + " " + s.TimeZone
	}
	if !s.StartDate.IsZero() {
		w += ", from " + s.StartDate.UTC().Format("2006-01-02 15:04 UTC")
	}
	if !s.EndDate.IsZero() {
		w += ", until " + s.EndDate.UTC().Format("2006-01-02 15:04 UTC")
	}
	if s.FlexibleWindow > 0 {
		w += fmt.Sprintf(", flexible window %d min", s.FlexibleWindow)
	}
	if s.State == scheduler.Disabled {
		w += ", DISABLED"
	}
	return w
}

func describeSpecs(ss []scheduler.Spec) string {
	var parts []string
	for _, s := range ss {
		parts = append(parts, describeSpec(s))
	}
	return strings.Join(parts, "; ")
}

func cmdSchedulesDiff(ctx context.Context, c *common, args []string, now time.Time, stdout io.Writer) error {
	f, err := c.loadJobs()
	if err != nil {
		return err
	}
	jobs := f.Jobs
	if len(args) == 1 {
		j, err := findJob(f, args[0])
		if err != nil {
			return err
		}
		jobs = []job.Job{*j}
	}
	var eb *eventBridge
	if c.aws {
		if eb, err = openEventBridge(ctx); err != nil {
			return err
		}
	}
	for i := range jobs {
		j := &jobs[i]
		fmt.Fprintf(stdout, "%s\n", j.ID)
		plan, err := schedsync.JobPlan(j, i, now)
		file := j.Schedule.Describe()
		switch {
		case err != nil:
			file = "invalid: " + err.Error()
		case !j.IsEnabled():
			file += " (enabled: false: no schedule is deployed)"
		}
		fmt.Fprintf(stdout, "  jobs file:    %s\n", file)
		if eb == nil {
			continue
		}
		var applied []scheduler.Spec
		for _, r := range eb.records {
			if r.JobID == j.ID {
				applied = append(applied, r.Applied)
			}
		}
		switch {
		case len(applied) == 0:
			fmt.Fprintf(stdout, "  last deploy:  none recorded\n")
		case err == nil && specsSame(applied, plan):
			fmt.Fprintf(stdout, "  last deploy:  the jobs file's\n")
		default:
			fmt.Fprintf(stdout, "  last deploy:  %s (the next deploy applies the jobs file's, unless EventBridge was edited)\n", describeSpecs(applied))
		}
		held, err := eb.heldSchedules(ctx, j)
		if err != nil {
			return err
		}
		switch {
		case len(held.Held) == 0:
			fmt.Fprintf(stdout, "  EventBridge:  no schedule\n")
		case specsSame(held.Held, applied):
			fmt.Fprintf(stdout, "  EventBridge:  the last deploy's\n")
		case held.Disabled():
			fmt.Fprintf(stdout, "  EventBridge:  disabled in EventBridge (not broken): %s\n", held.Words())
		default:
			fmt.Fprintf(stdout, "  EventBridge:  %s\n", held.Words())
		}
		if len(held.Edited) > 0 {
			fmt.Fprintf(stdout, "                kept by deploys: `connector schedules adopt %s --aws` for the jobs file, or deploy with -c resetSchedules=%s\n", j.ID, j.ID)
		}
	}
	if eb == nil {
		fmt.Fprintln(stdout, "\nLocally there is no EventBridge: the local runner follows the jobs file. With --aws: the last deploy's schedules and what EventBridge holds.")
	}
	return nil
}

// specsSame reports whether a and b hold the same schedules, by name.
func specsSame(a, b []scheduler.Spec) bool {
	if len(a) != len(b) {
		return false
	}
	byName := map[string]scheduler.Spec{}
	for _, s := range b {
		byName[s.Name] = s
	}
	for _, s := range a {
		o, ok := byName[s.Name]
		if !ok || !s.Same(o) {
			return false
		}
	}
	return true
}

func cmdSchedulesAdopt(ctx context.Context, c *common, id string, stdout io.Writer) error {
	j, err := c.job(id)
	if err != nil {
		return err
	}
	if !c.aws {
		return &exitError{code: 2, msg: "connector: schedules adopt reads EventBridge: run it with --aws"}
	}
	eb, err := openEventBridge(ctx)
	if err != nil {
		return err
	}
	held, err := eb.heldSchedules(ctx, j)
	if err != nil {
		return err
	}
	if len(held.Held) == 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("connector: job %s has no schedule in EventBridge", j.ID)}
	}
	fmt.Fprint(stdout, adoptYAML(j.ID, held.Held))
	return nil
}

// adoptYAML writes schedules in the jobs file's terms: the job's schedule
// block, with comments for what the jobs file cannot say.
func adoptYAML(jobID string, held []scheduler.Spec) string {
	var b strings.Builder
	h := held[0]
	fmt.Fprintf(&b, "# job %s: its schedule as EventBridge holds it (%s).\n", jobID, describeSpec(h))
	b.WriteString("# Paste it over the job's schedule block in the jobs file, then deploy.\n")
	if len(held) > 1 {
		b.WriteString("# EventBridge holds several schedules for this job; the jobs file holds one expression:\n")
		for _, o := range held[1:] {
			fmt.Fprintf(&b, "#   also %s: %s %s\n", o.Name, o.Expression, o.TimeZone)
		}
	}
	b.WriteString("schedule:\n")
	fmt.Fprintf(&b, "  expression: %q\n", h.Expression)
	tz := h.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	fmt.Fprintf(&b, "  timeZone: %s\n", tz)
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	if !h.StartDate.IsZero() {
		fmt.Fprintf(&b, "  startDate: %q\n", h.StartDate.In(loc).Format(time.DateOnly))
	}
	if !h.EndDate.IsZero() {
		// The jobs file's endDate is inclusive: the day before 24:00.
		fmt.Fprintf(&b, "  endDate: %q\n", h.EndDate.In(loc).Add(-time.Nanosecond).Format(time.DateOnly))
	}
	if h.FlexibleWindow > 0 {
		fmt.Fprintf(&b, "# flexible window of %d min: the jobs file has no such setting; a deploy writes OFF.\n", h.FlexibleWindow)
	}
	if h.State == scheduler.Disabled {
		fmt.Fprintf(&b, "# DISABLED in EventBridge: to keep the job off, `connector disable %s --aws` (or enabled: false, which deploys no schedule).\n", jobID)
	}
	return b.String()
}
