package job

import (
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

func TestScheduleValidate(t *testing.T) {
	tests := []struct {
		name  string
		s     Schedule
		field string // "" for valid
	}{
		{name: "empty means every 5m", s: Schedule{}},
		{name: "defaults", s: Schedule{Occurrence: "daily", Every: Duration(5 * time.Minute)}},
		{name: "rate", s: Schedule{Expression: "rate(5 minutes)"}},
		{name: "rate singular", s: Schedule{Expression: "rate(1 hour)"}},
		{name: "cron", s: Schedule{Expression: "cron(0/10 8-17 ? * MON-FRI *)", TimeZone: "Europe/Berlin"}},
		{name: "cron L W #", s: Schedule{Expression: "cron(0 9 LW * ? 2026-2030)"}},
		{name: "cron nth", s: Schedule{Expression: "cron(0 9 ? JAN,JUL 6#3 *)"}},
		{name: "cron last weekday", s: Schedule{Expression: "cron(0 9 ? * FRIL *)"}},
		{name: "at", s: Schedule{Expression: "at(2026-12-01T08:00:00)", StartDate: "2026-01-01"}},
		{name: "weekly", s: Schedule{Occurrence: "weekly", Days: []string{"mon", "Friday"}, At: "08:30"}},
		{name: "window", s: Schedule{Every: Duration(15 * time.Minute), From: "08:00", To: "18:00"}},
		{name: "every 2h", s: Schedule{Every: Duration(2 * time.Hour)}},
		{name: "yearly feb 29", s: Schedule{Occurrence: "yearly", Month: 2, DayOfMonth: 29, At: "12:00"}},
		{name: "dates", s: Schedule{StartDate: "2026-01-01", EndDate: "2026-01-01"}},

		{name: "garbage expression", s: Schedule{Expression: "every 5 minutes"}, field: "expression"},
		{name: "rate plural for one", s: Schedule{Expression: "rate(1 minutes)"}, field: "expression"},
		{name: "rate singular for five", s: Schedule{Expression: "rate(5 minute)"}, field: "expression"},
		{name: "rate zero", s: Schedule{Expression: "rate(0 minutes)"}, field: "expression"},
		{name: "rate seconds", s: Schedule{Expression: "rate(30 seconds)"}, field: "expression"},
		{name: "cron five fields", s: Schedule{Expression: "cron(0 8 * * ?)"}, field: "expression"},
		{name: "cron both days", s: Schedule{Expression: "cron(0 8 * * MON *)"}, field: "expression"},
		{name: "cron both ?", s: Schedule{Expression: "cron(0 8 ? * ? *)"}, field: "expression"},
		{name: "cron minute 60", s: Schedule{Expression: "cron(60 8 * * ? *)"}, field: "expression"},
		{name: "cron hour 24", s: Schedule{Expression: "cron(0 24 * * ? *)"}, field: "expression"},
		{name: "cron year 2200", s: Schedule{Expression: "cron(0 8 * * ? 2200)"}, field: "expression"},
		{name: "cron bad month name", s: Schedule{Expression: "cron(0 8 * JANUARY ? *)"}, field: "expression"},
		{name: "cron sixth week", s: Schedule{Expression: "cron(0 8 ? * 6#6 *)"}, field: "expression"},
		{name: "cron 32W", s: Schedule{Expression: "cron(0 8 32W * ? *)"}, field: "expression"},
		{name: "cron step zero", s: Schedule{Expression: "cron(0/0 8 * * ? *)"}, field: "expression"},
		{name: "cron empty list item", s: Schedule{Expression: "cron(0,,5 8 * * ? *)"}, field: "expression"},
		{name: "at bad date", s: Schedule{Expression: "at(2026-13-01T00:00:00)"}, field: "expression"},
		{name: "at without seconds", s: Schedule{Expression: "at(2026-12-01T08:00)"}, field: "expression"},
		{name: "expression with every", s: Schedule{Expression: "rate(5 minutes)", Every: Duration(time.Minute)}, field: "every"},
		{name: "expression with occurrence", s: Schedule{Expression: "rate(5 minutes)", Occurrence: "daily"}, field: "occurrence"},
		{name: "expression with days", s: Schedule{Expression: "rate(5 minutes)", Days: []string{"mon"}}, field: "days"},
		{name: "expression with from", s: Schedule{Expression: "rate(5 minutes)", From: "08:00"}, field: "from"},
		{name: "expression bad zone", s: Schedule{Expression: "rate(5 minutes)", TimeZone: "Europe/Nowhere"}, field: "timeZone"},
		{name: "occurrence hourly", s: Schedule{Occurrence: "hourly"}, field: "occurrence"},
		{name: "weekly without days", s: Schedule{Occurrence: "weekly"}, field: "days"},
		{name: "weekly bad day", s: Schedule{Occurrence: "weekly", Days: []string{"mon", "funday"}}, field: "days[1]"},
		{name: "daily with days", s: Schedule{Occurrence: "daily", Days: []string{"mon"}}, field: "days"},
		{name: "monthly without day", s: Schedule{Occurrence: "monthly"}, field: "dayOfMonth"},
		{name: "monthly day 32", s: Schedule{Occurrence: "monthly", DayOfMonth: 32}, field: "dayOfMonth"},
		{name: "daily with dayOfMonth", s: Schedule{DayOfMonth: 3}, field: "dayOfMonth"},
		{name: "yearly without month", s: Schedule{Occurrence: "yearly", DayOfMonth: 3}, field: "month"},
		{name: "yearly month 13", s: Schedule{Occurrence: "yearly", Month: 13, DayOfMonth: 3}, field: "month"},
		{name: "yearly feb 30", s: Schedule{Occurrence: "yearly", Month: 2, DayOfMonth: 30}, field: "dayOfMonth"},
		{name: "yearly april 31", s: Schedule{Occurrence: "yearly", Month: 4, DayOfMonth: 31}, field: "dayOfMonth"},
		{name: "monthly with month", s: Schedule{Occurrence: "monthly", DayOfMonth: 1, Month: 2}, field: "month"},
		{name: "at 25:00", s: Schedule{At: "25:00"}, field: "at"},
		{name: "at 8.30", s: Schedule{At: "8.30"}, field: "at"},
		{name: "at with every", s: Schedule{At: "08:00", Every: Duration(time.Hour)}, field: "every"},
		{name: "at with from", s: Schedule{At: "08:00", From: "07:00"}, field: "from"},
		{name: "at with to", s: Schedule{At: "08:00", To: "09:00"}, field: "to"},
		{name: "every 7m", s: Schedule{Every: Duration(7 * time.Minute)}, field: "every"},
		{name: "every 90m", s: Schedule{Every: Duration(90 * time.Minute)}, field: "every"},
		{name: "every 30s", s: Schedule{Every: Duration(30 * time.Second)}, field: "every"},
		{name: "every 5m30s", s: Schedule{Every: Duration(5*time.Minute + 30*time.Second)}, field: "every"},
		{name: "every 2 days", s: Schedule{Every: Duration(48 * time.Hour)}, field: "every"},
		{name: "from bad", s: Schedule{Every: Duration(time.Hour), From: "8am"}, field: "from"},
		{name: "to bad", s: Schedule{Every: Duration(time.Hour), To: "24:00"}, field: "to"},
		{name: "from after to", s: Schedule{Every: Duration(time.Hour), From: "18:00", To: "08:00"}, field: "to"},
		{name: "from equals to", s: Schedule{Every: Duration(time.Hour), From: "08:00", To: "08:00"}, field: "to"},
		{name: "bad zone", s: Schedule{TimeZone: "Mars/Olympus"}, field: "timeZone"},
		{name: "Local zone", s: Schedule{TimeZone: "Local"}, field: "timeZone"},
		{name: "bad start", s: Schedule{StartDate: "2026-02-30"}, field: "startDate"},
		{name: "bad end", s: Schedule{EndDate: "01.03.2026"}, field: "endDate"},
		{name: "end before start", s: Schedule{StartDate: "2026-03-02", EndDate: "2026-03-01"}, field: "endDate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Validate()
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("got error %v, want none", err)
			case tt.field != "" && err == nil:
				t.Fatalf("got no error, want one on %s", tt.field)
			case tt.field != "" && err.Field != tt.field:
				t.Fatalf("got error on %q (%v), want on %q", err.Field, err, tt.field)
			case err != nil && err.Msg == "":
				t.Fatalf("got error without message on %q", err.Field)
			}
		})
	}
}

