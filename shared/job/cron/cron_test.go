package cron

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func mustTime(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		tb.Fatalf("parse %q: %v", s, err)
	}
	return t
}

// spec is an expression with its time zone and days, as text.
type spec struct {
	expr, zone, start, end string
}

func (s spec) schedule(tb testing.TB) *Schedule {
	tb.Helper()
	e, err := ParseExpression(s.expr)
	if err != nil {
		tb.Fatalf("parse %q: %v", s.expr, err)
	}
	return New(e, bounds(tb, s.zone, s.start, s.end))
}

func bounds(tb testing.TB, zone, start, end string) Bounds {
	tb.Helper()
	loc, err := LoadLocation(zone)
	if err != nil {
		tb.Fatal(err)
	}
	b := Bounds{Location: loc}
	for _, d := range []struct {
		text string
		dst  *time.Time
	}{{start, &b.Start}, {end, &b.End}} {
		if d.text == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, d.text)
		if err != nil {
			tb.Fatalf("parse %q: %v", d.text, err)
		}
		*d.dst = t
	}
	return b
}

func TestParseExpression(t *testing.T) {
	tests := []struct {
		name string
		expr string
		want string // error text; "" for valid
	}{
		{name: "rate", expr: "rate(5 minutes)"},
		{name: "rate singular", expr: " rate(1 hour) "},
		{name: "cron", expr: "cron(0/10 8-17 ? * MON-FRI *)"},
		{name: "cron L W #", expr: "cron(0 9 LW * ? 2026-2030)"},
		{name: "cron nth", expr: "cron(0 9 ? JAN,JUL 6#3 *)"},
		{name: "cron last weekday", expr: "cron(0 9 ? * FRIL *)"},
		{name: "at", expr: "at(2026-12-01T08:00:00)"},

		{name: "garbage", expr: "every 5 minutes", want: `"every 5 minutes" is not rate(N minutes|hours|days), cron(minutes hours day-of-month month day-of-week year) or at(yyyy-mm-ddThh:mm:ss)`},
		{name: "rate plural for one", expr: "rate(1 minutes)", want: `"rate(1 minutes)": use the singular unit for 1 and the plural otherwise, e.g. rate(1 hour), rate(5 minutes)`},
		{name: "rate zero", expr: "rate(0 minutes)", want: `"rate(0 minutes)": the rate must be a positive whole number`},
		{name: "cron five fields", expr: "cron(0 8 * * ?)", want: `"cron(0 8 * * ?)": want 6 fields (minutes hours day-of-month month day-of-week year), got 5`},
		{name: "cron both days", expr: "cron(0 8 * * MON *)", want: `"cron(0 8 * * MON *)": exactly one of day-of-month and day-of-week must be ?`},
		{name: "cron minute 60", expr: "cron(60 8 * * ? *)", want: `"cron(60 8 * * ? *)": minutes: 60 is not between 0 and 59`},
		{name: "cron year 2200", expr: "cron(0 8 * * ? 2200)", want: `"cron(0 8 * * ? 2200)": year: 2200 is not between 1970 and 2199`},
		{name: "cron step zero", expr: "cron(0/0 8 * * ? *)", want: `"cron(0/0 8 * * ? *)": minutes: "0/0": step "0" is not between 1 and 60`},
		{name: "cron 32W", expr: "cron(0 8 32W * ? *)", want: `"cron(0 8 32W * ? *)": day-of-month: 32 is not between 1 and 31`},
		{name: "cron sixth week", expr: "cron(0 8 ? * 6#6 *)", want: `"cron(0 8 ? * 6#6 *)": day-of-week: "6#6" is not a value`},
		{name: "at bad date", expr: "at(2026-13-01T00:00:00)", want: `"at(2026-13-01T00:00:00)": 2026-13-01T00:00:00 is not a date and time`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ParseExpression(tt.expr)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("got error %v, want none", err)
			case tt.want == "" && e.String() != strings.TrimSpace(tt.expr):
				t.Errorf("got String() %q, want %q", e.String(), strings.TrimSpace(tt.expr))
			case tt.want != "" && err == nil:
				t.Fatalf("got no error, want %q", tt.want)
			case tt.want != "" && err.Error() != tt.want:
				t.Errorf("got error %q, want %q", err, tt.want)
			}
		})
	}
}

