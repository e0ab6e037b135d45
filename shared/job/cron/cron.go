// Package cron computes when an EventBridge Scheduler schedule fires. A
// Schedule is a Spec, either an Expression (rate(...), cron(...) or at(...),
// as EventBridge Scheduler writes them) or a Calendar (wall times on chosen
// days), made concrete by Bounds: a time zone and inclusive first and last
// days. It gives the run times (Next), whether an instant lies in the
// schedule's active window (Within), EventBridge Scheduler expressions that
// fire at exactly those times (Expressions), and the schedule in words
// (Describe).
//
// Semantics, all in the schedule's time zone:
//
//   - Bounds.Start and Bounds.End are inclusive days: runs happen from 00:00
//     on Start until the end of End, local time.
//   - Daylight saving time follows EventBridge Scheduler: a wall time that
//     does not exist (spring forward, e.g. 02:30 on the last Sunday of March
//     in Europe/Berlin) is skipped, and the schedule continues with the next
//     wall time that does exist; a wall time that exists twice (fall back)
//     runs once, at its first occurrence.
//   - rate(N unit) runs every N units from 00:00 of Start (local), or,
//     without a Start, at the multiples of N since the Unix epoch (UTC),
//     so rate(5 minutes) runs at :00, :05, … EventBridge itself counts from
//     the moment the schedule is created.
//   - cron(...) follows EventBridge Scheduler cron: minutes hours
//     day-of-month month day-of-week year, one of the day fields "?",
//     with , - * / and L, W, LW in day-of-month, L, nL and n#k in
//     day-of-week (SUN=1 … SAT=7), names JAN-DEC and SUN-SAT, years
//     1970-2199
//     (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html).
//   - at(yyyy-mm-ddThh:mm:ss) runs once; a time in a DST gap runs at the
//     instant time.Date normalises it to (one hour later).
//
// Calendar documents its own rules.
package cron

import (
	"sort"
	"time"
)

// Bounds make a Spec concrete: the time zone its wall times are read in
// and the days it runs between.
type Bounds struct {
	// Location of the wall times; nil means UTC.
	Location *time.Location
	// Start and End are inclusive civil days, each at 00:00 UTC (as
	// time.Parse(time.DateOnly, …) returns them); zero means unbounded.
	// End must not be before Start.
	Start, End time.Time
}

// Spec says when a schedule fires, before Bounds apply: *Expression or
// Calendar.
type Spec interface {
	build(s *Schedule)
}

var (
	_ Spec = (*Expression)(nil)
	_ Spec = Calendar{}
)

type kind int

const (
	kindCalendar kind = iota // a Calendar or a cron expression
	kindRate
	kindAt
)

// Schedule is a Spec within Bounds, ready to compute run times.
type Schedule struct {
	kind     kind
	loc      *time.Location
	startDay time.Time // UTC midnight of the first day, zero when unbounded
	endDay   time.Time // UTC midnight of the last day, zero when unbounded

	expr *Expression // nil for a Calendar

	// kindCalendar
	dayOK    func(y int, m time.Month, d int) bool
	days     string // the days in words, for Describe; "" for every day
	times    []int  // minutes of the day, ascending
	hourOK   func(h int) bool
	window   bool
	from, to int    // minutes of the day, when window
	cronDays string // day-of-month month day-of-week, for Expressions
	maxYear  int    // last year to search; 0: nine years from the start

	// kindRate
	every  time.Duration
	anchor time.Time

	// kindAt
	at time.Time
}

// New returns the schedule spec gives within b.
func New(spec Spec, b Bounds) *Schedule {
	s := &Schedule{loc: b.Location, startDay: b.Start, endDay: b.End}
	if s.loc == nil {
		s.loc = time.UTC
	}
	spec.build(s)
	return s
}

// Location is the schedule's time zone.
func (s *Schedule) Location() *time.Location { return s.loc }

// endInstant is the first instant after the last day.
func (s *Schedule) endInstant() (time.Time, bool) {
	if s.endDay.IsZero() {
		return time.Time{}, false
	}
	return localMidnight(s.endDay.AddDate(0, 0, 1), s.loc), true
}

// Next returns the first run time strictly after after, and false when
// there is none (past the last day, an at() in the past). The result is in
// the schedule's time zone.
func (s *Schedule) Next(after time.Time) (time.Time, bool) {
	end, bounded := s.endInstant()
	inEnd := func(t time.Time) bool { return !bounded || t.Before(end) }
	switch s.kind {
	case kindAt:
		if s.at.After(after) && inEnd(s.at) && (s.startDay.IsZero() || !s.at.Before(localMidnight(s.startDay, s.loc))) {
			return s.at.In(s.loc), true
		}
		return time.Time{}, false
	case kindRate:
		t := s.anchor
		if !t.After(after) {
			k := after.Sub(t)/s.every + 1
			t = t.Add(k * s.every)
		}
		if !inEnd(t) {
			return time.Time{}, false
		}
		return t.In(s.loc), true
	}

	// Wall times more than 3h before after's wall clock cannot come after
	// it, whatever a DST shift does.
	low := civil(after, s.loc).Add(-3 * time.Hour)
	day := time.Date(low.Year(), low.Month(), low.Day(), 0, 0, 0, 0, time.UTC)
	lowMod := low.Hour()*60 + low.Minute()
	if !s.startDay.IsZero() && day.Before(s.startDay) {
		day, lowMod = s.startDay, 0
	}
	last := s.endDay
	if last.IsZero() {
		if s.maxYear != 0 {
			last = time.Date(s.maxYear, 12, 31, 0, 0, 0, 0, time.UTC)
		} else {
			last = day.AddDate(9, 0, 0) // yearly on Feb 29 skips 2100
		}
	}
	for first := true; !day.After(last); first = false {
		y, m, d := day.Date()
		if s.expr != nil {
			if !s.expr.f.yearOK(y) {
				day = time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC)
				continue
			}
			if !s.expr.f.months[m] {
				day = time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
				continue
			}
		}
		if s.dayOK(y, m, d) {
			i := 0
			if first {
				i = sort.SearchInts(s.times, lowMod)
			}
			for ; i < len(s.times); i++ {
				t, ok := resolve(y, m, d, s.times[i], s.loc)
				if ok && t.After(after) {
					if !inEnd(t) {
						return time.Time{}, false
					}
					return t, true
				}
			}
		}
		day = day.AddDate(0, 0, 1)
	}
	return time.Time{}, false
}

// Within reports whether t lies inside the schedule's active window, at
// minute precision in the schedule's time zone: between the first and last
// day, on a day the Calendar (or the cron day, month and year fields)
// selects, and between From and To (inclusive) when the Calendar has a
// window; for a cron expression the hour must be one the expression names.
// For rate() and at() only the days count.
func (s *Schedule) Within(t time.Time) bool {
	w := civil(t, s.loc)
	day := time.Date(w.Year(), w.Month(), w.Day(), 0, 0, 0, 0, time.UTC)
	if !s.startDay.IsZero() && day.Before(s.startDay) {
		return false
	}
	if !s.endDay.IsZero() && day.After(s.endDay) {
		return false
	}
	if s.kind != kindCalendar {
		return true
	}
	if s.expr != nil && (!s.expr.f.yearOK(w.Year()) || !s.expr.f.months[w.Month()]) {
		return false
	}
	if !s.dayOK(w.Year(), w.Month(), w.Day()) || !s.hourOK(w.Hour()) {
		return false
	}
	if s.window {
		mod := w.Hour()*60 + w.Minute()
		return mod >= s.from && mod <= s.to
	}
	return true
}
