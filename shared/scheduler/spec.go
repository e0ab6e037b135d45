package scheduler

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNotFound means EventBridge Scheduler holds no schedule of that name.
var ErrNotFound = errors.New("scheduler: no such schedule")

// The states of a schedule.
const (
	Enabled  = "ENABLED"
	Disabled = "DISABLED"
)

// Spec is one EventBridge Scheduler schedule in the terms a person can
// change in the console: the expression, its time zone, the start and end
// dates, the flexible time window and the state. The target (the fetch
// function with Payload{JobID}) is not part of it: the connector always
// writes the same one.
type Spec struct {
	Name       string
	JobID      string // from the target input; "" for a schedule not made for a job
	Expression string
	TimeZone   string
	StartDate  time.Time // zero when unbounded
	EndDate    time.Time // zero when unbounded
	State      string    // Enabled or Disabled
	// FlexibleWindow is the flexible time window in minutes; 0 is OFF.
	FlexibleWindow int
}

// Differences names the fields in which s and o differ ("expression",
// "time zone", "start date", "end date", "flexible window", "state");
// none when they describe the same schedule. An empty time zone is UTC.
func (s Spec) Differences(o Spec) []string {
	var d []string
	if s.Expression != o.Expression {
		d = append(d, "expression")
	}
	if zone(s.TimeZone) != zone(o.TimeZone) {
		d = append(d, "time zone")
	}
	if !s.StartDate.Equal(o.StartDate) {
		d = append(d, "start date")
	}
	if !s.EndDate.Equal(o.EndDate) {
		d = append(d, "end date")
	}
	if s.FlexibleWindow != o.FlexibleWindow {
		d = append(d, "flexible window")
	}
	if state(s.State) != state(o.State) {
		d = append(d, "state")
	}
	return d
}

// Same reports whether s and o describe the same schedule.
func (s Spec) Same(o Spec) bool { return len(s.Differences(o)) == 0 }

func zone(tz string) string {
	if tz == "" {
		return "UTC"
	}
	return tz
}

func state(s string) string {
	if s == "" {
		return Enabled
	}
	return s
}

// String says the spec in EventBridge's terms, on one line:
// "cron(0/5 8-17 ? * MON-FRI *) Europe/Berlin, from 2027-01-04T00:00Z, flexible 15 min, DISABLED".
func (s Spec) String() string {
	var b strings.Builder
	b.WriteString(s.Expression)
	b.WriteString(" " + zone(s.TimeZone))
	if !s.StartDate.IsZero() {
		b.WriteString(", from " + s.StartDate.UTC().Format("2006-01-02T15:04Z"))
	}
	if !s.EndDate.IsZero() {
		b.WriteString(", until " + s.EndDate.UTC().Format("2006-01-02T15:04Z"))
	}
	if s.FlexibleWindow > 0 {
		fmt.Fprintf(&b, ", flexible %d min", s.FlexibleWindow)
	}
	if state(s.State) != Enabled {
		b.WriteString(", " + s.State)
	}
	return b.String()
}
