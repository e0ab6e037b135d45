// Package handler adapts the pipeline stages to AWS Lambda: the fetch
// function's EventBridge Scheduler payload, and the SQS batches of the
// preprocess and rules functions and their dead-letter queues. It is the
// one place where stage errors become Lambda results: partial batch
// failures, dead letters recorded as failed in the ledger, and a
// follow-up invocation when a run leaves mail behind.
package handler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"mailconnector/shared/fetch"
	"mailconnector/shared/job"
	"mailconnector/shared/metrics"
	"mailconnector/shared/push"
	"mailconnector/shared/run"
	"mailconnector/shared/scheduler"
	"mailconnector/shared/store"
)

// SchedulerPayload is what EventBridge Scheduler (and the webhook, the CLI
// and a follow-up invocation) sends the fetch function: {"jobId": "..."}
// plus optional overrides.
type SchedulerPayload = scheduler.Payload

// Jobs finds a job's configuration.
type Jobs interface {
	Job(id string) (*job.Job, bool)
}

// Runner runs a job: fetch.Service.
type Runner interface {
	Run(ctx context.Context, j *job.Job, req fetch.RunOptions) (run.Run, error)
}

// Invoker invokes the fetch function asynchronously with a payload.
type Invoker interface {
	InvokeAsync(ctx context.Context, payload []byte) error
}

// FetchResult is what the fetch function returns (visible in the Lambda
// console and to a synchronous caller such as `connector run --aws`).
type FetchResult struct {
	JobID    string  `json:"jobId"`
	Run      run.Run `json:"run"`
	Skipped  string  `json:"skipped,omitempty"`
	Continue bool    `json:"continued"`
}

// Fetch handles the fetch function's invocations.
type Fetch struct {
	Jobs    Jobs
	Runner  Runner
	Invoker Invoker // nil: no follow-up invocation (the next schedule continues)
	Logger  *slog.Logger
	Now     func() time.Time
	// MaxChain bounds follow-up invocations of one backlog (default 1000:
	// with 1000 messages a run, a million messages).
	MaxChain int
	// Metrics, when set, receives each run's figures (embedded metric format).
	Metrics *metrics.Writer
	// Push, when set, collapses Graph notifications (package push): a run
	// clears the job's pending mark as it starts, and a mark set while it
	// ran starts one more run at its end.
	Push store.Push
}

// UnknownJobError is returned for a payload naming no configured job.
type UnknownJobError struct{ JobID string }

func (e *UnknownJobError) Error() string {
	return fmt.Sprintf("fetch: job %q is not in the jobs file", e.JobID)
}

