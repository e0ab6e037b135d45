package cron

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"mailconnector/shared/lazyre"
)

// Expression is a parsed EventBridge Scheduler expression: rate(...),
// cron(...) or at(...).
type Expression struct {
	text  string
	kind  kind
	every time.Duration // rate
	at    time.Time     // at: the wall time, read as UTC
	f     *fields       // cron
}

var (
	ratePattern = lazyre.New(`^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$`)
	cronPattern = lazyre.New(`^cron\((.*)\)$`)
	atPattern   = lazyre.New(`^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$`)
)

// ParseExpression reads rate(N minutes|hours|days), cron(minutes hours
// day-of-month month day-of-week year) or at(yyyy-mm-ddThh:mm:ss). The
// error quotes the expression and says what is wrong with it.
func ParseExpression(text string) (*Expression, error) {
	expr := strings.TrimSpace(text)
	e := &Expression{text: expr}
	switch {
	case ratePattern.MatchString(expr):
		m := ratePattern.FindStringSubmatch(expr)
		n, err := strconv.Atoi(m[1])
		if err != nil || n < 1 || n > 1_000_000 {
			return nil, fmt.Errorf("%q: the rate must be a positive whole number", expr)
		}
		unit := m[2]
		if (n == 1) != !strings.HasSuffix(unit, "s") {
			return nil, fmt.Errorf("%q: use the singular unit for 1 and the plural otherwise, e.g. rate(1 hour), rate(5 minutes)", expr)
		}
		d := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(unit, "s")]
		e.kind = kindRate
		e.every = time.Duration(n) * d
	case cronPattern.MatchString(expr):
		f, err := parseFields(cronPattern.FindStringSubmatch(expr)[1])
		if err != nil {
			return nil, fmt.Errorf("%q: %w", expr, err)
		}
		e.kind = kindCalendar
		e.f = f
	case atPattern.MatchString(expr):
		v := atPattern.FindStringSubmatch(expr)[1]
		t, err := time.Parse("2006-01-02T15:04:05", v)
		if err != nil {
			return nil, fmt.Errorf("%q: %s is not a date and time", expr, v)
		}
		e.kind = kindAt
		e.at = t
	default:
		return nil, fmt.Errorf("%q is not rate(N minutes|hours|days), cron(minutes hours day-of-month month day-of-week year) or at(yyyy-mm-ddThh:mm:ss)", expr)
	}
	return e, nil
}

// String returns the expression as parsed, without surrounding space.
func (e *Expression) String() string { return e.text }

func (e *Expression) build(s *Schedule) {
	s.kind = e.kind
	s.expr = e
	switch e.kind {
	case kindRate:
		s.every = e.every
		if !s.startDay.IsZero() {
			s.anchor = localMidnight(s.startDay, s.loc)
		} else {
			s.anchor = time.Unix(0, 0)
		}
	case kindAt:
		a := e.at
		s.at = time.Date(a.Year(), a.Month(), a.Day(), a.Hour(), a.Minute(), a.Second(), 0, s.loc)
	case kindCalendar:
		f := e.f
		s.dayOK = f.matchDay
		s.hourOK = func(h int) bool { return f.hours[h] }
		s.times = f.dayTimes()
		s.maxYear = maxYear
	}
}

// EventBridge Scheduler cron years.
const (
	minYear = 1970
	maxYear = 2199
)

// fields are the parsed fields of cron(...).
type fields struct {
	minutes [60]bool
	hours   [24]bool
	months  [13]bool // 1-12
	years   [maxYear - minYear + 1]bool

	domAny         bool     // "?"
	dom            [32]bool // 1-31
	domLast        bool     // L
	domLastWeekday bool     // LW
	domNearest     int      // nW: the weekday nearest day n

	dowAny  bool
	dow     [8]bool // SUN=1 … SAT=7
	dowLast int     // nL: the last day n of the month
	dowNth  int     // n#k: day n …
	dowK    int     // … in week k of the month
}

var (
	monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	dowNames   = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}

	nearestPattern = lazyre.New(`^(\d{1,2})W$`)
	dowLastPattern = lazyre.New(`^([1-7]|[A-Za-z]{3})L$`)
	dowNthPattern  = lazyre.New(`^([1-7]|[A-Za-z]{3})#([1-5])$`)
)

