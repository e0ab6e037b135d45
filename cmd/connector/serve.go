package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"mailconnector/shared/fetch"
	"mailconnector/shared/job"
	"mailconnector/shared/run"
	"mailconnector/shared/scheduler/ticker"
	"mailconnector/shared/store"
)

// switchable returns the job named only (a forced run), or the jobs the
// runner keeps on their schedules: those the jobs file enables and those
// with a stored control, so that `connector enable` and `connector
// disable` take effect at the next run without a restart. Whether a run
// of one of them fetches is the fetch stage's to decide (store.JobSwitch).
func (l *localRun) switchable(ctx context.Context, only string) []*job.Job {
	if only != "" {
		return selected(l.jobs, only)
	}
	var out []*job.Job
	for i := range l.jobs.Jobs {
		j := &l.jobs.Jobs[i]
		if j.IsEnabled() {
			out = append(out, j)
			continue
		}
		if _, err := l.loc.store.JobControl(ctx, j.ID); err == nil {
			out = append(out, j)
		}
	}
	return out
}

// serve runs the jobs on their schedules until ctx ends. The in-process
// queues did not survive the last exit, so a job inside its schedule's
// window first runs at once and puts back what it had in flight; a job
// outside it (another day of the week, before its startDate, after its
// endDate) or switched off waits for its schedule, and its first
// scheduled run puts that back instead. Each job's next run is printed.
func (l *localRun) serve(ctx context.Context, jobs []*job.Job, stdout io.Writer) error {
	var mu sync.Mutex
	requeue := l.startup(ctx, jobs, stdout)
	// Retention: once a day, as the bucket's lifecycle rules on AWS.
	pruned := make(chan struct{})
	go func() { defer close(pruned); l.pruneDaily(ctx) }()
	defer func() { <-pruned }()
	fmt.Fprintf(stdout, "Running %d jobs on their schedules; Ctrl-C stops.\n", len(jobs))
	t := ticker.New(&ticker.Options{Logger: l.log, Now: l.now})
	for _, j := range jobs {
		// The ticker fires what the runner keeps; the fetch stage ends the
		// runs of a job switched off.
		t.Enable(j.ID)
	}
	t.Run(ctx, jobs, func(ctx context.Context, jobID string) {
		j, _ := l.jobs.Job(jobID)
		mu.Lock()
		all := requeue[jobID]
		delete(requeue, jobID)
		mu.Unlock()
		runs, err := l.p.RunJob(ctx, j, "schedule", all)
		l.prog.end()
		l.prog.forget(jobID)
		if len(runs) > 0 && runs[0].Status == run.Disabled {
			mu.Lock()
			requeue[jobID] = all
			mu.Unlock()
		}
		for _, r := range runs {
			if r.Fetched > 0 || r.Status == run.Failed {
				printRun(stdout, r)
			}
		}
		var held *fetch.LeaseHeldError
		if err != nil && !errors.As(err, &held) && ctx.Err() == nil {
			l.log.Error("run failed", "job", jobID, "err", err)
		}
	})
	return nil
}

// startup runs at once each job inside its schedule's window, prints each
// job's next run, and returns the jobs that did not run: their first
// scheduled run puts back what they had in flight.
func (l *localRun) startup(ctx context.Context, jobs []*job.Job, stdout io.Writer) map[string]bool {
	requeue := map[string]bool{}
	for _, j := range jobs {
		now := l.now()
		sw, err := store.JobSwitch(ctx, l.loc.store, j)
		switch {
		case err != nil:
			l.log.Error("startup", "job", j.ID, "err", err)
			requeue[j.ID] = true
		case !sw.Enabled:
			fmt.Fprintf(stdout, "job %s: disabled (%s); `connector enable %s` switches it on.\n", j.ID, sw.Why(), j.ID)
			requeue[j.ID] = true
			continue
		case j.Schedule.Within(now):
			_, err := l.p.RunJob(ctx, j, "startup", true)
			l.prog.end()
			l.prog.forget(j.ID)
			if err != nil {
				l.log.Error("startup run", "job", j.ID, "err", err)
			}
		default:
			fmt.Fprintf(stdout, "job %s: outside its schedule (%s), no run at startup.\n", j.ID, j.Schedule.Describe())
			requeue[j.ID] = true
		}
		if next, ok := j.Schedule.Next(l.now()); ok {
			fmt.Fprintf(stdout, "job %s: next run %s.\n", j.ID, next.Format("Mon 2006-01-02 15:04 MST"))
		} else {
			fmt.Fprintf(stdout, "job %s: its schedule has no further run (%s).\n", j.ID, j.Schedule.Describe())
		}
	}
	return requeue
}
