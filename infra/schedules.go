package main

import (
	"fmt"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/scheduler"
)

// scheduleGroupName is the EventBridge Scheduler group of the connector.
const scheduleGroupName = "mail-connector"

// maxScheduleName is EventBridge Scheduler's limit on a schedule name.
const maxScheduleName = 64

// schedulePlan is one EventBridge Scheduler schedule for one job.
type schedulePlan struct {
	Name       string // <jobId>, or <jobId>-<n> when the job needs several
	JobID      string
	Expression string
	TimeZone   string // IANA name
	StartDate  string // ISO 8601 UTC, or "" for none
	EndDate    string // ISO 8601 UTC, or "" for none
	Input      string // scheduler.Payload{JobID: <id>}
}

// planSchedules turns the jobs' schedules into EventBridge Scheduler
// schedules: one per enabled job and expression. It also returns notes on
// the jobs that get none (disabled, or their schedule can never fire again
// after now). StartDate and EndDate are the job's inclusive local days made
// instants: 00:00 of startDate and 24:00 of endDate in the job's time zone.
// A start that lies before now is left out, since EventBridge Scheduler
// refuses a StartDate more than 5 minutes in the past (and it would change
// nothing).
func planSchedules(f *job.File, now time.Time) ([]schedulePlan, []string, error) {
	var plans []schedulePlan
	var notes []string
	for i := range f.Jobs {
		j := &f.Jobs[i]
		fieldErr := func(field, format string, args ...any) error {
			return &job.FieldError{Job: j.ID, Index: i, Field: field, Msg: fmt.Sprintf(format, args...)}
		}
		if !j.IsEnabled() {
			notes = append(notes, fmt.Sprintf("job %q is disabled: no schedule (run it with `connector run --job %s`)", j.ID, j.ID))
			continue
		}
		if _, ok := j.Schedule.Next(now); !ok {
			notes = append(notes, fmt.Sprintf("job %q: its schedule never fires after %s (endDate or at() in the past): no schedule", j.ID, now.UTC().Format(time.RFC3339)))
			continue
		}
		exprs, err := j.Schedule.Expressions()
		if err != nil {
			return nil, nil, fieldErr("schedule", "%v", err)
		}
		tz := j.Schedule.TimeZone
		if tz == "" {
			tz = "UTC"
		}
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return nil, nil, fieldErr("schedule.timeZone", "%v", err)
		}
		var start, end string
		if d := j.Schedule.StartDate; d != "" {
			t, err := time.ParseInLocation(time.DateOnly, d, loc)
			if err != nil {
				return nil, nil, fieldErr("schedule.startDate", "%q is not a date YYYY-MM-DD", d)
			}
			if t.After(now) {
				start = t.UTC().Format(time.RFC3339)
			}
		}
		if d := j.Schedule.EndDate; d != "" {
			t, err := time.ParseInLocation(time.DateOnly, d, loc)
			if err != nil {
				return nil, nil, fieldErr("schedule.endDate", "%q is not a date YYYY-MM-DD", d)
			}
			y, m, day := t.Date()
			end = time.Date(y, m, day+1, 0, 0, 0, 0, loc).UTC().Format(time.RFC3339)
		}
		input := scheduler.Payload{JobID: j.ID}.Encode()
		for n, expr := range exprs {
			name := j.ID
			if len(exprs) > 1 {
				name = fmt.Sprintf("%s-%d", j.ID, n+1)
			}
			if len(name) > maxScheduleName {
				return nil, nil, fieldErr("id", "too long for its %d schedules: %q exceeds EventBridge Scheduler's %d characters", len(exprs), name, maxScheduleName)
			}
			plans = append(plans, schedulePlan{
				Name: name, JobID: j.ID, Expression: expr, TimeZone: tz,
				StartDate: start, EndDate: end, Input: string(input),
			})
		}
	}
	return plans, notes, nil
}
