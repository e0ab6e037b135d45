package job

// Schedules.
//
// A Schedule is either an EventBridge Scheduler expression (rate, cron or
// at) or the structured fields. This file checks the fields and turns them
// into a cron.Schedule, which computes run times (Next) for the local
// ticker and the tests, tells whether an instant lies inside the
// schedule's active window (Within), compiles the structured form to
// EventBridge Scheduler expressions (Expressions) for the CDK app, and
// says the schedule in words (Describe). Semantics, all in the schedule's
// TimeZone (default UTC):
//
//   - StartDate and EndDate are inclusive days: runs happen from 00:00 on
//     StartDate until the end of EndDate, local time.
//   - Every restarts each selected day at From (default 00:00) and runs at
//     From, From+Every, … while the wall time is not after To (default
//     23:59). Every 15m from 08:00 to 18:00 therefore runs 08:00 … 17:45
//     and 18:00.
//   - A monthly or yearly DayOfMonth that a month lacks (31 in April, 29 in
//     February of a common year) skips that month, as the compiled cron
//     expression does. Use an expression with L for "last day of month".
//   - Daylight saving time, rate(), cron() and at() follow EventBridge
//     Scheduler, as the cron package documents.

import (
	"fmt"
	"strings"
	"time"

	"mailconnector/shared/job/cron"
)

// ScheduleError is a problem with a schedule block; Field is relative to it.
type ScheduleError struct {
	Field string
	Msg   string
}

func (e *ScheduleError) Error() string { return e.Field + ": " + e.Msg }

// Validate checks the schedule block. It accepts a block without defaults
// applied (no Every, no At: every 5 minutes; no Occurrence: daily).
func (s *Schedule) Validate() *ScheduleError {
	if _, err := s.compile(); err != nil {
		return err
	}
	return s.checkIdle()
}

// Next returns the first run time strictly after after, and false when
// there is none (past EndDate, an at() in the past, an invalid schedule).
// The result is in the schedule's time zone.
func (s *Schedule) Next(after time.Time) (time.Time, bool) {
	c, err := s.compile()
	if err != nil {
		return time.Time{}, false
	}
	return c.Next(after)
}

// Within reports whether t lies inside the schedule's active window, at
// minute precision in the schedule's time zone: between StartDate and
// EndDate, on a day the occurrence (or the cron day, month and year fields)
// selects, and between From and To (inclusive) when the schedule has a
// window; for a cron expression the hour must be one the expression names.
// For rate() and at() only the dates count. The fetch function may use it
// to skip an invocation that a covering or stale schedule delivered outside
// the window; Expressions compiles windows exactly, so the schedules the CDK
// app creates never need it.
func (s *Schedule) Within(t time.Time) bool {
	c, err := s.compile()
	if err != nil {
		return false
	}
	return c.Within(t)
}

// Expressions compiles the schedule to EventBridge Scheduler expressions,
// one schedule each, all with ScheduleExpressionTimezone = TimeZone and the
// schedule's StartDate and EndDate. An Expression is returned as it is.
// The structured form compiles exactly: when one cron expression cannot
// express the window (every 15m from 08:00 to 18:00 ends with a lone 18:00;
// every 20m from 08:10 to 17:40 has a shorter last hour), the result holds
// one expression per group of hours that share the same minutes, so the
// union of the expressions fires at exactly the times Next returns.
func (s *Schedule) Expressions() ([]string, error) {
	c, err := s.compile()
	if err != nil {
		return nil, fmt.Errorf("compile schedule: %w", err)
	}
	return c.Expressions(), nil
}

// Describe says the schedule in words, with its time zone, window and
// dates: "every 5 min, Mon–Fri 08:00–18:00 Europe/Paris", "daily at 07:30
// UTC", "once at 2027-01-04 09:00 UTC, until 2027-01-31". An invalid
// schedule is described by its error.
func (s *Schedule) Describe() string {
	c, err := s.compile()
	if err != nil {
		return "invalid: " + err.Error()
	}
	return c.Describe()
}

// NextRun is the job's next run on its schedule strictly after after, and
// false when there is none: the job is disabled, or its schedule never
// fires again.
func (j *Job) NextRun(after time.Time) (time.Time, bool) {
	if !j.IsEnabled() {
		return time.Time{}, false
	}
	return j.Schedule.Next(after)
}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

// clockField reads the time of day v (HH:MM) of the schedule's field;
// def when v is empty.
func clockField(field, v string, def cron.Clock) (cron.Clock, *ScheduleError) {
	if v == "" {
		return def, nil
	}
	t, ok := cron.ParseClock(v)
	if !ok {
		return 0, schedErr(field, "%q is not a time of day (HH:MM)", v)
	}
	return t, nil
}

