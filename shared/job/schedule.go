package job

// Schedules.
//
// A Schedule is either an EventBridge Scheduler expression (rate, cron or
// at) or the structured fields. This file validates both, computes run
// times (Next) for the local ticker and the tests, tells whether an instant
// lies inside the schedule's active window (Within), and compiles the
// structured form to EventBridge Scheduler expressions (Expressions) for the
// CDK app. Semantics, all in the schedule's TimeZone (default UTC):
//
//   - StartDate and EndDate are inclusive days: runs happen from 00:00 on
//     StartDate until the end of EndDate, local time.
//   - Every restarts each selected day at From (default 00:00) and runs at
//     From, From+Every, … while the wall time is not after To (default
//     23:59). Every 15m from 08:00 to 18:00 therefore runs 08:00 … 17:45
//     and 18:00.
//   - Daylight saving time follows EventBridge Scheduler: a wall time that
//     does not exist (spring forward, e.g. 02:30 on the last Sunday of March
//     in Europe/Berlin) is skipped, and the schedule continues with the next
//     wall time that does exist; a wall time that exists twice (fall back)
//     runs once, at its first occurrence.
//   - A monthly or yearly DayOfMonth that a month lacks (31 in April, 29 in
//     February of a common year) skips that month, as the compiled cron
//     expression does. Use an expression with L for "last day of month".
//   - rate(N unit) runs every N units from 00:00 of StartDate (local), or,
//     without a StartDate, at the multiples of N since the Unix epoch (UTC),
//     so rate(5 minutes) runs at :00, :05, … EventBridge itself counts from
//     the moment the schedule is created; the fetch function does not depend
//     on the phase.
//   - cron(...) follows EventBridge Scheduler cron: minutes hours
//     day-of-month month day-of-week year, one of the day fields "?",
//     with , - * / and L, W, LW in day-of-month, L, nL and n#k in
//     day-of-week (SUN=1 … SAT=7), names JAN-DEC and SUN-SAT, years
//     1970-2199.
//   - at(yyyy-mm-ddThh:mm:ss) runs once; a time in a DST gap runs at the
//     instant time.Date normalises it to (one hour later).

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // schedules name IANA zones; Lambda images carry no zoneinfo
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
	_, err := s.compile()
	return err
}

