// Package ebscheduler manages a job's schedules in EventBridge Scheduler:
// one schedule per expression that the job's schedule block compiles to,
// in the connector's schedule group, each invoking the fetch function with
// {"jobId": "..."}. The CDK stack (infra/schedules.go) creates the same
// schedules at deploy, under the same names and with the same dates; this
// adapter is what the CLI and tests use to change them between deploys.
package ebscheduler

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"mailconnector/shared/job"
	sched "mailconnector/shared/scheduler"
)

// ErrNameTaken means a schedule name the job needs belongs to another job
// (job "a" with two expressions needs "a-1", which job "a-1" may use).
var ErrNameTaken = errors.New("ebscheduler: schedule name belongs to another job")

// ErrExpired means the job's EndDate has passed: Put removed the job's
// schedules instead of creating ones that can never fire.
var ErrExpired = errors.New("ebscheduler: the schedule's endDate has passed")

// maxName is EventBridge Scheduler's limit on a schedule name.
const maxName = 64

// Scheduler manages schedules in one group.
type Scheduler struct {
	c                   *scheduler.Client
	group, target, role string
	now                 func() time.Time
}

// New returns a Scheduler for group whose schedules invoke targetArn (the
// fetch function) through roleArn.
func New(c *scheduler.Client, group, targetArn, roleArn string) *Scheduler {
	return &Scheduler{c: c, group: group, target: targetArn, role: roleArn, now: time.Now}
}

// Schedule is one schedule as EventBridge holds it.
type Schedule = sched.Spec

// Names are the schedule names of a job with n expressions, as the CDK
// stack names them: the job id for one, <jobID>-1 … <jobID>-n for more.
func Names(jobID string, n int) []string {
	if n == 1 {
		return []string{jobID}
	}
	names := make([]string, n)
	for i := range names {
		names[i] = jobID + "-" + strconv.Itoa(i+1)
	}
	return names
}

// dates turns the job's inclusive local days into the instants EventBridge
// takes: 00:00 of StartDate and 24:00 of EndDate in the schedule's time
// zone. A start already past is left out: EventBridge refuses a StartDate
// more than 5 minutes in the past, and it would change nothing.
func dates(s job.Schedule, now time.Time) (tz string, start, end *time.Time, err error) {
	tz = s.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return "", nil, nil, fmt.Errorf("time zone %q: %w", tz, err)
	}
	if s.StartDate != "" {
		t, err := time.ParseInLocation(time.DateOnly, s.StartDate, loc)
		if err != nil {
			return "", nil, nil, fmt.Errorf("startDate %q is not a date YYYY-MM-DD", s.StartDate)
		}
		if t.After(now) {
			t = t.UTC()
			start = &t
		}
	}
	if s.EndDate != "" {
		t, err := time.ParseInLocation(time.DateOnly, s.EndDate, loc)
		if err != nil {
			return "", nil, nil, fmt.Errorf("endDate %q is not a date YYYY-MM-DD", s.EndDate)
		}
		y, m, d := t.Date()
		t = time.Date(y, m, d+1, 0, 0, 0, 0, loc).UTC()
		end = &t
	}
	return tz, start, end, nil
}

// Put creates or updates the job's schedules, one per expression, and
// removes the job's other schedules (left from an earlier, longer or
// shorter, expression list). No expressions removes them all. An EndDate
// already past removes them too and returns ErrExpired.
func (s *Scheduler) Put(ctx context.Context, jobID string, expressions []string, sch job.Schedule, enabled bool) error {
	tz, start, end, err := dates(sch, s.now())
	if err != nil {
		return fmt.Errorf("ebscheduler: put schedules of job %s: %w", jobID, err)
	}
	if end != nil && !end.After(s.now()) {
		if err := s.prune(ctx, jobID, nil); err != nil {
			return err
		}
		return fmt.Errorf("ebscheduler: job %s: endDate %s: %w; its schedules were removed", jobID, sch.EndDate, ErrExpired)
	}
	names := Names(jobID, len(expressions))
	for _, name := range names {
		if len(name) > maxName {
			return fmt.Errorf("ebscheduler: job %s: schedule name %q is longer than %d characters", jobID, name, maxName)
		}
	}
	input := sched.Payload{JobID: jobID}.Encode()
	state := types.ScheduleStateEnabled
	if !enabled {
		state = types.ScheduleStateDisabled
	}
	target := &types.Target{Arn: aws.String(s.target), RoleArn: aws.String(s.role), Input: aws.String(string(input)),
		RetryPolicy: &types.RetryPolicy{MaximumRetryAttempts: aws.Int32(0)}}
	window := &types.FlexibleTimeWindow{Mode: types.FlexibleTimeWindowModeOff}
	desc := aws.String("Mail Connector: fetch job " + jobID)
	for i, expr := range expressions {
		name := names[i]
		_, err := s.c.CreateSchedule(ctx, &scheduler.CreateScheduleInput{Name: aws.String(name), GroupName: aws.String(s.group),
			ScheduleExpression: aws.String(expr), ScheduleExpressionTimezone: aws.String(tz), StartDate: start, EndDate: end,
			FlexibleTimeWindow: window, Target: target, State: state, Description: desc})
		var conflict *types.ConflictException
		if errors.As(err, &conflict) {
			if err := s.owned(ctx, jobID, name); err != nil {
				return err
			}
			_, err = s.c.UpdateSchedule(ctx, &scheduler.UpdateScheduleInput{Name: aws.String(name), GroupName: aws.String(s.group),
				ScheduleExpression: aws.String(expr), ScheduleExpressionTimezone: aws.String(tz), StartDate: start, EndDate: end,
				FlexibleTimeWindow: window, Target: target, State: state, Description: desc})
		}
		if err != nil {
			return fmt.Errorf("ebscheduler: put schedule %s of job %s: %w", name, jobID, err)
		}
	}
	return s.prune(ctx, jobID, names)
}