func schedErr(field, format string, args ...any) *ScheduleError {
	return &ScheduleError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

func (s *Schedule) compile() (*cron.Schedule, *ScheduleError) {
	var spec cron.Spec
	if expr := strings.TrimSpace(s.Expression); expr != "" {
		for _, f := range []struct {
			name string
			set  bool
		}{
			{"occurrence", s.Occurrence != ""}, {"days", len(s.Days) > 0}, {"dayOfMonth", s.DayOfMonth != 0},
			{"month", s.Month != 0}, {"at", s.At != ""}, {"every", s.Every != 0}, {"from", s.From != ""}, {"to", s.To != ""},
		} {
			if f.set {
				return nil, schedErr(f.name, "not allowed with expression")
			}
		}
		e, err := cron.ParseExpression(expr)
		if err != nil {
			return nil, schedErr("expression", "%v", err)
		}
		spec = e
	} else {
		cal, e := s.calendar()
		if e != nil {
			return nil, e
		}
		spec = cal
	}
	b, e := s.bounds()
	if e != nil {
		return nil, e
	}
	return cron.New(spec, b), nil
}

// bounds reads TimeZone, StartDate and EndDate.
func (s *Schedule) bounds() (cron.Bounds, *ScheduleError) {
	var b cron.Bounds
	loc, err := cron.LoadLocation(s.TimeZone)
	if err != nil {
		return b, schedErr("timeZone", "%v", err)
	}
	b.Location = loc
	if s.StartDate != "" {
		d, err := time.Parse(time.DateOnly, s.StartDate)
		if err != nil {
			return b, schedErr("startDate", "%q is not a date (YYYY-MM-DD)", s.StartDate)
		}
		b.Start = d
	}
	if s.EndDate != "" {
		d, err := time.Parse(time.DateOnly, s.EndDate)
		if err != nil {
			return b, schedErr("endDate", "%q is not a date (YYYY-MM-DD)", s.EndDate)
		}
		if !b.Start.IsZero() && d.Before(b.Start) {
			return b, schedErr("endDate", "%s is before startDate %s", s.EndDate, s.StartDate)
		}
		b.End = d
	}
	return b, nil
}

// calendar checks the structured fields and returns them as a calendar.
func (s *Schedule) calendar() (cron.Calendar, *ScheduleError) {
	var c cron.Calendar
	occ := strings.ToLower(s.Occurrence)
	if occ == "" {
		occ = "daily"
	}
	switch occ {
	case "daily":
		c.Occurrence = cron.Daily
	case "weekly":
		c.Occurrence = cron.Weekly
	case "monthly":
		c.Occurrence = cron.Monthly
	case "yearly":
		c.Occurrence = cron.Yearly
	default:
		return c, schedErr("occurrence", "%q is not one of daily, weekly, monthly, yearly", s.Occurrence)
	}
	if occ != "weekly" && len(s.Days) > 0 {
		return c, schedErr("days", "applies to weekly only (occurrence is %s)", occ)
	}
	if occ == "weekly" && len(s.Days) == 0 {
		return c, schedErr("days", "required for weekly: one or more of mon, tue, wed, thu, fri, sat, sun")
	}
	for i, d := range s.Days {
		n, ok := dayNames[strings.ToLower(strings.TrimSpace(d))]
		if !ok {
			return c, schedErr(fmt.Sprintf("days[%d]", i), "%q is not one of mon, tue, wed, thu, fri, sat, sun", d)
		}
		c.Weekdays = append(c.Weekdays, n)
	}
	switch occ {
	case "monthly", "yearly":
		if s.DayOfMonth < 1 || s.DayOfMonth > 31 {
			if s.DayOfMonth == 0 {
				return c, schedErr("dayOfMonth", "required for %s (1-31)", occ)
			}
			return c, schedErr("dayOfMonth", "%d is not between 1 and 31", s.DayOfMonth)
		}
	default:
		if s.DayOfMonth != 0 {
			return c, schedErr("dayOfMonth", "applies to monthly and yearly only (occurrence is %s)", occ)
		}
	}
	c.DayOfMonth = s.DayOfMonth
	if occ == "yearly" {
		if s.Month < 1 || s.Month > 12 {
			if s.Month == 0 {
				return c, schedErr("month", "required for yearly (1-12)")
			}
			return c, schedErr("month", "%d is not between 1 and 12", s.Month)
		}
		if s.DayOfMonth > cron.DaysIn(2000, time.Month(s.Month)) { // 2000 is a leap year
			return c, schedErr("dayOfMonth", "%s has no day %d", time.Month(s.Month), s.DayOfMonth)
		}
	} else if s.Month != 0 {
		return c, schedErr("month", "applies to yearly only (occurrence is %s)", occ)
	}
	c.Month = time.Month(s.Month)

	every := s.Every.D()
	if s.At != "" {
		at, err := clockField("at", s.At, 0)
		if err != nil {
			return c, err
		}
		if every != 0 {
			return c, schedErr("every", "not allowed with at: at runs once a day")
		}
		if s.From != "" || s.To != "" {
			field := "from"
			if s.From == "" {
				field = "to"
			}
			return c, schedErr(field, "needs every, not at")
		}
		c.At = at
		return c, nil
	}
	if every == 0 {
		every = DefaultEvery
	}
	switch {
	case every < time.Minute:
		return c, schedErr("every", "%s is less than 1m", every)
	case every%time.Minute != 0:
		return c, schedErr("every", "%s is not a whole number of minutes", every)
	case every < time.Hour && time.Hour%every != 0:
		return c, schedErr("every", "%s does not divide an hour: use 1, 2, 3, 4, 5, 6, 10, 12, 15, 20 or 30 minutes, or whole hours", every)
	case every > time.Hour && every%time.Hour != 0:
		return c, schedErr("every", "%s is not whole hours: use 1h, 2h, … or minutes that divide an hour", every)
	case every > 24*time.Hour:
		return c, schedErr("every", "%s is more than a day", every)
	}
	c.Every = every
	from, err := clockField("from", s.From, 0)
	if err != nil {
		return c, err
	}
	to, err := clockField("to", s.To, cron.EndOfDay)
	if err != nil {
		return c, err
	}
	if from >= to {
		return c, schedErr("to", "%s is not after from %s", s.To, s.From)
	}
	c.From, c.To = from, to
	return c, nil
}
