package job

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// fieldCheck is the range of one numeric field of a job. Every range
// check of Validate goes through fieldChecks, and so does the refusal of
// an explicit zero (explicitZeros).
type fieldCheck struct {
	field string // path in the job, e.g. limits.batchSize
	// value reads the field after defaults; nil for a field checked
	// elsewhere (only noZero applies).
	value    func(j *Job) int64
	min, max int64                // inclusive
	msg      func(v int64) string // what is wrong with v out of range
	// applies, when set, limits the check to the jobs it returns true for.
	applies func(j *Job) bool
	// noZero refuses a 0 written in the file: left out, the field takes a
	// default, but an explicit zero is a mistake (a schedule that never
	// waits, a batch of nothing, a run with no time, a message of no parts).
	noZero bool
}

const unbounded = math.MaxInt64

// notNegative says "must not be negative", with note after it.
func notNegative(note string) func(int64) string {
	return func(int64) string { return strings.TrimSpace("must not be negative " + note) }
}

// between says "v is not between lo and hi".
func between(lo, hi int64) func(int64) string {
	return func(v int64) string { return fmt.Sprintf("%d is not between %d and %d", v, lo, hi) }
}

// bytesBetween says "v bytes is not between lo and hi".
func bytesBetween(lo, hi int64) func(int64) string {
	return func(v int64) string { return fmt.Sprintf("%d bytes is not between %d and %d", v, lo, hi) }
}

// count checks a count in [1, max]; an explicit zero is refused.
func count(field string, max int64, value func(j *Job) int64) fieldCheck {
	return fieldCheck{field: field, value: value, min: 1, max: max, msg: between(1, max), noZero: true}
}

// size checks a byte size in [min, max]; an explicit zero is refused.
func size(field string, min, max int64, value func(j *Job) int64) fieldCheck {
	return fieldCheck{field: field, value: value, min: min, max: max, msg: bytesBetween(min, max), noZero: true}
}

var fieldChecks = []fieldCheck{
	{field: "server.port", value: func(j *Job) int64 { return int64(j.Server.Port) }, min: 1, max: 65535,
		msg: func(v int64) string { return fmt.Sprintf("%d is not a port (1-65535)", v) },
		// An unknown protocol has no default port: its one error says so.
		// An ews job without a host has no port (validateEWS says so).
		applies: func(j *Job) bool {
			s := &j.Server
			return (s.Port != 0 || DefaultPort(s.Protocol, s.Security) != 0) && (s.Protocol != EWS || s.Host != "")
		}},
	{field: "schedule.every", noZero: true},
	{field: "incoming.onError.stopAfter", value: func(j *Job) int64 { return int64(j.Incoming.OnError.StopAfter) }, max: unbounded, msg: notNegative("")},
	{field: "processing.maxNewRequestsPerSenderPerHour", value: func(j *Job) int64 { return int64(j.Processing.MaxNewRequestsPerSenderPerHour) }, max: unbounded, msg: notNegative("(0: no cap)")},
	{field: "processing.subjectWindow", value: func(j *Job) int64 { return int64(j.Processing.SubjectWindow) }, max: unbounded, msg: notNegative("(0: off)")},
	{field: "attachments.maxSize", value: func(j *Job) int64 { return int64(j.Attachments.MaxSize) }, max: unbounded, msg: notNegative("")},
	{field: "notifications.connectionFailures", value: func(j *Job) int64 { return int64(j.Notifications.ConnectionFailures) }, max: unbounded, msg: notNegative("")},
	// 0 is the default (1 and 20); the message names the range that takes effect.
	{field: "notifications.senderNoticesPerAddressPerHour", value: func(j *Job) int64 { return int64(j.Notifications.SenderNoticesPerAddressPerHour) }, max: 60, msg: between(1, 60)},
	{field: "notifications.senderNoticesPerHour", value: func(j *Job) int64 { return int64(j.Notifications.SenderNoticesPerHour) }, max: 10000, msg: between(1, 10000)},
	{field: "limits.maxMessagesPerRun", value: func(j *Job) int64 { return int64(j.Limits.MaxMessagesPerRun) }, max: unbounded, msg: notNegative("")},
	{field: "limits.batchSize", value: func(j *Job) int64 { return int64(j.Limits.BatchSize) }, min: 1, max: 1000, msg: between(1, 1000), noZero: true},
	{field: "limits.maxMessageSize", value: func(j *Job) int64 { return int64(j.Limits.MaxMessageSize) }, max: unbounded, msg: notNegative("")},
	{field: "limits.maxRunTime", value: func(j *Job) int64 { return int64(j.Limits.MaxRunTime) }, max: int64(MaxRunTime), noZero: true,
		msg: func(v int64) string {
			return fmt.Sprintf("%s is over 15m or negative (a run is one Lambda invocation, at most 15 minutes)", time.Duration(v))
		}},
	count("limits.maxParts", maxMaxParts, func(j *Job) int64 { return int64(j.Limits.MaxParts) }),
	count("limits.maxDepth", maxMaxDepth, func(j *Job) int64 { return int64(j.Limits.MaxDepth) }),
	count("limits.maxAttachments", maxMaxAttachments, func(j *Job) int64 { return int64(j.Limits.MaxAttachments) }),
	size("limits.maxHeaderSize", 16<<10, maxMaxHeaderSize, func(j *Job) int64 { return int64(j.Limits.MaxHeaderSize) }),
	size("limits.maxDecodedSize", 1<<20, maxMaxDecodedSize, func(j *Job) int64 { return int64(j.Limits.MaxDecodedSize) }),
	retentionCheck("rawDays", func(r *Retention) *int { return &r.RawDays }),
	retentionCheck("normalizedDays", func(r *Retention) *int { return &r.NormalizedDays }),
}

// checkFields runs the range checks of fieldChecks on j.
func (j *Job) checkFields(add func(field, format string, args ...any)) {
	for _, c := range fieldChecks {
		if c.value == nil || (c.applies != nil && !c.applies(j)) {
			continue
		}
		if v := c.value(j); v < c.min || v > c.max {
			add(c.field, "%s", c.msg(v))
		}
	}
}
