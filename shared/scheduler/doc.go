// Package scheduler is about when jobs run.
//
// On AWS every job has one EventBridge Scheduler schedule (or several, when
// job.Schedule.Expressions compiles a window to more than one cron
// expression) in the connector's schedule group, with
// ScheduleExpressionTimezone, StartDate and EndDate taken from the job's
// schedule block and the payload {"jobId": "..."} (Payload, whose JSON the
// webhook, the CLI and follow-up invocations share). Each invocation
// starts one run of the fetch function. The administrator may edit or disable a
// schedule in the console; the fetch function never assumes the schedule it
// was deployed with, it only leases the job so that two invocations of one
// job never overlap.
//
// On a laptop, sub-package ticker stands in for EventBridge Scheduler: it
// fires each enabled job at each time job.Schedule.Next returns, skips a
// tick while the previous run of that job is still going, and accepts
// edits (Set, Disable, Enable) while it runs.
//
// The run times themselves (time zones, daylight saving time, windows,
// month ends, rate/cron/at expressions) are defined once, in package job.
package scheduler