// parseFields reads the six fields of cron(...).
func parseFields(body string) (*fields, error) {
	f := strings.Fields(body)
	if len(f) != 6 {
		return nil, fmt.Errorf("want 6 fields (minutes hours day-of-month month day-of-week year), got %d", len(f))
	}
	c := &fields{}
	if err := parseField(f[0], 0, 59, nil, c.minutes[:]); err != nil {
		return nil, fmt.Errorf("minutes: %w", err)
	}
	if err := parseField(f[1], 0, 23, nil, c.hours[:]); err != nil {
		return nil, fmt.Errorf("hours: %w", err)
	}
	if err := parseField(f[3], 1, 12, monthNames, c.months[:]); err != nil {
		return nil, fmt.Errorf("month: %w", err)
	}
	years := make([]bool, maxYear+1)
	if err := parseField(f[5], minYear, maxYear, nil, years); err != nil {
		return nil, fmt.Errorf("year: %w", err)
	}
	copy(c.years[:], years[minYear:])

	dom, dow := strings.ToUpper(f[2]), strings.ToUpper(f[4])
	c.domAny, c.dowAny = dom == "?", dow == "?"
	if c.domAny == c.dowAny {
		return nil, fmt.Errorf("exactly one of day-of-month and day-of-week must be ?")
	}
	if !c.domAny {
		switch {
		case dom == "L":
			c.domLast = true
		case dom == "LW":
			c.domLastWeekday = true
		case nearestPattern.MatchString(dom):
			n, _ := strconv.Atoi(nearestPattern.FindStringSubmatch(dom)[1])
			if n < 1 || n > 31 {
				return nil, fmt.Errorf("day-of-month: %d is not between 1 and 31", n)
			}
			c.domNearest = n
		default:
			if err := parseField(dom, 1, 31, nil, c.dom[:]); err != nil {
				return nil, fmt.Errorf("day-of-month: %w", err)
			}
		}
	}
	if !c.dowAny {
		switch {
		case dow == "L":
			c.dow[7] = true // the last day of the week: Saturday
		case dowLastPattern.MatchString(dow):
			n, err := fieldValue(dowLastPattern.FindStringSubmatch(dow)[1], 1, 7, dowNames)
			if err != nil {
				return nil, fmt.Errorf("day-of-week: %w", err)
			}
			c.dowLast = n
		case dowNthPattern.MatchString(dow):
			m := dowNthPattern.FindStringSubmatch(dow)
			n, err := fieldValue(m[1], 1, 7, dowNames)
			if err != nil {
				return nil, fmt.Errorf("day-of-week: %w", err)
			}
			c.dowNth, c.dowK = n, int(m[2][0]-'0')
		default:
			if err := parseField(dow, 1, 7, dowNames, c.dow[:]); err != nil {
				return nil, fmt.Errorf("day-of-week: %w", err)
			}
		}
	}
	return c, nil
}

func fieldValue(v string, lo, hi int, names map[string]int) (int, error) {
	if n, ok := names[strings.ToUpper(v)]; ok {
		return n, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a value", v)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d is not between %d and %d", n, lo, hi)
	}
	return n, nil
}

// parseField reads a comma list of *, a, a-b (wrapping when a > b), each
// with an optional /step, into set (indexed by value).
func parseField(field string, lo, hi int, names map[string]int, set []bool) error {
	for _, part := range strings.Split(field, ",") {
		base, stepStr, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepStr)
			if err != nil || n < 1 || n > hi-lo+1 {
				return fmt.Errorf("%q: step %q is not between 1 and %d", part, stepStr, hi-lo+1)
			}
			step = n
		}
		var a, b int
		switch {
		case base == "*":
			a, b = lo, hi
		case strings.Contains(base, "-"):
			x, y, _ := strings.Cut(base, "-")
			var err error
			if a, err = fieldValue(x, lo, hi, names); err != nil {
				return err
			}
			if b, err = fieldValue(y, lo, hi, names); err != nil {
				return err
			}
		default:
			var err error
			if a, err = fieldValue(base, lo, hi, names); err != nil {
				return err
			}
			b = a
			if hasStep {
				b = hi
			}
		}
		n := b - a
		if n < 0 {
			n += hi - lo + 1
		}
		for i := 0; i <= n; i += step {
			v := a + i
			if v > hi {
				v -= hi - lo + 1
			}
			set[v] = true
		}
	}
	return nil
}

func (c *fields) yearOK(y int) bool {
	return y >= minYear && y <= maxYear && c.years[y-minYear]
}

// matchDay reports whether the day-of-month or day-of-week field selects
// the date (the month and year are checked by the caller).
func (c *fields) matchDay(y int, m time.Month, d int) bool {
	if !c.yearOK(y) || !c.months[m] {
		return false
	}
	last := DaysIn(y, m)
	wd := func(day int) int { return int(time.Date(y, m, day, 0, 0, 0, 0, time.UTC).Weekday()) + 1 }
	if c.dowAny {
		switch {
		case c.domLast:
			return d == last
		case c.domLastWeekday:
			n := last
			switch wd(last) {
			case 7:
				n = last - 1
			case 1:
				n = last - 2
			}
			return d == n
		case c.domNearest != 0:
			n := c.domNearest
			if n > last {
				return false
			}
			switch wd(n) {
			case 7: // Saturday: Friday before, or Monday when that leaves the month
				if n == 1 {
					n = 3
				} else {
					n--
				}
			case 1: // Sunday: Monday after, or Friday when that leaves the month
				if n == last {
					n -= 2
				} else {
					n++
				}
			}
			return d == n
		}
		return c.dom[d]
	}
	w := wd(d)
	switch {
	case c.dowLast != 0:
		return w == c.dowLast && d+7 > last
	case c.dowNth != 0:
		return w == c.dowNth && (d-1)/7+1 == c.dowK
	}
	return c.dow[w]
}

// dayTimes lists the minutes of the day the hour and minute fields select.
func (c *fields) dayTimes() []int {
	var ts []int
	for h := 0; h < 24; h++ {
		if !c.hours[h] {
			continue
		}
		for m := 0; m < 60; m++ {
			if c.minutes[m] {
				ts = append(ts, h*60+m)
			}
		}
	}
	return ts
}

// matches reports whether the cron expression selects the wall time w
// (its location ignored).
func (c *fields) matches(w time.Time) bool {
	return c.matchDay(w.Year(), w.Month(), w.Day()) && c.hours[w.Hour()] && c.minutes[w.Minute()]
}
