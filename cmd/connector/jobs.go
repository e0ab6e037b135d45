package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"mailconnector/shared/job"
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
	tw := newTable("JOB", "NAME", "STATE", "DECIDED BY", "MAILBOX", "SCHEDULE", "NEXT RUN", "LAST RUN", "STREAK", "ERROR FOLDER")
	for i := range jobs.Jobs {
		j := &jobs.Jobs[i]
		row, note, err := jobRow(ctx, b.store, j, now, loc)
		if err != nil {
			return err
		}
		tw.row(row...)
		if note != "" {
			tw.line("  %s", note)
		}
	}
	return tw.write(stdout)
}

// jobRow is the cells of one job's row, and the note under it (who
// switched it and why).
func jobRow(ctx context.Context, st store.Store, j *job.Job, now time.Time, loc *time.Location) ([]string, string, error) {
	sw, err := store.JobSwitch(ctx, st, j)
	if err != nil {
		return nil, "", fmt.Errorf("job %s: %w", j.ID, err)
	}
	state, decided, note := "enabled", "jobs file", ""
	if !sw.Enabled {
		state = "disabled"
	}
	if sw.Stored {
		decided = "connector enable"
		if sw.Control.Disabled {
			decided = "connector disable"
		}
		note = sw.Why()
	}
	next := "-"
	if sw.Enabled {
		if t, ok := j.Schedule.Next(now); ok {
			next = t.In(loc).Format("Mon 2006-01-02 15:04")
		} else {
			next = "none"
		}
	}
	last := "never"
	runs, err := st.Runs(ctx, j.ID, 1)
	if err != nil {
		return nil, "", fmt.Errorf("job %s: last run: %w", j.ID, err)
	}
	if len(runs) > 0 {
		last = runs[0].StartedAt.In(loc).Format("2006-01-02 15:04") + " " + string(runs[0].Status)
	}
	js, err := st.JobState(ctx, j.ID)
	if err != nil {
		return nil, "", fmt.Errorf("job %s: health: %w", j.ID, err)
	}
	inErr, err := st.ErrorFolder(ctx, j.ID, errorFolderShown)
	if err != nil {
		return nil, "", fmt.Errorf("job %s: error folder: %w", j.ID, err)
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
	return []string{j.ID, name, state, decided, truncate(jobMailbox(j), 40), j.Schedule.Describe(), next, last,
		strconv.Itoa(js.ConsecutiveFailures), errs}, note, nil
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
