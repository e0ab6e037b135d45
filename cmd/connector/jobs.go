package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"mailconnector/shared/job"
	"mailconnector/shared/schedsync"
	"mailconnector/shared/scheduler"
	"mailconnector/shared/store"
)

func newJobsCmd(a *app) *cobra.Command {
	return command("jobs [--jobs FILE] [--state DIR] [--aws]", "show every job's health at a glance", exactArgs(0),
		func(cmd *cobra.Command, _ []string) error {
			return cmdJobs(cmd.Context(), &a.common, time.Now(), time.Local, a.stdout)
		})
}

// errorFolderShown is how many error-folder mails `jobs` counts at most.
const errorFolderShown = 10000

// cmdJobs prints one row per job of the jobs file: whether it runs and
// what decided it, its mailbox, its schedule in words, its next run
// after now, its last run, its failure streak and the mails in its error
// folder. Times are shown in loc.
func cmdJobs(ctx context.Context, c *common, now time.Time, loc *time.Location, stdout io.Writer) error {
	jobs, err := c.loadJobs()
	if err != nil {
		return err
	}
	b, err := c.backend(ctx)
	if err != nil {
		return err
	}
	defer b.close()
	// With --aws, what runs a job is its EventBridge schedule: read it
	// (a person may have disabled or edited it in the console).
	var eb *eventBridge
	var ebErr error
	if c.aws {
		eb, ebErr = openEventBridge(ctx)
	}
	tw := newTable("JOB", "NAME", "STATE", "DECIDED BY", "MAILBOX", "SCHEDULE", "NEXT RUN", "LAST RUN", "STREAK", "ERROR FOLDER")
	for i := range jobs.Jobs {
		j := &jobs.Jobs[i]
		var held *JobSchedules
		if eb != nil && ebErr == nil {
			h, err := eb.heldSchedules(ctx, j)
			if err != nil {
				ebErr = err
			} else {
				held = &h
			}
		}
		row, notes, err := jobRow(ctx, b.store, j, held, now, loc)
		if err != nil {
			return err
		}
		tw.row(row...)
		for _, n := range notes {
			tw.line("  %s", n)
		}
	}
	if ebErr != nil {
		tw.line("EventBridge could not be read, so the schedules are the jobs file's: %v", ebErr)
	}
	return tw.write(stdout)
}

// jobRow is the cells of one job's row, and the notes under it (who
// switched it and why; a schedule edited in EventBridge). held is what
// EventBridge holds for the job with --aws, nil locally.
func jobRow(ctx context.Context, st store.Store, j *job.Job, held *JobSchedules, now time.Time, loc *time.Location) ([]string, []string, error) {
	sw, err := store.JobSwitch(ctx, st, j)
	if err != nil {
		return nil, nil, fmt.Errorf("job %s: %w", j.ID, err)
	}
	state, decided := "enabled", "jobs file"
	var notes []string
	if !sw.Enabled {
		state = "disabled"
	}
	if sw.Stored {
		decided = "connector enable"
		if sw.Control.Disabled {
			decided = "connector disable"
		}
		notes = append(notes, sw.Why())
	}
	schedule := j.Schedule.Describe()
	if idle := j.Schedule.DescribeIdle(); idle != "" {
		notes = append(notes, "a quiet mailbox is polled "+idle+" (schedule.idleEvery)")
	}
	runsOn := []job.Schedule{j.Schedule}
	if plan, _ := schedsync.JobPlan(j, 0, now); held != nil && (len(plan) > 0 || len(held.Held) > 0) {
		runsOn = nil
		switch {
		case len(held.Held) == 0:
			schedule = "none in EventBridge"
			if sw.Enabled {
				state, decided = "not scheduled", "EventBridge"
			}
			notes = append(notes, "EventBridge holds no schedule for this job: deploy again, or -c resetSchedules="+j.ID)
		case held.Disabled() && sw.Enabled:
			state, decided = "disabled", "EventBridge"
		}
		var specs []string
		for _, h := range held.Held {
			specs = append(specs, (&job.Schedule{Expression: h.Expression, TimeZone: h.TimeZone}).Describe())
			if h.State != scheduler.Disabled {
				runsOn = append(runsOn, job.Schedule{Expression: h.Expression, TimeZone: h.TimeZone})
			}
			if r, ok := held.Edited[h.Name]; ok && r.Drift != nil {
				notes = append(notes, fmt.Sprintf("schedule %s edited in EventBridge on %s, kept: %s; the jobs file says %s",
					h.Name, r.DriftSeen.UTC().Format(time.DateOnly), describeSpec(h), describeSpec(wanted(r))))
			}
		}
		if len(specs) > 0 {
			schedule = strings.Join(specs, "; ")
		}
	}
	next := "-"
	if sw.Enabled && len(runsOn) > 0 {
		next = "none"
		var first time.Time
		for i := range runsOn {
			if t, ok := runsOn[i].Next(now); ok && (first.IsZero() || t.Before(first)) {
				first = t
			}
		}
		if !first.IsZero() {
			next = first.In(loc).Format("Mon 2006-01-02 15:04")
		}
	}
	last := "never"
	runs, err := st.Runs(ctx, j.ID, 1)
	if err != nil {
		return nil, nil, fmt.Errorf("job %s: last run: %w", j.ID, err)
	}
	if len(runs) > 0 {
		last = runs[0].StartedAt.In(loc).Format("2006-01-02 15:04") + " " + string(runs[0].Status)
	}
	js, err := st.JobState(ctx, j.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("job %s: health: %w", j.ID, err)
	}
	inErr, err := st.ErrorFolder(ctx, j.ID, errorFolderShown)
	if err != nil {
		return nil, nil, fmt.Errorf("job %s: error folder: %w", j.ID, err)
	}
	errs := strconv.Itoa(len(inErr))
	if len(inErr) >= errorFolderShown {
		errs += "+"
	}
	if js.Paused {
		errs += " (paused)"
	}
	name := truncate(j.Name, 30)
	if name == "" {
		name = "-"
	}
	return []string{j.ID, name, state, decided, truncate(jobMailbox(j), 40), schedule, next, last,
		strconv.Itoa(js.ConsecutiveFailures), errs}, notes, nil
}

// jobMailbox names a job's mailbox: protocol, host or mailbox, and folder.
func jobMailbox(j *job.Job) string {
	s := string(j.Server.Protocol) + " "
	switch {
	case j.Server.Mailbox != "":
		s += j.Server.Mailbox
	case j.Server.Host != "":
		s += j.Server.Host
	}
	if j.Server.Protocol == job.POP3 {
		return s
	}
	folder := j.Server.Folder
	if folder == "" {
		folder = "INBOX"
	}
	return s + " " + folder
}
