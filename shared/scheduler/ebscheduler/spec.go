package ebscheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	sched "mailconnector/shared/scheduler"
)

// One schedule at a time, by name: what the deploy's schedule sync
// (package schedsync) reads and writes. Each call is one API call, so the
// sync knows exactly what it changed and can put it back.

// specOf reads a schedule as EventBridge returns it.
func specOf(full *scheduler.GetScheduleOutput) sched.Spec {
	sc := sched.Spec{Name: aws.ToString(full.Name), JobID: inputJob(full.Target), Expression: aws.ToString(full.ScheduleExpression),
		TimeZone: aws.ToString(full.ScheduleExpressionTimezone), State: string(full.State)}
	if full.StartDate != nil {
		sc.StartDate = full.StartDate.UTC()
	}
	if full.EndDate != nil {
		sc.EndDate = full.EndDate.UTC()
	}
	if w := full.FlexibleTimeWindow; w != nil && w.Mode == types.FlexibleTimeWindowModeFlexible {
		sc.FlexibleWindow = int(aws.ToInt32(w.MaximumWindowInMinutes))
	}
	return sc
}

// Get returns the schedule name of the group; sched.ErrNotFound when
// there is none.
func (s *Scheduler) Get(ctx context.Context, name string) (sched.Spec, error) {
	out, err := s.c.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: aws.String(name), GroupName: aws.String(s.group)})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return sched.Spec{}, fmt.Errorf("ebscheduler: read schedule %s: %w", name, sched.ErrNotFound)
	}
	if err != nil {
		return sched.Spec{}, fmt.Errorf("ebscheduler: read schedule %s: %w", name, err)
	}
	return specOf(out), nil
}

// parts are the parameters CreateSchedule and UpdateSchedule share.
type parts struct {
	window *types.FlexibleTimeWindow
	target *types.Target
	start  *time.Time
	end    *time.Time
	tz     *string
	state  types.ScheduleState
	desc   *string
}

func (s *Scheduler) parts(sp sched.Spec) parts {
	p := parts{
		window: &types.FlexibleTimeWindow{Mode: types.FlexibleTimeWindowModeOff},
		target: &types.Target{Arn: aws.String(s.target), RoleArn: aws.String(s.role),
			Input:       aws.String(string(sched.Payload{JobID: sp.JobID}.Encode())),
			RetryPolicy: &types.RetryPolicy{MaximumRetryAttempts: aws.Int32(0)}},
		tz:    aws.String(sp.TimeZone),
		state: types.ScheduleStateEnabled,
		desc:  aws.String("Mail Connector: fetch job " + sp.JobID),
	}
	if sp.FlexibleWindow > 0 {
		p.window = &types.FlexibleTimeWindow{Mode: types.FlexibleTimeWindowModeFlexible, MaximumWindowInMinutes: aws.Int32(int32(sp.FlexibleWindow))}
	}
	if sp.TimeZone == "" {
		p.tz = aws.String("UTC")
	}
	if sp.State == sched.Disabled {
		p.state = types.ScheduleStateDisabled
	}
	if !sp.StartDate.IsZero() {
		t := sp.StartDate.UTC()
		p.start = &t
	}
	if !sp.EndDate.IsZero() {
		t := sp.EndDate.UTC()
		p.end = &t
	}
	return p
}

// Create creates the schedule sp describes, fetching sp.JobID.
func (s *Scheduler) Create(ctx context.Context, sp sched.Spec) error {
	if sp.JobID == "" {
		return fmt.Errorf("ebscheduler: create schedule %s: no job", sp.Name)
	}
	p := s.parts(sp)
	_, err := s.c.CreateSchedule(ctx, &scheduler.CreateScheduleInput{Name: aws.String(sp.Name), GroupName: aws.String(s.group),
		ScheduleExpression: aws.String(sp.Expression), ScheduleExpressionTimezone: p.tz, StartDate: p.start, EndDate: p.end,
		FlexibleTimeWindow: p.window, Target: p.target, State: p.state, Description: p.desc})
	if err != nil {
		return fmt.Errorf("ebscheduler: create schedule %s of job %s: %w", sp.Name, sp.JobID, err)
	}
	return nil
}

// Update replaces the schedule sp.Name with what sp describes.
func (s *Scheduler) Update(ctx context.Context, sp sched.Spec) error {
	if sp.JobID == "" {
		return fmt.Errorf("ebscheduler: update schedule %s: no job", sp.Name)
	}
	p := s.parts(sp)
	_, err := s.c.UpdateSchedule(ctx, &scheduler.UpdateScheduleInput{Name: aws.String(sp.Name), GroupName: aws.String(s.group),
		ScheduleExpression: aws.String(sp.Expression), ScheduleExpressionTimezone: p.tz, StartDate: p.start, EndDate: p.end,
		FlexibleTimeWindow: p.window, Target: p.target, State: p.state, Description: p.desc})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return fmt.Errorf("ebscheduler: update schedule %s of job %s: %w", sp.Name, sp.JobID, sched.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("ebscheduler: update schedule %s of job %s: %w", sp.Name, sp.JobID, err)
	}
	return nil
}

// Remove deletes the schedule name; none is not an error.
func (s *Scheduler) Remove(ctx context.Context, name string) error {
	_, err := s.c.DeleteSchedule(ctx, &scheduler.DeleteScheduleInput{Name: aws.String(name), GroupName: aws.String(s.group)})
	var nf *types.ResourceNotFoundException
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("ebscheduler: delete schedule %s: %w", name, err)
	}
	return nil
}

// SetState sets the state of every schedule of the job (sched.Enabled or
// sched.Disabled), keeping the rest of each as EventBridge holds it, its
// target included: `connector disable --aws` and `enable --aws`. It
// returns the names it changed.
func (s *Scheduler) SetState(ctx context.Context, jobID, state string) ([]string, error) {
	all, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	var changed []string
	for _, sc := range all {
		if sc.JobID != jobID || sc.State == state {
			continue
		}
		out, err := s.c.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: aws.String(sc.Name), GroupName: aws.String(s.group)})
		if err != nil {
			return changed, fmt.Errorf("ebscheduler: read schedule %s: %w", sc.Name, err)
		}
		_, err = s.c.UpdateSchedule(ctx, &scheduler.UpdateScheduleInput{Name: out.Name, GroupName: aws.String(s.group),
			ScheduleExpression: out.ScheduleExpression, ScheduleExpressionTimezone: out.ScheduleExpressionTimezone,
			StartDate: out.StartDate, EndDate: out.EndDate, FlexibleTimeWindow: out.FlexibleTimeWindow, Target: out.Target,
			Description: out.Description, KmsKeyArn: out.KmsKeyArn, ActionAfterCompletion: out.ActionAfterCompletion,
			State: types.ScheduleState(state)})
		if err != nil {
			return changed, fmt.Errorf("ebscheduler: set schedule %s of job %s %s: %w", sc.Name, jobID, state, err)
		}
		changed = append(changed, sc.Name)
	}
	return changed, nil
}
