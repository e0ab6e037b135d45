package cron

import (
	"fmt"
	"strings"
	"time"
)

// Describe says the schedule in words for an operator's table: "every 5
// min, Mon–Fri 08:00–18:00 Europe/Paris", "daily at 07:30 UTC", "once at
// 2027-01-04 09:00 UTC", followed by ", from 2026-01-01 to 2026-03-31"
// (or only one of the days) when the schedule is bounded. A window names
// the first and last run of the day. A cron expression that words do not
// say plainly (nearest weekdays, months or years left out, irregular
// minutes) is given as it is, with its time zone.
func (s *Schedule) Describe() string {
	var b strings.Builder
	zone := " " + s.loc.String()
	switch s.kind {
	case kindRate:
		b.WriteString("every " + durationWords(s.every))
		if !s.startDay.IsZero() || !s.endDay.IsZero() {
			b.WriteString(zone)
		}
	case kindAt:
		b.WriteString("once at " + s.at.Format("2006-01-02 15:04") + zone)
	default:
		days, ok := s.days, true
		if s.expr != nil {
			days, ok = s.expr.f.dayWords()
		}
		when, whenOK := timesWords(s.times, days)
		if !ok || !whenOK {
			when = s.expr.text
		}
		b.WriteString(when + zone)
	}
	switch {
	case !s.startDay.IsZero() && !s.endDay.IsZero():
		fmt.Fprintf(&b, ", from %s to %s", s.startDay.Format(time.DateOnly), s.endDay.Format(time.DateOnly))
	case !s.startDay.IsZero():
		fmt.Fprintf(&b, ", from %s", s.startDay.Format(time.DateOnly))
	case !s.endDay.IsZero():
		fmt.Fprintf(&b, ", until %s", s.endDay.Format(time.DateOnly))
	}
	return b.String()
}

// timesWords says the runs of a day (minutes of the day, ascending) on the
// days in words ("" for every day): "daily at 07:30", "Mon–Fri at 07:00,
// 12:00" (up to four times, or two evenly spaced), "every 15 min, Mon–Fri
// 08:00–18:00". It reports false for more times not evenly spaced.
func timesWords(times []int, days string) (string, bool) {
	clocks := func() string {
		cs := make([]string, len(times))
		for i, t := range times {
			cs[i] = Clock(t).String()
		}
		return strings.Join(cs, ", ")
	}
	atWords := func() string {
		if days == "" {
			return "daily at " + clocks()
		}
		return days + " at " + clocks()
	}
	if len(times) == 0 {
		return "", false
	}
	if len(times) <= 2 {
		return atWords(), true
	}
	step := times[1] - times[0]
	for i := 2; i < len(times); i++ {
		if times[i]-times[i-1] != step {
			if len(times) <= 4 {
				return atWords(), true
			}
			return "", false
		}
	}
	first, last := times[0], times[len(times)-1]
	var rest []string
	if days != "" {
		rest = append(rest, days)
	}
	// Without a window the runs go round the clock at one pace, midnight
	// included.
	if first >= step || last+step < 24*60 || 24*60%step != 0 {
		rest = append(rest, Clock(first).String()+"–"+Clock(last).String())
	}
	w := "every " + durationWords(time.Duration(step)*time.Minute)
	if len(rest) > 0 {
		w += ", " + strings.Join(rest, " ")
	}
	return w, true
}

// durationWords says a whole number of minutes: "minute", "5 min", "hour",
// "2 hours", "day", "3 days".
func durationWords(d time.Duration) string {
	unit := func(n int64, one, many string) string {
		if n == 1 {
			return one
		}
		return fmt.Sprintf("%d %s", n, many)
	}
	switch {
	case d%(24*time.Hour) == 0:
		return unit(int64(d/(24*time.Hour)), "day", "days")
	case d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour", "hours")
	default:
		return unit(int64(d/time.Minute), "minute", "min")
	}
}

var weekdayAbbr = []string{"", "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// weekdayWords writes a day-of-week set (SUN=1 … SAT=7) from Monday on,
// runs of three or more as ranges: "Mon–Fri", "Sat, Sun"; "" for all seven.
func weekdayWords(set [8]bool) string {
	order := []int{2, 3, 4, 5, 6, 7, 1}
	var parts []string
	for i := 0; i < len(order); {
		if !set[order[i]] {
			i++
			continue
		}
		j := i
		for j+1 < len(order) && set[order[j+1]] {
			j++
		}
		switch {
		case j-i == 6:
			return ""
		case j-i >= 2:
			parts = append(parts, weekdayAbbr[order[i]]+"–"+weekdayAbbr[order[j]])
		default:
			for k := i; k <= j; k++ {
				parts = append(parts, weekdayAbbr[order[k]])
			}
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

var ordinals = []string{"", "first", "second", "third", "fourth", "fifth"}

// dayWords says the days the fields select ("" for every day), and false
// when the month or year fields leave some out.
func (c *fields) dayWords() (string, bool) {
	for m := 1; m <= 12; m++ {
		if !c.months[m] {
			return "", false
		}
	}
	for _, y := range c.years {
		if !y {
			return "", false
		}
	}
	if !c.dowAny {
		switch {
		case c.dowLast != 0:
			return "on the last " + weekdayAbbr[c.dowLast] + " of the month", true
		case c.dowNth != 0:
			return "on the " + ordinals[c.dowK] + " " + weekdayAbbr[c.dowNth] + " of the month", true
		}
		return weekdayWords(c.dow), true
	}
	switch {
	case c.domLast:
		return "on the last day of the month", true
	case c.domLastWeekday:
		return "on the last weekday of the month", true
	case c.domNearest != 0:
		return fmt.Sprintf("on the weekday nearest day %d of the month", c.domNearest), true
	}
	var ds []string
	for d := 1; d <= 31; d++ {
		if c.dom[d] {
			ds = append(ds, fmt.Sprint(d))
		}
	}
	switch len(ds) {
	case 31:
		return "", true
	case 1:
		return "monthly on day " + ds[0], true
	}
	return "monthly on days " + strings.Join(ds, ", "), true
}