func TestScheduleNext(t *testing.T) {
	every := func(d time.Duration) Duration { return Duration(d) }
	tests := []struct {
		name  string
		s     Schedule
		after string
		want  []string // successive Next times; fewer than 3 means Next then reports false
	}{
		{name: "every 5m", s: Schedule{Every: every(5 * time.Minute)}, after: "2026-03-02T08:02:10Z",
			want: []string{"2026-03-02T08:05:00Z", "2026-03-02T08:10:00Z", "2026-03-02T08:15:00Z"}},
		{name: "default", s: Schedule{}, after: "2026-03-02T23:56:00Z",
			want: []string{"2026-03-03T00:00:00Z", "2026-03-03T00:05:00Z", "2026-03-03T00:10:00Z"}},
		{name: "strictly after", s: Schedule{Every: every(time.Hour)}, after: "2026-03-02T08:00:00Z",
			want: []string{"2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z"}},
		{name: "every 5h restarts each day", s: Schedule{Every: every(5 * time.Hour)}, after: "2026-03-02T19:00:00Z",
			want: []string{"2026-03-02T20:00:00Z", "2026-03-03T00:00:00Z", "2026-03-03T05:00:00Z"}},
		{name: "berlin at in spring gap is skipped", s: Schedule{At: "02:30", TimeZone: "Europe/Berlin"}, after: "2026-03-28T12:00:00Z",
			want: []string{"2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00", "2026-04-01T02:30:00+02:00"}},
		{name: "berlin every 30m across spring forward", s: Schedule{Every: every(30 * time.Minute), TimeZone: "Europe/Berlin"}, after: "2026-03-29T00:15:00Z",
			want: []string{"2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:30:00+02:00"}},
		{name: "berlin every 30m across fall back runs once", s: Schedule{Every: every(30 * time.Minute), TimeZone: "Europe/Berlin"}, after: "2026-10-25T00:15:00Z",
			want: []string{"2026-10-25T02:30:00+02:00", "2026-10-25T03:00:00+01:00", "2026-10-25T03:30:00+01:00"}},
		{name: "berlin at in fall back overlap runs at first", s: Schedule{At: "02:30", TimeZone: "Europe/Berlin"}, after: "2026-10-24T12:00:00Z",
			want: []string{"2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00", "2026-10-27T02:30:00+01:00"}},
		{name: "berlin daily at keeps wall time across dst", s: Schedule{At: "08:00", TimeZone: "Europe/Berlin"}, after: "2026-03-28T12:00:00Z",
			want: []string{"2026-03-29T08:00:00+02:00", "2026-03-30T08:00:00+02:00", "2026-03-31T08:00:00+02:00"}},
		{name: "window weekly end inclusive", s: Schedule{Occurrence: "weekly", Days: []string{"mon", "tue", "wed", "thu", "fri"}, Every: every(15 * time.Minute), From: "08:00", To: "18:00"}, after: "2026-03-06T17:50:00Z",
			want: []string{"2026-03-06T18:00:00Z", "2026-03-09T08:00:00Z", "2026-03-09T08:15:00Z"}},
		{name: "window off grid", s: Schedule{Every: every(20 * time.Minute), From: "08:10", To: "17:50"}, after: "2026-03-02T17:45:00Z",
			want: []string{"2026-03-02T17:50:00Z", "2026-03-03T08:10:00Z", "2026-03-03T08:30:00Z"}},
		{name: "window from only", s: Schedule{Every: every(4 * time.Hour), From: "09:00"}, after: "2026-03-02T22:00:00Z",
			want: []string{"2026-03-03T09:00:00Z", "2026-03-03T13:00:00Z", "2026-03-03T17:00:00Z"}},
		{name: "window in berlin", s: Schedule{Every: every(30 * time.Minute), From: "08:00", To: "09:00", TimeZone: "Europe/Berlin"}, after: "2026-03-02T07:45:00Z",
			want: []string{"2026-03-02T09:00:00+01:00", "2026-03-03T08:00:00+01:00", "2026-03-03T08:30:00+01:00"}},
		{name: "monthly 31 skips short months", s: Schedule{Occurrence: "monthly", DayOfMonth: 31, At: "09:00"}, after: "2026-03-31T10:00:00Z",
			want: []string{"2026-05-31T09:00:00Z", "2026-07-31T09:00:00Z", "2026-08-31T09:00:00Z"}},
		{name: "monthly 1 berlin", s: Schedule{Occurrence: "monthly", DayOfMonth: 1, At: "08:30", TimeZone: "Europe/Berlin"}, after: "2026-03-01T08:00:00Z",
			want: []string{"2026-04-01T08:30:00+02:00", "2026-05-01T08:30:00+02:00", "2026-06-01T08:30:00+02:00"}},
		{name: "yearly feb 29", s: Schedule{Occurrence: "yearly", Month: 2, DayOfMonth: 29, At: "12:00"}, after: "2026-01-01T00:00:00Z",
			want: []string{"2028-02-29T12:00:00Z", "2032-02-29T12:00:00Z", "2036-02-29T12:00:00Z"}},
		{name: "yearly strictly after", s: Schedule{Occurrence: "yearly", Month: 3, DayOfMonth: 15, At: "09:00"}, after: "2026-03-15T09:00:00Z",
			want: []string{"2027-03-15T09:00:00Z", "2028-03-15T09:00:00Z", "2029-03-15T09:00:00Z"}},
		{name: "weekly with every", s: Schedule{Occurrence: "weekly", Days: []string{"sat"}, Every: every(12 * time.Hour)}, after: "2026-03-02T00:00:00Z",
			want: []string{"2026-03-07T00:00:00Z", "2026-03-07T12:00:00Z", "2026-03-14T00:00:00Z"}},
		{name: "end date", s: Schedule{At: "08:00", EndDate: "2026-03-03"}, after: "2026-03-02T09:00:00Z",
			want: []string{"2026-03-03T08:00:00Z"}},
		{name: "end date in zone", s: Schedule{Every: every(time.Hour), EndDate: "2026-03-02", TimeZone: "Europe/Berlin"}, after: "2026-03-02T21:30:00Z",
			want: []string{"2026-03-02T23:00:00+01:00"}},
		{name: "past end date", s: Schedule{EndDate: "2026-03-01"}, after: "2026-03-02T09:00:00Z"},
		{name: "start date", s: Schedule{Every: every(time.Hour), StartDate: "2026-04-01", TimeZone: "Europe/Berlin"}, after: "2026-03-01T00:00:00Z",
			want: []string{"2026-04-01T00:00:00+02:00", "2026-04-01T01:00:00+02:00", "2026-04-01T02:00:00+02:00"}},
		{name: "invalid", s: Schedule{Every: every(7 * time.Minute)}, after: "2026-03-01T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after := mustTime(t, tt.after)
			var got []string
			for len(got) < 3 {
				next, ok := tt.s.Next(after)
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

func TestScheduleWithin(t *testing.T) {
	window := Schedule{Occurrence: "weekly", Days: []string{"mon"}, Every: Duration(15 * time.Minute), From: "08:00", To: "18:00", TimeZone: "Europe/Berlin", StartDate: "2026-03-02", EndDate: "2026-03-31"}
	tests := []struct {
		name string
		s    Schedule
		t    string
		want bool
	}{
		{name: "inside", s: window, t: "2026-03-09T08:30:00+01:00", want: true},
		{name: "from inclusive", s: window, t: "2026-03-09T08:00:00+01:00", want: true},
		{name: "to inclusive, late seconds", s: window, t: "2026-03-09T18:00:45+01:00", want: true},
		{name: "before from", s: window, t: "2026-03-09T07:59:00+01:00", want: false},
		{name: "after to", s: window, t: "2026-03-09T18:01:00+01:00", want: false},
		{name: "other day", s: window, t: "2026-03-10T09:00:00+01:00", want: false},
		{name: "zone matters", s: window, t: "2026-03-09T07:30:00Z", want: true},
		{name: "before start", s: window, t: "2026-02-23T09:00:00+01:00", want: false},
		{name: "after end", s: window, t: "2026-04-06T09:00:00+02:00", want: false},
		{name: "no window whole day", s: Schedule{}, t: "2026-03-09T03:07:00Z", want: true},
		{name: "cron hour", s: Schedule{Expression: "cron(0/15 8-17 ? * MON-FRI *)"}, t: "2026-03-09T17:59:00Z", want: true},
		{name: "cron other hour", s: Schedule{Expression: "cron(0/15 8-17 ? * MON-FRI *)"}, t: "2026-03-09T18:00:00Z", want: false},
		{name: "cron weekend", s: Schedule{Expression: "cron(0/15 8-17 ? * MON-FRI *)"}, t: "2026-03-08T09:00:00Z", want: false},
		{name: "rate dates only", s: Schedule{Expression: "rate(5 minutes)", EndDate: "2026-03-08"}, t: "2026-03-09T09:00:00Z", want: false},
		{name: "invalid", s: Schedule{Every: Duration(7 * time.Minute)}, t: "2026-03-09T09:00:00Z", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.Within(mustTime(t, tt.t)); got != tt.want {
				t.Errorf("got Within(%s) = %v, want %v", tt.t, got, tt.want)
			}
		})
	}
}

func TestScheduleExpressions(t *testing.T) {
	every := func(d time.Duration) Duration { return Duration(d) }
	weekdays := []string{"mon", "tue", "wed", "thu", "fri"}
	tests := []struct {
		name string
		s    Schedule
		want []string
	}{
		{name: "every 5m daily", s: Schedule{Occurrence: "daily", Every: every(5 * time.Minute)}, want: []string{"cron(0/5 * * * ? *)"}},
		{name: "default", s: Schedule{}, want: []string{"cron(0/5 * * * ? *)"}},
		{name: "every minute", s: Schedule{Every: every(time.Minute)}, want: []string{"cron(* * * * ? *)"}},
		{name: "every 2h", s: Schedule{Every: every(2 * time.Hour)}, want: []string{"cron(0 0/2 * * ? *)"}},
		{name: "window with inclusive end", s: Schedule{Occurrence: "weekly", Days: weekdays, Every: every(15 * time.Minute), From: "08:00", To: "18:00"},
			want: []string{"cron(0/15 8-17 ? * MON-FRI *)", "cron(0 18 ? * MON-FRI *)"}},
		{name: "window off grid, one cron", s: Schedule{Every: every(20 * time.Minute), From: "08:10", To: "17:50"},
			want: []string{"cron(10/20 8-17 * * ? *)"}},
		{name: "window off grid, short last hour", s: Schedule{Every: every(20 * time.Minute), From: "08:10", To: "17:40"},
			want: []string{"cron(10/20 8-16 * * ? *)", "cron(10,30 17 * * ? *)"}},
		{name: "window short first hour", s: Schedule{Every: every(10 * time.Minute), From: "08:45", To: "10:00"},
			want: []string{"cron(45/10 8 * * ? *)", "cron(5/10 9 * * ? *)"}},
		{name: "hours with offset", s: Schedule{Occurrence: "weekly", Days: []string{"sat", "sun"}, Every: every(3 * time.Hour), From: "09:30", To: "18:00"},
			want: []string{"cron(30 9,12,15 ? * SUN,SAT *)"}},
		{name: "from only", s: Schedule{Every: every(10 * time.Minute), From: "08:05"}, want: []string{"cron(5/10 8-23 * * ? *)"}},
		{name: "hourly window", s: Schedule{Every: every(time.Hour), From: "08:00", To: "17:00"}, want: []string{"cron(0 8-17 * * ? *)"}},
		{name: "weekly at", s: Schedule{Occurrence: "weekly", Days: []string{"fri", "mon", "wed"}, At: "07:00"}, want: []string{"cron(0 7 ? * MON,WED,FRI *)"}},
		{name: "monthly at", s: Schedule{Occurrence: "monthly", DayOfMonth: 1, At: "08:30"}, want: []string{"cron(30 8 1 * ? *)"}},
		{name: "yearly at", s: Schedule{Occurrence: "yearly", Month: 3, DayOfMonth: 15, At: "09:00"}, want: []string{"cron(0 9 15 3 ? *)"}},
		{name: "rate as is", s: Schedule{Expression: "rate(5 minutes)"}, want: []string{"rate(5 minutes)"}},
		{name: "cron as is", s: Schedule{Expression: " cron(0 9 L * ? *) "}, want: []string{"cron(0 9 L * ? *)"}},
		{name: "at as is", s: Schedule{Expression: "at(2026-12-01T08:00:00)"}, want: []string{"at(2026-12-01T08:00:00)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.s.Expressions()
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("expressions (-want +got):\n%s", diff)
			}
			for _, e := range got {
				if err := (&Schedule{Expression: e}).Validate(); err != nil {
					t.Errorf("compiled %q does not validate: %v", e, err)
				}
			}
		})
	}
	if _, err := (&Schedule{Every: every(7 * time.Minute)}).Expressions(); err == nil {
		t.Errorf("got no error for an invalid schedule, want one")
	}
}

func TestScheduleDescribe(t *testing.T) {
	every := func(d time.Duration) Duration { return Duration(d) }
	tests := []struct {
		name string
		s    Schedule
		want string
	}{
		{name: "default", s: Schedule{}, want: "every 5 min UTC"},
		{name: "window on weekdays", s: Schedule{Occurrence: "weekly", Days: []string{"mon", "tue", "wed", "thu", "fri"}, Every: every(5 * time.Minute), From: "08:00", To: "18:00", TimeZone: "Europe/Paris"},
			want: "every 5 min, Mon–Fri 08:00–18:00 Europe/Paris"},
		{name: "daily at", s: Schedule{At: "07:30"}, want: "daily at 07:30 UTC"},
		{name: "from only", s: Schedule{Every: every(time.Hour), From: "09:00"}, want: "every hour, 09:00–23:00 UTC"},
		{name: "once", s: Schedule{Expression: "at(2027-01-04T09:00:00)"}, want: "once at 2027-01-04 09:00 UTC"},
		{name: "dates", s: Schedule{Occurrence: "monthly", DayOfMonth: 1, At: "08:30", TimeZone: "Europe/Berlin", StartDate: "2026-01-01", EndDate: "2026-06-30"},
			want: "monthly on day 1 at 08:30 Europe/Berlin, from 2026-01-01 to 2026-06-30"},
		{name: "cron", s: Schedule{Expression: "cron(0/10 8-17 ? * MON-FRI *)", TimeZone: "Europe/Berlin", EndDate: "2026-12-31"},
			want: "every 10 min, Mon–Fri 08:00–17:50 Europe/Berlin, until 2026-12-31"},
		{name: "invalid", s: Schedule{Every: every(7 * time.Minute)},
			want: "invalid: every: 7m0s does not divide an hour: use 1, 2, 3, 4, 5, 6, 10, 12, 15, 20 or 30 minutes, or whole hours"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.Describe(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestJobNextRun(t *testing.T) {
	off := false
	after := mustTime(t, "2026-03-02T08:02:10Z")
	tests := []struct {
		name string
		j    Job
		want string // "" for none
	}{
		{name: "enabled", j: Job{Schedule: Schedule{Every: Duration(5 * time.Minute)}}, want: "2026-03-02T08:05:00Z"},
		{name: "window", j: Job{Schedule: Schedule{Every: Duration(15 * time.Minute), From: "09:00", To: "17:00", TimeZone: "Europe/Paris"}}, want: "2026-03-02T09:15:00+01:00"},
		{name: "start date", j: Job{Schedule: Schedule{At: "07:30", StartDate: "2026-04-01"}}, want: "2026-04-01T07:30:00Z"},
		{name: "ended", j: Job{Schedule: Schedule{At: "07:30", EndDate: "2026-03-01"}}},
		{name: "disabled", j: Job{Enabled: &off, Schedule: Schedule{Every: Duration(5 * time.Minute)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next, ok := tt.j.NextRun(after)
			got := ""
			if ok {
				got = next.Format(time.RFC3339)
			}
			if got != tt.want {
				t.Errorf("got NextRun = %q, want %q", got, tt.want)
			}
		})
	}
}
