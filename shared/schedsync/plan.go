// Package schedsync keeps the jobs' EventBridge Scheduler schedules in
// step with the jobs file at each deploy, without undoing what a person
// changed in EventBridge since.
//
// A deploy hands the jobs file's schedule plan (Plan) to a CloudFormation
// custom resource whose function (functions/schedsync) calls Sync. For
// each schedule name Sync compares three things: the plan, the record of
// what the last deploy wrote (store.ScheduleRecord), and what EventBridge
// holds now. It creates the schedules of new jobs and deletes those of
// removed jobs. It updates a schedule to a new plan only when EventBridge
// still holds what the last deploy wrote; a schedule whose expression,
// time zone, dates, flexible window or state differ from that was edited
// by a person, and Sync keeps it, records the drift, reports it in its
// Result (the deploy's output) and tells the administrators once. A reset
// (`-c resetSchedules=JOB|all`) puts the plan back on purpose. An
// unchanged schedule is never touched. When a call fails, Sync undoes the
// calls it made before it and returns the job and the reason: the last
// good schedules stay. Delete removes every schedule a sync created
// (stack deletion).
//
// The package knows no AWS: it works on a Scheduler (ebscheduler on AWS)
// and on Records (dynamostore, boltstore).
package schedsync

import (
	"fmt"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/scheduler"
)

// MaxName is EventBridge Scheduler's limit on a schedule name.
const MaxName = 64

// Plan turns the jobs' schedules into EventBridge Scheduler schedules:
// one per enabled job and expression, named <jobId>, or <jobId>-1 … -n
// when the job's schedule compiles to several expressions. It also
// returns notes on the jobs that get none (disabled, or their schedule can
// never fire again after now). StartDate and EndDate are the job's
// inclusive local days made instants: 00:00 of startDate and 24:00 of
// endDate in the job's time zone. A start that lies before now is left
// out, since EventBridge Scheduler refuses a StartDate more than 5 minutes
// in the past (and it would change nothing).
func Plan(f *job.File, now time.Time) ([]scheduler.Spec, []string, error) {
	var plans []scheduler.Spec
	var notes []string
	for i := range f.Jobs {
		j := &f.Jobs[i]
		if !j.IsEnabled() {
			notes = append(notes, fmt.Sprintf("job %q is disabled: no schedule (run it with `connector run --job %s`)", j.ID, j.ID))
			continue
		}
		if _, ok := j.Schedule.Next(now); !ok {
			notes = append(notes, fmt.Sprintf("job %q: its schedule never fires after %s (endDate or at() in the past): no schedule", j.ID, now.UTC().Format(time.RFC3339)))
			continue
		}
		specs, err := JobPlan(j, i, now)
		if err != nil {
			return nil, nil, err
		}
		plans = append(plans, specs...)
	}
	return plans, notes, nil
}

// JobPlan is the schedules of one job (the i-th of its file), whether or
// not it is enabled. Its errors are *job.FieldError.
func JobPlan(j *job.Job, i int, now time.Time) ([]scheduler.Spec, error) {
	fieldErr := func(field, format string, args ...any) error {
		return &job.FieldError{Job: j.ID, Index: i, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	exprs, err := j.Schedule.Expressions()
	if err != nil {
		return nil, fieldErr("schedule", "%v", err)
	}
	tz := j.Schedule.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fieldErr("schedule.timeZone", "%v", err)
	}
	var start, end time.Time
	if d := j.Schedule.StartDate; d != "" {
		t, err := time.ParseInLocation(time.DateOnly, d, loc)
		if err != nil {
			return nil, fieldErr("schedule.startDate", "%q is not a date YYYY-MM-DD", d)
		}
		if t.After(now) {
			start = t.UTC()
		}
	}
	if d := j.Schedule.EndDate; d != "" {
		t, err := time.ParseInLocation(time.DateOnly, d, loc)
		if err != nil {
			return nil, fieldErr("schedule.endDate", "%q is not a date YYYY-MM-DD", d)
		}
		y, m, day := t.Date()
		end = time.Date(y, m, day+1, 0, 0, 0, 0, loc).UTC()
	}
	var out []scheduler.Spec
	for n, expr := range exprs {
		name := j.ID
		if len(exprs) > 1 {
			name = fmt.Sprintf("%s-%d", j.ID, n+1)
		}
		if len(name) > MaxName {
			return nil, fieldErr("id", "too long for its %d schedules: %q exceeds EventBridge Scheduler's %d characters", len(exprs), name, MaxName)
		}
		out = append(out, scheduler.Spec{Name: name, JobID: j.ID, Expression: expr, TimeZone: tz,
			StartDate: start, EndDate: end, State: scheduler.Enabled})
	}
	return out, nil
}