// owned checks that the existing schedule name fetches jobID.
func (s *Scheduler) owned(ctx context.Context, jobID, name string) error {
	out, err := s.c.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: aws.String(name), GroupName: aws.String(s.group)})
	if err != nil {
		return fmt.Errorf("ebscheduler: read schedule %s: %w", name, err)
	}
	if other := inputJob(out.Target); other != jobID {
		return fmt.Errorf("ebscheduler: job %s needs schedule %s, which fetches job %q: %w", jobID, name, other, ErrNameTaken)
	}
	return nil
}

// Disable turns every schedule of the job off, keeping the rest of each.
func (s *Scheduler) Disable(ctx context.Context, jobID string) error {
	all, err := s.List(ctx)
	if err != nil {
		return err
	}
	for _, sc := range all {
		if sc.JobID != jobID {
			continue
		}
		out, err := s.c.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: aws.String(sc.Name), GroupName: aws.String(s.group)})
		if err != nil {
			return fmt.Errorf("ebscheduler: read schedule %s: %w", sc.Name, err)
		}
		_, err = s.c.UpdateSchedule(ctx, &scheduler.UpdateScheduleInput{Name: out.Name, GroupName: aws.String(s.group),
			ScheduleExpression: out.ScheduleExpression, ScheduleExpressionTimezone: out.ScheduleExpressionTimezone,
			StartDate: out.StartDate, EndDate: out.EndDate, FlexibleTimeWindow: out.FlexibleTimeWindow, Target: out.Target,
			Description: out.Description, KmsKeyArn: out.KmsKeyArn, ActionAfterCompletion: out.ActionAfterCompletion,
			State: types.ScheduleStateDisabled})
		if err != nil {
			return fmt.Errorf("ebscheduler: disable schedule %s of job %s: %w", sc.Name, jobID, err)
		}
	}
	return nil
}

// Delete removes every schedule of the job; none is not an error.
func (s *Scheduler) Delete(ctx context.Context, jobID string) error {
	return s.prune(ctx, jobID, nil)
}

// prune removes the job's schedules whose names are not in keep.
func (s *Scheduler) prune(ctx context.Context, jobID string, keep []string) error {
	all, err := s.List(ctx)
	if err != nil {
		return err
	}
	kept := map[string]bool{}
	for _, n := range keep {
		kept[n] = true
	}
	for _, sc := range all {
		if sc.JobID != jobID || kept[sc.Name] {
			continue
		}
		_, err := s.c.DeleteSchedule(ctx, &scheduler.DeleteScheduleInput{Name: aws.String(sc.Name), GroupName: aws.String(s.group)})
		var nf *types.ResourceNotFoundException
		if err != nil && !errors.As(err, &nf) {
			return fmt.Errorf("ebscheduler: delete schedule %s of job %s: %w", sc.Name, jobID, err)
		}
	}
	return nil
}

// inputJob is the job id in a target's input, "" if it has none.
func inputJob(t *types.Target) string {
	if t == nil {
		return ""
	}
	p, err := sched.Decode([]byte(aws.ToString(t.Input)))
	if err != nil {
		return ""
	}
	return p.JobID
}

// List returns the group's schedules with the job each one fetches.
func (s *Scheduler) List(ctx context.Context) ([]Schedule, error) {
	var out []Schedule
	var token *string
	for {
		page, err := s.c.ListSchedules(ctx, &scheduler.ListSchedulesInput{GroupName: aws.String(s.group), NextToken: token})
		if err != nil {
			return nil, fmt.Errorf("ebscheduler: list schedules in group %s: %w", s.group, err)
		}
		for _, sum := range page.Schedules {
			full, err := s.c.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: sum.Name, GroupName: aws.String(s.group)})
			if err != nil {
				return nil, fmt.Errorf("ebscheduler: read schedule %s: %w", aws.ToString(sum.Name), err)
			}
			out = append(out, specOf(full))
		}
		if aws.ToString(page.NextToken) == "" {
			return out, nil
		}
		token = page.NextToken
	}
}