func TestNext(t *testing.T) {
	tests := []struct {
		name  string
		s     spec
		after string
		want  []string // successive Next times; fewer than 3 means Next then reports false
	}{
		{name: "rate epoch aligned", s: spec{expr: "rate(5 minutes)"}, after: "2026-03-02T08:02:10Z",
			want: []string{"2026-03-02T08:05:00Z", "2026-03-02T08:10:00Z", "2026-03-02T08:15:00Z"}},
		{name: "rate from start date is absolute across dst", s: spec{expr: "rate(1 day)", start: "2026-03-28", zone: "Europe/Berlin"}, after: "2026-03-28T00:00:00Z",
			want: []string{"2026-03-29T00:00:00+01:00", "2026-03-30T01:00:00+02:00", "2026-03-31T01:00:00+02:00"}},
		{name: "rate before start", s: spec{expr: "rate(7 hours)", start: "2026-03-10"}, after: "2026-03-01T00:00:00Z",
			want: []string{"2026-03-10T00:00:00Z", "2026-03-10T07:00:00Z", "2026-03-10T14:00:00Z"}},
		{name: "rate end", s: spec{expr: "rate(1 hour)", end: "2026-03-02"}, after: "2026-03-02T22:30:00Z",
			want: []string{"2026-03-02T23:00:00Z"}},
		{name: "cron window", s: spec{expr: "cron(0/15 8-17 ? * MON-FRI *)"}, after: "2026-03-06T17:40:00Z",
			want: []string{"2026-03-06T17:45:00Z", "2026-03-09T08:00:00Z", "2026-03-09T08:15:00Z"}},
		{name: "cron last day", s: spec{expr: "cron(0 9 L * ? *)"}, after: "2026-02-01T00:00:00Z",
			want: []string{"2026-02-28T09:00:00Z", "2026-03-31T09:00:00Z", "2026-04-30T09:00:00Z"}},
		{name: "cron last weekday", s: spec{expr: "cron(0 9 LW * ? *)"}, after: "2026-05-01T00:00:00Z",
			want: []string{"2026-05-29T09:00:00Z", "2026-06-30T09:00:00Z", "2026-07-31T09:00:00Z"}},
		{name: "cron nearest weekday", s: spec{expr: "cron(0 9 15W * ? *)"}, after: "2026-08-01T00:00:00Z",
			want: []string{"2026-08-14T09:00:00Z", "2026-09-15T09:00:00Z", "2026-10-15T09:00:00Z"}},
		{name: "cron 1W on a saturday", s: spec{expr: "cron(0 9 1W * ? *)"}, after: "2026-07-15T00:00:00Z",
			want: []string{"2026-08-03T09:00:00Z", "2026-09-01T09:00:00Z", "2026-10-01T09:00:00Z"}},
		{name: "cron third friday", s: spec{expr: "cron(0 10 ? * 6#3 *)"}, after: "2026-03-01T00:00:00Z",
			want: []string{"2026-03-20T10:00:00Z", "2026-04-17T10:00:00Z", "2026-05-15T10:00:00Z"}},
		{name: "cron last friday", s: spec{expr: "cron(0 10 ? * FRIL *)"}, after: "2026-03-01T00:00:00Z",
			want: []string{"2026-03-27T10:00:00Z", "2026-04-24T10:00:00Z", "2026-05-29T10:00:00Z"}},
		{name: "cron year", s: spec{expr: "cron(30 2 1 JAN,JUL ? 2027-2028)"}, after: "2026-03-01T00:00:00Z",
			want: []string{"2027-01-01T02:30:00Z", "2027-07-01T02:30:00Z", "2028-01-01T02:30:00Z"}},
		{name: "cron years over", s: spec{expr: "cron(0 0 1 1 ? 2025)"}, after: "2026-03-01T00:00:00Z"},
		{name: "cron wrapping days", s: spec{expr: "cron(0 12 ? * SAT-MON *)"}, after: "2026-03-03T00:00:00Z",
			want: []string{"2026-03-07T12:00:00Z", "2026-03-08T12:00:00Z", "2026-03-09T12:00:00Z"}},
		{name: "cron berlin gap", s: spec{expr: "cron(30 2 * * ? *)", zone: "Europe/Berlin"}, after: "2026-03-28T12:00:00Z",
			want: []string{"2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00", "2026-04-01T02:30:00+02:00"}},
		{name: "cron berlin overlap", s: spec{expr: "cron(0/30 2 * * ? *)", zone: "Europe/Berlin"}, after: "2026-10-25T00:00:00Z",
			want: []string{"2026-10-25T02:30:00+02:00", "2026-10-26T02:00:00+01:00", "2026-10-26T02:30:00+01:00"}},
		{name: "at once", s: spec{expr: "at(2026-12-01T08:00:00)", zone: "Europe/Berlin"}, after: "2026-03-01T00:00:00Z",
			want: []string{"2026-12-01T08:00:00+01:00"}},
		{name: "at in the past", s: spec{expr: "at(2025-12-01T08:00:00)"}, after: "2026-03-01T00:00:00Z"},
		{name: "at after end date", s: spec{expr: "at(2026-12-01T08:00:00)", end: "2026-11-30"}, after: "2026-03-01T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.s.schedule(t)
			after := mustTime(t, tt.after)
			var got []string
			for len(got) < 3 {
				next, ok := s.Next(after)
				if !ok {
					break
				}
				if !next.After(after) {
					t.Fatalf("got Next(%s) = %s, want a time after it", after, next)
				}
				got = append(got, next.Format(time.RFC3339))
				after = next
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Next times (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	paris := bounds(t, "Europe/Paris", "", "")
	weekdays := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	tests := []struct {
		name string
		spec Spec
		b    Bounds
		want string
	}{
		{name: "window on weekdays", spec: Calendar{Occurrence: Weekly, Weekdays: weekdays, Every: 5 * time.Minute, From: 8 * 60, To: 18 * 60}, b: paris,
			want: "every 5 min, Mon–Fri 08:00–18:00 Europe/Paris"},
		{name: "daily at", spec: Calendar{At: 7*60 + 30}, want: "daily at 07:30 UTC"},
		{name: "every 5 min all day", spec: Calendar{Every: 5 * time.Minute}, want: "every 5 min UTC"},
		{name: "every minute", spec: Calendar{Every: time.Minute}, want: "every minute UTC"},
		{name: "every hour from 09:00", spec: Calendar{Every: time.Hour, From: 9 * 60}, want: "every hour, 09:00–23:00 UTC"},
		{name: "every 2 hours", spec: Calendar{Every: 2 * time.Hour}, want: "every 2 hours UTC"},
		{name: "every 5 hours restarts at midnight", spec: Calendar{Every: 5 * time.Hour}, want: "every 5 hours, 00:00–20:00 UTC"},
		{name: "window names the last run", spec: Calendar{Every: 20 * time.Minute, From: 8*60 + 10, To: 17*60 + 40}, want: "every 20 min, 08:10–17:30 UTC"},
		{name: "weekend", spec: Calendar{Occurrence: Weekly, Weekdays: []time.Weekday{time.Sunday, time.Saturday}, At: 10 * 60}, want: "Sat, Sun at 10:00 UTC"},
		{name: "three days", spec: Calendar{Occurrence: Weekly, Weekdays: []time.Weekday{time.Friday, time.Monday, time.Wednesday}, At: 7 * 60}, want: "Mon, Wed, Fri at 07:00 UTC"},
		{name: "all seven days", spec: Calendar{Occurrence: Weekly, Weekdays: []time.Weekday{0, 1, 2, 3, 4, 5, 6}, At: 7 * 60}, want: "daily at 07:00 UTC"},
		{name: "monthly", spec: Calendar{Occurrence: Monthly, DayOfMonth: 1, At: 8*60 + 30}, want: "monthly on day 1 at 08:30 UTC"},
		{name: "yearly", spec: Calendar{Occurrence: Yearly, Month: time.March, DayOfMonth: 15, At: 9 * 60}, want: "yearly on Mar 15 at 09:00 UTC"},
		{name: "every 2 hours monthly", spec: Calendar{Occurrence: Monthly, DayOfMonth: 1, Every: 2 * time.Hour}, want: "every 2 hours, monthly on day 1 UTC"},
		{name: "dates", spec: Calendar{At: 7 * 60}, b: bounds(t, "", "2026-01-01", "2026-03-31"), want: "daily at 07:00 UTC, from 2026-01-01 to 2026-03-31"},
		{name: "start only", spec: Calendar{At: 7 * 60}, b: bounds(t, "", "2026-01-01", ""), want: "daily at 07:00 UTC, from 2026-01-01"},
		{name: "end only", spec: Calendar{At: 7 * 60}, b: bounds(t, "", "", "2026-03-31"), want: "daily at 07:00 UTC, until 2026-03-31"},

		{name: "once", spec: mustParse(t, "at(2027-01-04T09:00:00)"), want: "once at 2027-01-04 09:00 UTC"},
		{name: "once in zone", spec: mustParse(t, "at(2027-01-04T09:00:00)"), b: paris, want: "once at 2027-01-04 09:00 Europe/Paris"},
		{name: "rate", spec: mustParse(t, "rate(5 minutes)"), want: "every 5 min"},
		{name: "rate hour", spec: mustParse(t, "rate(1 hour)"), want: "every hour"},
		{name: "rate days", spec: mustParse(t, "rate(3 days)"), want: "every 3 days"},
		{name: "rate bounded", spec: mustParse(t, "rate(1 day)"), b: bounds(t, "Europe/Paris", "2026-03-28", ""), want: "every day Europe/Paris, from 2026-03-28"},
		{name: "cron window", spec: mustParse(t, "cron(0/10 8-17 ? * MON-FRI *)"), b: paris, want: "every 10 min, Mon–Fri 08:00–17:50 Europe/Paris"},
		{name: "cron daily", spec: mustParse(t, "cron(30 7 * * ? *)"), want: "daily at 07:30 UTC"},
		{name: "cron twice a day", spec: mustParse(t, "cron(0 9,17 ? * MON-FRI *)"), want: "Mon–Fri at 09:00, 17:00 UTC"},
		{name: "cron all day", spec: mustParse(t, "cron(0/5 * * * ? *)"), want: "every 5 min UTC"},
		{name: "cron last day", spec: mustParse(t, "cron(0 9 L * ? *)"), want: "on the last day of the month at 09:00 UTC"},
		{name: "cron last weekday", spec: mustParse(t, "cron(0 9 LW * ? *)"), want: "on the last weekday of the month at 09:00 UTC"},
		{name: "cron nearest weekday", spec: mustParse(t, "cron(0 9 15W * ? *)"), want: "on the weekday nearest day 15 of the month at 09:00 UTC"},
		{name: "cron third friday", spec: mustParse(t, "cron(0 10 ? * 6#3 *)"), want: "on the third Fri of the month at 10:00 UTC"},
		{name: "cron last friday", spec: mustParse(t, "cron(0 10 ? * FRIL *)"), want: "on the last Fri of the month at 10:00 UTC"},
		{name: "cron days of month", spec: mustParse(t, "cron(0 10 1,15 * ? *)"), want: "monthly on days 1, 15 at 10:00 UTC"},
		{name: "cron months as is", spec: mustParse(t, "cron(30 2 1 JAN,JUL ? *)"), want: "cron(30 2 1 JAN,JUL ? *) UTC"},
		{name: "cron years as is", spec: mustParse(t, "cron(30 2 1 * ? 2027-2028)"), b: paris, want: "cron(30 2 1 * ? 2027-2028) Europe/Paris"},
		{name: "cron irregular minutes as is", spec: mustParse(t, "cron(0,5,7,20,45 9 * * ? *)"), want: "cron(0,5,7,20,45 9 * * ? *) UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := New(tt.spec, tt.b).Describe(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func mustParse(tb testing.TB, expr string) *Expression {
	tb.Helper()
	e, err := ParseExpression(expr)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// TestCalendarProperties checks random calendars over a week: every time
// Next produces is Within, and the instants the compiled cron expressions
// match (minute by minute, inside the days, each wall time once) are
// exactly the times Next produces.
func TestCalendarProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	zones := []string{"", "UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "America/Sao_Paulo"}
	weeks := []string{"2026-03-26T00:00:00Z", "2026-10-22T00:00:00Z", "2026-11-01T00:00:00Z", "2026-02-25T13:07:00Z", "2026-04-02T00:00:00Z", "2027-02-26T00:00:00Z"}
	everys := []time.Duration{1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60, 120, 180, 300, 720, 1440}
	day := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }

	for i := 0; i < 150; i++ {
		start := mustTime(t, weeks[rng.IntN(len(weeks))])
		loc, err := LoadLocation(zones[rng.IntN(len(zones))])
		if err != nil {
			t.Fatal(err)
		}
		b := Bounds{Location: loc}
		ls := start.In(loc)
		var c Calendar
		switch rng.IntN(4) {
		case 0:
			c.Occurrence = Daily
		case 1:
			c.Occurrence = Weekly
			for d := time.Sunday; d <= time.Saturday; d++ {
				if rng.IntN(2) == 0 {
					c.Weekdays = append(c.Weekdays, d)
				}
			}
			if len(c.Weekdays) == 0 {
				c.Weekdays = []time.Weekday{time.Sunday}
			}
		case 2:
			c.Occurrence = Monthly
			c.DayOfMonth = min(31, ls.Day()+rng.IntN(7))
		case 3:
			c.Occurrence = Yearly
			c.Month = ls.Month()
			c.DayOfMonth = min(DaysIn(2000, ls.Month()), ls.Day()+rng.IntN(7))
		}
		if rng.IntN(3) == 0 {
			c.At = Clock(rng.IntN(1440))
		} else {
			c.Every = everys[rng.IntN(len(everys))] * time.Minute
			if rng.IntN(2) == 0 {
				from := rng.IntN(1439)
				c.From = Clock(from)
				if rng.IntN(3) > 0 {
					c.To = Clock(from + 1 + rng.IntN(1439-from))
				}
			}
		}
		if rng.IntN(4) == 0 {
			b.Start = day(ls.AddDate(0, 0, rng.IntN(5)-1))
		}
		if rng.IntN(4) == 0 {
			b.End = day(ls.AddDate(0, 0, 2+rng.IntN(5)))
		}
		t.Run(fmt.Sprintf("%d", i), func(t *testing.T) {
			checkWeek(t, c, b, start)
		})
	}
}

func checkWeek(tb testing.TB, c Calendar, b Bounds, start time.Time) {
	tb.Helper()
	s := New(c, b)
	end := start.Add(7 * 24 * time.Hour)
	var fromNext []string
	for t := start; ; {
		next, ok := s.Next(t)
		if !ok || next.After(end) {
			break
		}
		if !s.Within(next) {
			tb.Errorf("calendar %+v: got Within(%s) = false for a Next time, want true", c, next)
		}
		fromNext = append(fromNext, next.UTC().Format(time.RFC3339))
		t = next
	}
	if d := s.Describe(); strings.Contains(d, "cron(") {
		tb.Errorf("calendar %+v: got Describe() = %q, want words", c, d)
	}

	exprs := s.Expressions()
	var crons []*fields
	for _, e := range exprs {
		body, ok := strings.CutPrefix(e, "cron(")
		if !ok {
			tb.Fatalf("calendar %+v compiled to %q, want a cron expression", c, e)
		}
		f, err := parseFields(strings.TrimSuffix(body, ")"))
		if err != nil {
			tb.Fatalf("parse compiled %q: %v", e, err)
		}
		crons = append(crons, f)
	}
	var fromCron []string
	seen := map[time.Time]bool{}
	for u := start.Add(time.Minute); !u.After(end); u = u.Add(time.Minute) {
		w := civil(u, s.loc)
		if seen[w] { // the second pass of a wall time repeated at fall back
			continue
		}
		seen[w] = true
		day := time.Date(w.Year(), w.Month(), w.Day(), 0, 0, 0, 0, time.UTC)
		if (!s.startDay.IsZero() && day.Before(s.startDay)) || (!s.endDay.IsZero() && day.After(s.endDay)) {
			continue
		}
		if slices.ContainsFunc(crons, func(f *fields) bool { return f.matches(w) }) {
			fromCron = append(fromCron, u.UTC().Format(time.RFC3339))
		}
	}
	if diff := cmp.Diff(fromNext, fromCron); diff != "" {
		tb.Errorf("calendar %+v, expressions %q: Next (-) and cron (+) disagree:\n%s", c, exprs, diff)
	}
}
