// Package ebscheduler manages a job's schedules in EventBridge Scheduler:
// one schedule per expression that the job's schedule block compiles to,
// named after the job, in the connector's schedule group, each invoking
// the fetch function with {"jobId": "..."}. The CDK stack creates the same
// schedules at deploy; this adapter is what the CLI and tests use to
// change them between deploys.
package ebscheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"mailconnector/shared/job"
)

// Scheduler manages schedules in one group.
type Scheduler struct {
	c                   *scheduler.Client
	group, target, role string
}

// New returns a Scheduler for group whose schedules invoke targetARN (the
// fetch function) with roleARN.
func New(c *scheduler.Client, group, targetARN, roleARN string) *Scheduler {
	return &Scheduler{c: c, group: group, target: targetARN, role: roleARN}
}

// Schedule is one schedule as EventBridge holds it.
type Schedule struct {
	Name, JobID, Expression, TimeZone, State string
}

// Name is the schedule name of a job's nth expression (0: the job id).
func Name(jobID string, n int) string {
	if n == 0 {
		return jobID
	}
	return jobID + "-" + strconv.Itoa(n)
}

// Put creates or updates the job's schedules for expressions and removes
// the job's schedules beyond them.
func (s *Scheduler) Put(ctx context.Context, jobID string, expressions []string, sch job.Schedule, enabled bool) error {
	input, _ := json.Marshal(map[string]string{"jobId": jobID})
	state := types.ScheduleStateEnabled
	if !enabled {
		state = types.ScheduleStateDisabled
	}
	tz := sch.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	var start, end *time.Time
	if sch.StartDate != "" {
		if t, err := time.Parse("2006-01-02", sch.StartDate); err == nil {
			start = &t
		}
	}
	if sch.EndDate != "" {
		if t, err := time.Parse("2006-01-02", sch.EndDate); err == nil {
			t = t.Add(24*time.Hour - time.Second)
			end = &t
		}
	}
	for i, expr := range expressions {
		name := Name(jobID, i)
		target := &types.Target{Arn: aws.String(s.target), RoleArn: aws.String(s.role), Input: aws.String(string(input)),
			RetryPolicy: &types.RetryPolicy{MaximumRetryAttempts: aws.Int32(0)}}
		window := &types.FlexibleTimeWindow{Mode: types.FlexibleTimeWindowModeOff}
		_, err := s.c.CreateSchedule(ctx, &scheduler.CreateScheduleInput{Name: aws.String(name), GroupName: aws.String(s.group),
			ScheduleExpression: aws.String(expr), ScheduleExpressionTimezone: aws.String(tz), StartDate: start, EndDate: end,
			FlexibleTimeWindow: window, Target: target, State: state,
			Description: aws.String("Mail Connector: fetch job " + jobID)})
		var conflict *types.ConflictException
		if errors.As(err, &conflict) {
			_, err = s.c.UpdateSchedule(ctx, &scheduler.UpdateScheduleInput{Name: aws.String(name), GroupName: aws.String(s.group),
				ScheduleExpression: aws.String(expr), ScheduleExpressionTimezone: aws.String(tz), StartDate: start, EndDate: end,
				FlexibleTimeWindow: window, Target: target, State: state,
				Description: aws.String("Mail Connector: fetch job " + jobID)})
		}
		if err != nil {
			return fmt.Errorf("ebscheduler: put schedule %s: %w", name, err)
		}
	}
	return s.deleteFrom(ctx, jobID, len(expressions))
}

// Disable turns every schedule of the job off.
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
		_, err = s.c.UpdateSchedule(ctx, &scheduler.UpdateScheduleInput{Name: out.Name, GroupName: out.GroupName,
			ScheduleExpression: out.ScheduleExpression, ScheduleExpressionTimezone: out.ScheduleExpressionTimezone,
			StartDate: out.StartDate, EndDate: out.EndDate, FlexibleTimeWindow: out.FlexibleTimeWindow, Target: out.Target,
			Description: out.Description, State: types.ScheduleStateDisabled})
		if err != nil {
			return fmt.Errorf("ebscheduler: disable schedule %s: %w", sc.Name, err)
		}
	}
	return nil
}

// Delete removes every schedule of the job.
func (s *Scheduler) Delete(ctx context.Context, jobID string) error {
	return s.deleteFrom(ctx, jobID, 0)
}

// deleteFrom removes the job's schedules numbered n and above.
func (s *Scheduler) deleteFrom(ctx context.Context, jobID string, n int) error {
	all, err := s.List(ctx)
	if err != nil {
		return err
	}
	for _, sc := range all {
		if sc.JobID != jobID || index(jobID, sc.Name) < n {
			continue
		}
		_, err := s.c.DeleteSchedule(ctx, &scheduler.DeleteScheduleInput{Name: aws.String(sc.Name), GroupName: aws.String(s.group)})
		var nf *types.ResourceNotFoundException
		if err != nil && !errors.As(err, &nf) {
			return fmt.Errorf("ebscheduler: delete schedule %s: %w", sc.Name, err)
		}
	}
	return nil
}

// index is the position of a schedule name among a job's names.
func index(jobID, name string) int {
	if name == jobID {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimPrefix(name, jobID+"-"))
	if err != nil {
		return -1
	}
	return n
}

// List returns the group's schedules with the job each one fetches.
func (s *Scheduler) List(ctx context.Context) ([]Schedule, error) {
	var out []Schedule
	var token *string
	for {
		page, err := s.c.ListSchedules(ctx, &scheduler.ListSchedulesInput{GroupName: aws.String(s.group), NextToken: token})
		if err != nil {
			return nil, fmt.Errorf("ebscheduler: list schedules: %w", err)
		}
		for _, sum := range page.Schedules {
			full, err := s.c.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: sum.Name, GroupName: aws.String(s.group)})
			if err != nil {
				return nil, fmt.Errorf("ebscheduler: read schedule %s: %w", aws.ToString(sum.Name), err)
			}
			var p struct {
				JobID string `json:"jobId"`
			}
			if full.Target != nil {
				_ = json.Unmarshal([]byte(aws.ToString(full.Target.Input)), &p)
			}
			out = append(out, Schedule{Name: aws.ToString(full.Name), JobID: p.JobID, Expression: aws.ToString(full.ScheduleExpression),
				TimeZone: aws.ToString(full.ScheduleExpressionTimezone), State: string(full.State)})
		}
		if page.NextToken == nil {
			return out, nil
		}
		token = page.NextToken
	}
}