// Next returns the first run time strictly after after, and false when
// there is none (past EndDate, an at() in the past, an invalid schedule).
// The result is in the schedule's time zone.
func (s *Schedule) Next(after time.Time) (time.Time, bool) {
	c, err := s.compile()
	if err != nil {
		return time.Time{}, false
	}
	return c.next(after)
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
	return c.within(t)
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
	if s.Expression != "" {
		return []string{strings.TrimSpace(s.Expression)}, nil
	}
	byHour := map[int][]int{}
	for _, mod := range c.times {
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
	days := c.cronDays
	out := make([]string, 0, len(groups))
	for _, g := range groups {
		out = append(out, fmt.Sprintf("cron(%s %s %s *)", g.minutes, formatSet(g.hours, 0, 23), days))
	}
	return out, nil
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

type scheduleKind int

const (
	kindCalendar scheduleKind = iota // structured or cron
	kindRate
	kindAt
)

// compiled is a validated schedule ready to compute run times.
type compiled struct {
	kind     scheduleKind
	loc      *time.Location
	startDay time.Time // UTC midnight of StartDate, zero when unbounded
	endDay   time.Time // UTC midnight of EndDate, zero when unbounded

	// kindCalendar
	dayOK    func(y int, m time.Month, d int) bool
	times    []int // minutes of the day, ascending
	hourOK   func(h int) bool
	window   bool
	from, to int    // minutes of the day, when window
	cron     *cron  // for expressions
	cronDays string // day-of-month month day-of-week, for Expressions
	maxYear  int

	// kindRate
	every  time.Duration
	anchor time.Time

	// kindAt
	at time.Time
}

var (
	ratePattern = regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$`)
	cronPattern = regexp.MustCompile(`^cron\((.*)\)$`)
	atPattern   = regexp.MustCompile(`^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$`)
	hhmmPattern = regexp.MustCompile(`^([01]?\d|2[0-3]):([0-5]\d)$`)
)

var dayNames = map[string]int{
	"sun": 1, "mon": 2, "tue": 3, "wed": 4, "thu": 5, "fri": 6, "sat": 7,
	"sunday": 1, "monday": 2, "tuesday": 3, "wednesday": 4, "thursday": 5, "friday": 6, "saturday": 7,
}

var cronDayNames = []string{"", "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}

var locations sync.Map // name → *time.Location

func loadLocation(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location), nil
	}
	if name == "Local" {
		return nil, fmt.Errorf("%q is not an IANA time zone", name)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%q is not an IANA time zone such as Europe/Berlin", name)
	}
	locations.Store(name, l)
	return l, nil
}

func parseHHMM(v string) (int, bool) {
	m := hhmmPattern.FindStringSubmatch(v)
	if m == nil {
		return 0, false
	}
	h, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(m[2])
	return h*60 + mi, true
}

func schedErr(field, format string, args ...any) *ScheduleError {
	return &ScheduleError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

func (s *Schedule) compile() (*compiled, *ScheduleError) {
	c := &compiled{}
	var atLocal string
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
		switch {
		case ratePattern.MatchString(expr):
			m := ratePattern.FindStringSubmatch(expr)
			n, err := strconv.Atoi(m[1])
			if err != nil || n < 1 || n > 1_000_000 {
				return nil, schedErr("expression", "%q: the rate must be a positive whole number", expr)
			}
			unit := m[2]
			if (n == 1) != !strings.HasSuffix(unit, "s") {
				return nil, schedErr("expression", "%q: use the singular unit for 1 and the plural otherwise, e.g. rate(1 hour), rate(5 minutes)", expr)
			}
			d := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(unit, "s")]
			c.kind = kindRate
			c.every = time.Duration(n) * d
		case cronPattern.MatchString(expr):
			cr, err := parseCron(cronPattern.FindStringSubmatch(expr)[1])
			if err != nil {
				return nil, schedErr("expression", "%q: %v", expr, err)
			}
			c.kind = kindCalendar
			c.cron = cr
			c.dayOK = cr.matchDay
			c.hourOK = func(h int) bool { return cr.hours[h] }
			c.times = cr.dayTimes()
			c.maxYear = cronMaxYear
		case atPattern.MatchString(expr):
			v := atPattern.FindStringSubmatch(expr)[1]
			if _, err := time.Parse("2006-01-02T15:04:05", v); err != nil {
				return nil, schedErr("expression", "%q: %s is not a date and time", expr, v)
			}
			c.kind = kindAt
			atLocal = v
		default:
			return nil, schedErr("expression", "%q is not rate(N minutes|hours|days), cron(minutes hours day-of-month month day-of-week year) or at(yyyy-mm-ddThh:mm:ss)", expr)
		}
	} else if e := s.compileStructured(c); e != nil {
		return nil, e
	}

	loc, err := loadLocation(s.TimeZone)
	if err != nil {
		return nil, schedErr("timeZone", "%v", err)
	}
	c.loc = loc
	if s.StartDate != "" {
		d, err := time.Parse(time.DateOnly, s.StartDate)
		if err != nil {
			return nil, schedErr("startDate", "%q is not a date (YYYY-MM-DD)", s.StartDate)
		}
		c.startDay = d
	}
	if s.EndDate != "" {
		d, err := time.Parse(time.DateOnly, s.EndDate)
		if err != nil {
			return nil, schedErr("endDate", "%q is not a date (YYYY-MM-DD)", s.EndDate)
		}
		if !c.startDay.IsZero() && d.Before(c.startDay) {
			return nil, schedErr("endDate", "%s is before startDate %s", s.EndDate, s.StartDate)
		}
		c.endDay = d
	}
	switch c.kind {
	case kindRate:
		if !c.startDay.IsZero() {
			c.anchor = localMidnight(c.startDay, loc)
		} else {
			c.anchor = time.Unix(0, 0)
		}
	case kindAt:
		t, _ := time.ParseInLocation("2006-01-02T15:04:05", atLocal, loc)
		c.at = t
	}
	return c, nil
}

func (s *Schedule) compileStructured(c *compiled) *ScheduleError {
	c.kind = kindCalendar
	c.maxYear = 0 // relative limit, see next
	occ := strings.ToLower(s.Occurrence)
	if occ == "" {
		occ = "daily"
	}
	switch occ {
	case "daily", "weekly", "monthly", "yearly":
	default:
		return schedErr("occurrence", "%q is not one of daily, weekly, monthly, yearly", s.Occurrence)
	}
	var weekdays [8]bool
	if occ != "weekly" && len(s.Days) > 0 {
		return schedErr("days", "applies to weekly only (occurrence is %s)", occ)
	}
	if occ == "weekly" && len(s.Days) == 0 {
		return schedErr("days", "required for weekly: one or more of mon, tue, wed, thu, fri, sat, sun")
	}
	for i, d := range s.Days {
		n, ok := dayNames[strings.ToLower(strings.TrimSpace(d))]
		if !ok {
			return schedErr(fmt.Sprintf("days[%d]", i), "%q is not one of mon, tue, wed, thu, fri, sat, sun", d)
		}
		weekdays[n] = true
	}
	switch occ {
	case "monthly", "yearly":
		if s.DayOfMonth < 1 || s.DayOfMonth > 31 {
			if s.DayOfMonth == 0 {
				return schedErr("dayOfMonth", "required for %s (1-31)", occ)
			}
			return schedErr("dayOfMonth", "%d is not between 1 and 31", s.DayOfMonth)
		}
	default:
		if s.DayOfMonth != 0 {
			return schedErr("dayOfMonth", "applies to monthly and yearly only (occurrence is %s)", occ)
		}
	}
	if occ == "yearly" {
		if s.Month < 1 || s.Month > 12 {
			if s.Month == 0 {
				return schedErr("month", "required for yearly (1-12)")
			}
			return schedErr("month", "%d is not between 1 and 12", s.Month)
		}
		if s.DayOfMonth > daysIn(2000, time.Month(s.Month)) { // 2000 is a leap year
			return schedErr("dayOfMonth", "%s has no day %d", time.Month(s.Month), s.DayOfMonth)
		}
	} else if s.Month != 0 {
		return schedErr("month", "applies to yearly only (occurrence is %s)", occ)
	}

	every := s.Every.D()
	if s.At != "" {
		at, ok := parseHHMM(s.At)
		if !ok {
			return schedErr("at", "%q is not a time of day (HH:MM)", s.At)
		}
		if every != 0 {
			return schedErr("every", "not allowed with at: at runs once a day")
		}
		if s.From != "" || s.To != "" {
			field := "from"
			if s.From == "" {
				field = "to"
			}
			return schedErr(field, "needs every, not at")
		}
		c.times = []int{at}
	} else {
		if every == 0 {
			every = DefaultEvery
		}
		switch {
		case every < time.Minute:
			return schedErr("every", "%s is less than 1m", every)
		case every%time.Minute != 0:
			return schedErr("every", "%s is not a whole number of minutes", every)
		case every < time.Hour && time.Hour%every != 0:
			return schedErr("every", "%s does not divide an hour: use 1, 2, 3, 4, 5, 6, 10, 12, 15, 20 or 30 minutes, or whole hours", every)
		case every > time.Hour && every%time.Hour != 0:
			return schedErr("every", "%s is not whole hours: use 1h, 2h, … or minutes that divide an hour", every)
		case every > 24*time.Hour:
			return schedErr("every", "%s is more than a day", every)
		}
		from, to := 0, 24*60-1
		if s.From != "" {
			v, ok := parseHHMM(s.From)
			if !ok {
				return schedErr("from", "%q is not a time of day (HH:MM)", s.From)
			}
			from = v
		}
		if s.To != "" {
			v, ok := parseHHMM(s.To)
			if !ok {
				return schedErr("to", "%q is not a time of day (HH:MM)", s.To)
			}
			to = v
		}
		if from >= to {
			return schedErr("to", "%s is not after from %s", s.To, s.From)
		}
		c.window = s.From != "" || s.To != ""
		c.from, c.to = from, to
		step := int(every / time.Minute)
		for m := from; m <= to; m += step {
			c.times = append(c.times, m)
		}
	}

	dom, month := s.DayOfMonth, time.Month(s.Month)
	switch occ {
	case "daily":
		c.dayOK = func(int, time.Month, int) bool { return true }
		c.cronDays = "* * ?"
	case "weekly":
		c.dayOK = func(y int, m time.Month, d int) bool {
			return weekdays[int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday())+1]
		}
		var ds []int
		for i := 1; i <= 7; i++ {
			if weekdays[i] {
				ds = append(ds, i)
			}
		}
		c.cronDays = "? * " + formatDays(ds)
	case "monthly":
		c.dayOK = func(_ int, _ time.Month, d int) bool { return d == dom }
		c.cronDays = fmt.Sprintf("%d * ?", dom)
	case "yearly":
		c.dayOK = func(_ int, m time.Month, d int) bool { return m == month && d == dom }
		c.cronDays = fmt.Sprintf("%d %d ?", dom, month)
	}
	c.hourOK = func(int) bool { return true }
	return nil
}

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

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// localMidnight is the first instant of the civil day d (a UTC midnight)
// in loc.
func localMidnight(d time.Time, loc *time.Location) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
}

// resolve turns a wall time into an instant in loc: false when the wall
// time does not exist (DST gap), the earlier instant when it exists twice.
func resolve(y int, mo time.Month, d, mod int, loc *time.Location) (time.Time, bool) {
	h, mi := mod/60, mod%60
	if loc == time.UTC {
		return time.Date(y, mo, d, h, mi, 0, 0, loc), true
	}
	wall := time.Date(y, mo, d, h, mi, 0, 0, time.UTC)
	t := time.Date(y, mo, d, h, mi, 0, 0, loc)
	var best time.Time
	found := false
	for _, probe := range [...]time.Time{t.Add(-3 * time.Hour), t, t.Add(3 * time.Hour)} {
		_, off := probe.Zone()
		u := wall.Add(-time.Duration(off) * time.Second).In(loc)
		if u.Hour() == h && u.Minute() == mi && u.Day() == d && u.Month() == mo && u.Year() == y {
			if !found || u.Before(best) {
				best, found = u, true
			}
		}
	}
	return best, found
}

// civil returns the wall clock of t in loc as a UTC time.
func civil(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
}

func (c *compiled) endInstant() (time.Time, bool) {
	if c.endDay.IsZero() {
		return time.Time{}, false
	}
	return localMidnight(c.endDay.AddDate(0, 0, 1), c.loc), true
}

func (c *compiled) next(after time.Time) (time.Time, bool) {
	end, bounded := c.endInstant()
	inEnd := func(t time.Time) bool { return !bounded || t.Before(end) }
	switch c.kind {
	case kindAt:
		if c.at.After(after) && inEnd(c.at) && (c.startDay.IsZero() || !c.at.Before(localMidnight(c.startDay, c.loc))) {
			return c.at.In(c.loc), true
		}
		return time.Time{}, false
	case kindRate:
		t := c.anchor
		if !t.After(after) {
			k := after.Sub(t)/c.every + 1
			t = t.Add(k * c.every)
		}
		if !inEnd(t) {
			return time.Time{}, false
		}
		return t.In(c.loc), true
	}

	// Wall times more than 3h before after's wall clock cannot come after
	// it, whatever a DST shift does.
	low := civil(after, c.loc).Add(-3 * time.Hour)
	day := time.Date(low.Year(), low.Month(), low.Day(), 0, 0, 0, 0, time.UTC)
	lowMod := low.Hour()*60 + low.Minute()
	if !c.startDay.IsZero() && day.Before(c.startDay) {
		day, lowMod = c.startDay, 0
	}
	last := c.endDay
	if last.IsZero() {
		if c.maxYear != 0 {
			last = time.Date(c.maxYear, 12, 31, 0, 0, 0, 0, time.UTC)
		} else {
			last = day.AddDate(9, 0, 0) // yearly on Feb 29 skips 2100
		}
	}
	for first := true; !day.After(last); first = false {
		y, m, d := day.Date()
		if c.cron != nil {
			if !c.cron.yearOK(y) {
				day = time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC)
				continue
			}
			if !c.cron.months[m] {
				day = time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
				continue
			}
		}
		if c.dayOK(y, m, d) {
			i := 0
			if first {
				i = sort.SearchInts(c.times, lowMod)
			}
			for ; i < len(c.times); i++ {
				t, ok := resolve(y, m, d, c.times[i], c.loc)
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

func (c *compiled) within(t time.Time) bool {
	w := civil(t, c.loc)
	day := time.Date(w.Year(), w.Month(), w.Day(), 0, 0, 0, 0, time.UTC)
	if !c.startDay.IsZero() && day.Before(c.startDay) {
		return false
	}
	if !c.endDay.IsZero() && day.After(c.endDay) {
		return false
	}
	if c.kind != kindCalendar {
		return true
	}
	if c.cron != nil && (!c.cron.yearOK(w.Year()) || !c.cron.months[w.Month()]) {
		return false
	}
	if !c.dayOK(w.Year(), w.Month(), w.Day()) || !c.hourOK(w.Hour()) {
		return false
	}
	if c.window {
		mod := w.Hour()*60 + w.Minute()
		return mod >= c.from && mod <= c.to
	}
	return true
}

// EventBridge Scheduler cron years.
const (
	cronMinYear = 1970
	cronMaxYear = 2199
)

// cron is a parsed EventBridge Scheduler cron expression.
type cron struct {
	minutes [60]bool
	hours   [24]bool
	months  [13]bool // 1-12
	years   [cronMaxYear - cronMinYear + 1]bool

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

	nearestPattern = regexp.MustCompile(`^(\d{1,2})W$`)
	dowLastPattern = regexp.MustCompile(`^([1-7]|[A-Za-z]{3})L$`)
	dowNthPattern  = regexp.MustCompile(`^([1-7]|[A-Za-z]{3})#([1-5])$`)
)

// parseCron reads the six fields of cron(...).
func parseCron(body string) (*cron, error) {
	f := strings.Fields(body)
	if len(f) != 6 {
		return nil, fmt.Errorf("want 6 fields (minutes hours day-of-month month day-of-week year), got %d", len(f))
	}
	c := &cron{}
	if err := parseField(f[0], 0, 59, nil, c.minutes[:]); err != nil {
		return nil, fmt.Errorf("minutes: %w", err)
	}
	if err := parseField(f[1], 0, 23, nil, c.hours[:]); err != nil {
		return nil, fmt.Errorf("hours: %w", err)
	}
	if err := parseField(f[3], 1, 12, monthNames, c.months[:]); err != nil {
		return nil, fmt.Errorf("month: %w", err)
	}
	years := make([]bool, cronMaxYear+1)
	if err := parseField(f[5], cronMinYear, cronMaxYear, nil, years); err != nil {
		return nil, fmt.Errorf("year: %w", err)
	}
	copy(c.years[:], years[cronMinYear:])

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

func (c *cron) yearOK(y int) bool {
	return y >= cronMinYear && y <= cronMaxYear && c.years[y-cronMinYear]
}

// matchDay reports whether the day-of-month or day-of-week field selects
// the date (the month and year are checked by the caller).
func (c *cron) matchDay(y int, m time.Month, d int) bool {
	if !c.yearOK(y) || !c.months[m] {
		return false
	}
	last := daysIn(y, m)
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
func (c *cron) dayTimes() []int {
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
func (c *cron) matches(w time.Time) bool {
	return c.matchDay(w.Year(), w.Month(), w.Day()) && c.hours[w.Hour()] && c.minutes[w.Minute()]
}