// Handle runs the job the payload names. A job run already in progress
// (the schedule fired twice, or a push came during a poll) is not an
// error: the running one picks up the mail.
func (h *Fetch) Handle(ctx context.Context, p SchedulerPayload) (FetchResult, error) {
	log := h.Logger
	if log == nil {
		log = slog.Default()
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	res := FetchResult{JobID: p.JobID}
	if p.JobID == "" {
		return res, errors.New("fetch: the payload has no jobId")
	}
	j, ok := h.Jobs.Job(p.JobID)
	if !ok {
		return res, &UnknownJobError{JobID: p.JobID}
	}
	log = log.With("job", j.ID)
	trigger := p.Trigger
	if trigger == "" {
		trigger = "schedule"
	}
	if !p.Force && trigger == "schedule" && !j.Schedule.Within(now()) {
		res.Skipped = "outside the job's schedule window"
		log.Info("run skipped", "reason", res.Skipped)
		return res, nil
	}
	// A disabled job (the jobs file, or `connector disable` stored in the
	// table) is the runner's to decide: its run ends at once as disabled,
	// and the schedule stays.
	req := fetch.RunOptions{Trigger: trigger, MaxMessages: p.MaxMessages, Force: p.Force}
	if dl, ok := ctx.Deadline(); ok {
		req.Deadline = dl
	}
	var r run.Run
	fetchOnce := func(ctx context.Context) (push.RunEnd, error) {
		var err error
		r, err = h.Runner.Run(ctx, j, req)
		res.Run = r
		h.emit(j.ID, r, log)
		var held *fetch.LeaseHeldError
		switch {
		case errors.As(err, &held):
			res.Skipped = "another run holds the job"
			log.Info("run skipped", "reason", res.Skipped)
			return push.Held, nil
		case err != nil:
			return 0, err
		case r.Status == run.Disabled, r.Status == run.Skipped:
			// Disabled, or a quiet mailbox not yet due (job
			// schedule.idleEvery): the last note says why.
			res.Skipped = string(r.Status)
			if len(r.Notes) > 0 {
				res.Skipped = r.Notes[len(r.Notes)-1]
			}
			return push.Done, nil
		case r.More:
			return push.More, nil
		}
		return push.Done, nil
	}
	// With push, a burst of notifications is one fetch (package push). A
	// job not subscribed has no pending mark to clear or to look for:
	// its runs spare the store those two writes.
	var burst *push.Burst
	var again func(context.Context) error
	if h.Push != nil && push.Enabled(j) {
		burst = &push.Burst{Store: h.Push, Logger: h.Logger, Now: now}
	}
	if h.Invoker != nil {
		again = func(ctx context.Context) error {
			return h.Invoker.InvokeAsync(ctx, SchedulerPayload{JobID: j.ID, Trigger: "push"}.Encode())
		}
	}
	cont, err := burst.Run(ctx, j.ID, trigger, fetchOnce, again)
	if err != nil {
		return res, err
	}
	res.Continue = cont
	if res.Skipped != "" {
		return res, nil
	}
	max := h.MaxChain
	if max == 0 {
		max = 1000
	}
	if r.More && h.Invoker != nil {
		if p.Chain >= max {
			log.Warn("backlog remains but the follow-up chain reached its bound; the next schedule continues", "chain", p.Chain)
			return res, nil
		}
		next := SchedulerPayload{JobID: j.ID, Trigger: "continue", MaxMessages: p.MaxMessages, Force: p.Force, Chain: p.Chain + 1}
		if err := h.Invoker.InvokeAsync(ctx, next.Encode()); err != nil {
			// The next scheduled run continues anyway.
			log.Error("invoke a follow-up run", "err", err)
			return res, nil
		}
		res.Continue = true
	}
	return res, nil
}

// emit writes a run's metrics; a quiet run writes none (see quiet).
func (h *Fetch) emit(jobID string, r run.Run, log *slog.Logger) {
	if h.Metrics == nil || r.Status == run.Skipped || quiet(r) {
		return
	}
	vals := []metrics.Value{
		{Name: metrics.MessagesFetched, Unit: metrics.Count, Value: float64(r.Fetched)},
		{Name: metrics.BytesFetched, Unit: metrics.Bytes, Value: float64(r.Bytes)},
		{Name: metrics.Backlog, Unit: metrics.Count, Value: float64(r.Backlog)},
	}
	if !r.EndedAt.IsZero() {
		vals = append(vals, metrics.Value{Name: metrics.RunDuration, Unit: metrics.Milliseconds, Value: float64(r.EndedAt.Sub(r.StartedAt).Milliseconds())})
	}
	vals = append(vals, metrics.Value{Name: metrics.ConsecutiveConnectionFailures, Unit: metrics.Count, Value: float64(r.ConsecutiveFailures)})
	if err := h.Metrics.Put(jobID, vals...); err != nil {
		log.Warn("write metrics", "err", err)
	}
}

// quiet reports a run with nothing to tell: it found nothing
// (run.FoundNothing) after a success. Its metrics would all be 0,
// and CloudWatch bills each of a job's custom metrics for every hour it
// receives a value: a job polled every few minutes that wrote them on
// every run would pay for five metrics all month while its mailbox sits
// empty. Dashboards show no point for such runs rather than a 0; the
// connection alarm keeps its state over missing data (its 0 comes with
// the recovered run).
func quiet(r run.Run) bool {
	return r.FoundNothing() && r.Bytes == 0 && r.ConsecutiveFailures == 0 && !r.Recovered
}
