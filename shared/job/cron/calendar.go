package cron

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"mailconnector/shared/lazyre"
)

// Occurrence is how often a Calendar's days come round.
type Occurrence int

// The occurrences.
const (
	Daily   Occurrence = iota // every day
	Weekly                    // on Calendar.Weekdays
	Monthly                   // on Calendar.DayOfMonth
	Yearly                    // on Calendar.DayOfMonth of Calendar.Month
)

// Clock is a wall time of day in minutes after midnight (0 to 1439).
type Clock int

var clockPattern = lazyre.New(`^([01]?\d|2[0-3]):([0-5]\d)$`)

// ParseClock reads a time of day written HH:MM (or H:MM).
func ParseClock(v string) (Clock, bool) {
	m := clockPattern.FindStringSubmatch(v)
	if m == nil {
		return 0, false
	}
	h, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(m[2])
	return Clock(h*60 + mi), true
}

// String writes c as HH:MM.
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", c/60, c%60) }

// EndOfDay is the last minute of a day, 23:59.
const EndOfDay Clock = 24*60 - 1

// Calendar is a schedule of wall times on chosen days: once a day At, or
// every Every from From to To. Its rules, in the schedule's time zone:
//
//   - Every restarts each selected day at From and runs at From,
//     From+Every, … while the wall time is not after To. Every 15m from
//     08:00 to 18:00 therefore runs 08:00 … 17:45 and 18:00.
//   - A DayOfMonth that a month lacks (31 in April, 29 in February of a
//     common year) skips that month, as the compiled cron expression does.
//
// The caller checks the fields: Every a whole number of minutes that
// divides an hour, or whole hours up to a day; From before To; DayOfMonth
// 1-31 for Monthly and Yearly, and a day Month has for Yearly; one or more
// Weekdays for Weekly.
type Calendar struct {
	Occurrence Occurrence
	Weekdays   []time.Weekday // Weekly
	DayOfMonth int            // Monthly and Yearly
	Month      time.Month     // Yearly

	// At is the one run of the day, when Every is 0.
	At Clock
	// Every is the time between runs; From (default 00:00) and To (0 for
	// the default 23:59) bound them, both inclusive.
	Every    time.Duration
	From, To Clock
}

func (c Calendar) build(s *Schedule) {
	s.kind = kindCalendar
	s.hourOK = func(int) bool { return true }
	if c.Every <= 0 {
		s.times = []int{int(c.At)}
	} else {
		to := c.To
		if to == 0 {
			to = EndOfDay
		}
		s.window = c.From != 0 || c.To != 0
		s.from, s.to = int(c.From), int(to)
		step := int(c.Every / time.Minute)
		for m := s.from; m <= s.to; m += max(step, 1) {
			s.times = append(s.times, m)
		}
	}

	dom, month := c.DayOfMonth, c.Month
	switch c.Occurrence {
	case Weekly:
		var weekdays [8]bool // SUN=1 … SAT=7, as in cron
		var ds []int
		for _, d := range c.Weekdays {
			weekdays[int(d)+1] = true
		}
		for i := 1; i <= 7; i++ {
			if weekdays[i] {
				ds = append(ds, i)
			}
		}
		s.dayOK = func(y int, m time.Month, d int) bool {
			return weekdays[int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday())+1]
		}
		s.cronDays = "? * " + formatDays(ds)
		s.days = weekdayWords(weekdays)
	case Monthly:
		s.dayOK = func(_ int, _ time.Month, d int) bool { return d == dom }
		s.cronDays = fmt.Sprintf("%d * ?", dom)
		s.days = fmt.Sprintf("monthly on day %d", dom)
	case Yearly:
		s.dayOK = func(_ int, m time.Month, d int) bool { return m == month && d == dom }
		s.cronDays = fmt.Sprintf("%d %d ?", dom, month)
		s.days = fmt.Sprintf("yearly on %s %d", month.String()[:3], dom)
	default:
		s.dayOK = func(int, time.Month, int) bool { return true }
		s.cronDays = "* * ?"
	}
}

// Expressions returns EventBridge Scheduler expressions that together fire
// at exactly the times Next returns, given the same time zone and days
// (ScheduleExpressionTimezone, StartDate and EndDate). An Expression is
// returned as it is. A Calendar compiles exactly: when one cron expression
// cannot express its window (every 15m from 08:00 to 18:00 ends with a lone
// 18:00; every 20m from 08:10 to 17:40 has a shorter last hour), the result
// holds one expression per group of hours that share the same minutes.
func (s *Schedule) Expressions() []string {
	if s.expr != nil {
		return []string{s.expr.text}
	}
	byHour := map[int][]int{}
	for _, mod := range s.times {
		byHour[mod/60] = append(byHour[mod/60], mod%60)
	}
	type group struct {
		minutes string
		hours   []int
	}
	var groups []*group
	index := map[string]*group{}
	for h := 0; h < 24; h++ {
		ms, ok := byHour[h]
		if !ok {
			continue
		}
		key := formatSet(ms, 0, 59)
		g := index[key]
		if g == nil {
			g = &group{minutes: key}
			index[key] = g
			groups = append(groups, g)
		}
		g.hours = append(g.hours, h)
	}
	out := make([]string, 0, len(groups))
	for _, g := range groups {
		out = append(out, fmt.Sprintf("cron(%s %s %s *)", g.minutes, formatSet(g.hours, 0, 23), s.cronDays))
	}
	return out
}

// formatSet writes sorted values of a cron field in [lo, hi]: "*", "a/step"
// for a progression that runs to hi, runs of three or more as "a-b", the
// rest as a list.
func formatSet(vs []int, lo, hi int) string {
	if len(vs) == hi-lo+1 {
		return "*"
	}
	if len(vs) >= 2 {
		step := vs[1] - vs[0]
		prog := step > 1
		for i := 2; i < len(vs) && prog; i++ {
			prog = vs[i]-vs[i-1] == step
		}
		if prog && vs[len(vs)-1]+step > hi {
			return fmt.Sprintf("%d/%d", vs[0], step)
		}
	}
	var parts []string
	for i := 0; i < len(vs); {
		j := i
		for j+1 < len(vs) && vs[j+1] == vs[j]+1 {
			j++
		}
		switch {
		case j-i >= 2:
			parts = append(parts, fmt.Sprintf("%d-%d", vs[i], vs[j]))
		case j-i == 1:
			parts = append(parts, strconv.Itoa(vs[i]), strconv.Itoa(vs[j]))
		default:
			parts = append(parts, strconv.Itoa(vs[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

var cronDayNames = []string{"", "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}

// formatDays writes sorted day-of-week numbers (SUN=1) as names, runs of
// three or more as ranges: MON-FRI, SUN,SAT.
func formatDays(ds []int) string {
	var parts []string
	for i := 0; i < len(ds); {
		j := i
		for j+1 < len(ds) && ds[j+1] == ds[j]+1 {
			j++
		}
		if j-i >= 2 {
			parts = append(parts, cronDayNames[ds[i]]+"-"+cronDayNames[ds[j]])
		} else {
			for k := i; k <= j; k++ {
				parts = append(parts, cronDayNames[ds[k]])
			}
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
