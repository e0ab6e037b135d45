package ebscheduler

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/google/go-cmp/cmp"

	"mailconnector/shared/job"
	sched "mailconnector/shared/scheduler"
	"mailconnector/shared/testkit/awstest"
)

var moto *awstest.Moto

func TestMain(m *testing.M) { awstest.Main(m, &moto) }

const (
	fetchARN = "arn:aws:lambda:us-east-1:123456789012:function:fetch"
	roleARN  = "arn:aws:iam::123456789012:role/scheduler"
)

// newScheduler returns a Scheduler on a fresh group whose clock says now.
func newScheduler(tb testing.TB, now time.Time) *Scheduler {
	tb.Helper()
	c, group := moto.ScheduleGroup(tb, "mail-connector")
	s := New(c, group, fetchARN, roleARN)
	s.now = func() time.Time { return now }
	return s
}

// byName lists the group's schedules by name.
func byName(tb testing.TB, s *Scheduler) map[string]Schedule {
	tb.Helper()
	all, err := s.List(context.Background())
	if err != nil {
		tb.Fatalf("List: %v", err)
	}
	out := map[string]Schedule{}
	for _, sc := range all {
		out[sc.Name] = sc
	}
	return out
}

func names(m map[string]Schedule) []string {
	var out []string
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

var now = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func TestNames(t *testing.T) {
	tests := []struct {
		name string
		n    int
		want []string
	}{
		{"one", 1, []string{"support"}},
		{"two", 2, []string{"support-1", "support-2"}},
		{"none", 0, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Names("support", tt.n)); diff != "" {
				t.Errorf("Names (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPutUpdateDisableDelete(t *testing.T) {
	ctx := context.Background()
	s := newScheduler(t, now)
	sch := job.Schedule{Every: job.Duration(15 * time.Minute), From: "08:00", To: "18:00", Occurrence: "weekly",
		Days: []string{"mon", "fri"}, TimeZone: "Europe/Berlin", StartDate: "2027-01-04", EndDate: "2027-06-30"}
	exprs, err := sch.Expressions()
	if err != nil {
		t.Fatal(err)
	}
	if len(exprs) != 2 {
		t.Fatalf("got expressions %v, want the window's two", exprs)
	}
	if err := s.Put(ctx, "support", exprs, sch, true); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := s.Put(ctx, "billing", []string{"rate(10 minutes)"}, job.Schedule{}, true); err != nil {
		t.Fatalf("Put billing: %v", err)
	}
	got := byName(t, s)
	want := map[string]Schedule{
		"support-1": {Name: "support-1", JobID: "support", Expression: exprs[0], TimeZone: "Europe/Berlin",
			StartDate: time.Date(2027, 1, 3, 23, 0, 0, 0, time.UTC), EndDate: time.Date(2027, 6, 30, 22, 0, 0, 0, time.UTC), State: "ENABLED"},
		"support-2": {Name: "support-2", JobID: "support", Expression: exprs[1], TimeZone: "Europe/Berlin",
			StartDate: time.Date(2027, 1, 3, 23, 0, 0, 0, time.UTC), EndDate: time.Date(2027, 6, 30, 22, 0, 0, 0, time.UTC), State: "ENABLED"},
		"billing": {Name: "billing", JobID: "billing", Expression: "rate(10 minutes)", TimeZone: "UTC", State: "ENABLED"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("after Put (-want +got):\n%s", diff)
	}
	full, err := s.c.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: aws.String("support-1"), GroupName: aws.String(s.group)})
	if err != nil {
		t.Fatal(err)
	}
	if m := full.FlexibleTimeWindow; m == nil || m.Mode != "OFF" {
		t.Errorf("got flexible time window %+v, want OFF", m)
	}
	if tg := full.Target; tg == nil || aws.ToString(tg.Arn) != fetchARN || aws.ToString(tg.RoleArn) != roleARN || aws.ToString(tg.Input) != `{"jobId":"support"}` {
		t.Errorf("got target %+v, want the fetch function with {\"jobId\":\"support\"}", tg)
	}

	steps := []struct {
		name  string
		exprs []string
		want  []string
	}{
		{"one expression: the bare name, numbered ones removed", []string{"rate(5 minutes)"}, []string{"billing", "support"}},
		{"three expressions: numbered, the bare one removed", []string{"rate(5 minutes)", "rate(7 minutes)", "rate(9 minutes)"}, []string{"billing", "support-1", "support-2", "support-3"}},
		{"two: the third removed", []string{"rate(5 minutes)", "rate(6 minutes)"}, []string{"billing", "support-1", "support-2"}},
	}
	for _, st := range steps {
		if err := s.Put(ctx, "support", st.exprs, job.Schedule{TimeZone: "Europe/Berlin"}, true); err != nil {
			t.Fatalf("%s: Put: %v", st.name, err)
		}
		got := byName(t, s)
		if diff := cmp.Diff(st.want, names(got)); diff != "" {
			t.Fatalf("%s: schedules (-want +got):\n%s", st.name, diff)
		}
		last := Names("support", len(st.exprs))[len(st.exprs)-1]
		if e := got[last].Expression; e != st.exprs[len(st.exprs)-1] {
			t.Errorf("%s: %s got expression %q, want %q", st.name, last, e, st.exprs[len(st.exprs)-1])
		}
		if !got[last].StartDate.IsZero() || !got[last].EndDate.IsZero() {
			t.Errorf("%s: %s kept dates %v–%v, want none", st.name, last, got[last].StartDate, got[last].EndDate)
		}
	}

	if err := s.Disable(ctx, "support"); err != nil {
		t.Fatalf("Disable: %v", err)
	}
	got = byName(t, s)
	for _, n := range []string{"support-1", "support-2"} {
		if got[n].State != "DISABLED" || got[n].Expression == "" {
			t.Errorf("after Disable: %s got %+v, want DISABLED with its expression kept", n, got[n])
		}
	}
	if got["billing"].State != "ENABLED" {
		t.Errorf("after Disable: billing got state %s, want ENABLED", got["billing"].State)
	}
	if err := s.Put(ctx, "support", []string{"rate(5 minutes)"}, job.Schedule{}, false); err != nil {
		t.Fatalf("Put disabled: %v", err)
	}
	if st := byName(t, s)["support"].State; st != "DISABLED" {
		t.Errorf("Put with enabled=false: got state %s, want DISABLED", st)
	}

	if err := s.Delete(ctx, "support"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if diff := cmp.Diff([]string{"billing"}, names(byName(t, s))); diff != "" {
		t.Errorf("after Delete (-want +got):\n%s", diff)
	}
	if err := s.Delete(ctx, "support"); err != nil {
		t.Errorf("Delete of a job without schedules: got %v, want nil", err)
	}
}

func TestDates(t *testing.T) {
	tests := []struct {
		name      string
		sch       job.Schedule
		wantStart time.Time
		wantEnd   time.Time
		wantErr   error
		wantNone  bool
	}{
		{name: "start passed is left out", sch: job.Schedule{StartDate: "2026-01-01", EndDate: "2026-12-31"},
			wantEnd: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "local days", sch: job.Schedule{TimeZone: "America/New_York", StartDate: "2026-12-01", EndDate: "2026-12-01"},
			wantStart: time.Date(2026, 12, 1, 5, 0, 0, 0, time.UTC), wantEnd: time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)},
		{name: "end passed", sch: job.Schedule{EndDate: "2026-11-21"}, wantErr: ErrExpired, wantNone: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := newScheduler(t, now)
			id := fmt.Sprintf("job-%d", i)
			err := s.Put(ctx, id, []string{"rate(1 hour)"}, job.Schedule{TimeZone: tt.sch.TimeZone}, true)
			if err != nil {
				t.Fatalf("first Put: %v", err)
			}
			err = s.Put(ctx, id, []string{"rate(1 hour)"}, tt.sch, true)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Put: got %v, want %v", err, tt.wantErr)
			}
			got, ok := byName(t, s)[id]
			if tt.wantNone {
				if ok {
					t.Fatalf("got schedule %+v, want it removed", got)
				}
				return
			}
			if !got.StartDate.Equal(tt.wantStart) || !got.EndDate.Equal(tt.wantEnd) {
				t.Errorf("got dates %v – %v, want %v – %v", got.StartDate, got.EndDate, tt.wantStart, tt.wantEnd)
			}
		})
	}
}

func TestBadScheduleIsRefused(t *testing.T) {
	s := newScheduler(t, now)
	tests := []struct {
		name string
		sch  job.Schedule
	}{
		{"time zone", job.Schedule{TimeZone: "Mars/Olympus"}},
		{"start", job.Schedule{StartDate: "2027-02-30"}},
		{"end", job.Schedule{EndDate: "30.06.2027"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Put(context.Background(), "support", []string{"rate(1 hour)"}, tt.sch, true); err == nil {
				t.Errorf("Put %+v: got nil error, want one", tt.sch)
			}
		})
	}
	if got := byName(t, s); len(got) != 0 {
		t.Errorf("after refused Puts: got schedules %v, want none", names(got))
	}
}

func TestNameOfAnotherJobIsNotTaken(t *testing.T) {
	ctx := context.Background()
	s := newScheduler(t, now)
	if err := s.Put(ctx, "a-1", []string{"rate(1 hour)"}, job.Schedule{}, true); err != nil {
		t.Fatal(err)
	}
	err := s.Put(ctx, "a", []string{"rate(5 minutes)", "rate(7 minutes)"}, job.Schedule{}, true)
	if !errors.Is(err, ErrNameTaken) {
		t.Fatalf("Put of a job whose schedule name another job holds: got %v, want ErrNameTaken", err)
	}
	if got := byName(t, s)["a-1"]; got.JobID != "a-1" || got.Expression != "rate(1 hour)" {
		t.Errorf("the other job's schedule: got %+v, want it untouched", got)
	}
	if err := s.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a-1"}, names(byName(t, s))); diff != "" {
		t.Errorf("Delete of job a (-want +got):\n%s", diff)
	}
}

func TestSetStateKeepsTheRest(t *testing.T) {
	ctx := context.Background()
	s := newScheduler(t, now)
	sp := sched.Spec{Name: "support", JobID: "support", Expression: "cron(0/15 9-17 ? * MON-FRI *)", TimeZone: "Europe/Berlin",
		EndDate: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), FlexibleWindow: 10, State: sched.Enabled}
	if err := s.Create(ctx, sp); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, sched.Spec{Name: "billing", JobID: "billing", Expression: "rate(1 hour)", State: sched.Enabled}); err != nil {
		t.Fatal(err)
	}
	changed, err := s.SetState(ctx, "support", sched.Disabled)
	if err != nil || !cmp.Equal(changed, []string{"support"}) {
		t.Fatalf("SetState: got %v, %v; want [support]", changed, err)
	}
	got, err := s.Get(ctx, "support")
	if err != nil {
		t.Fatal(err)
	}
	want := sp
	want.State = sched.Disabled
	if d := want.Differences(got); len(d) > 0 {
		t.Errorf("after SetState: got %s, want %s (differs in %v)", got, want, d)
	}
	if b, _ := s.Get(ctx, "billing"); b.State != sched.Enabled {
		t.Errorf("another job's schedule: got state %s, want ENABLED", b.State)
	}
	if _, err := s.Get(ctx, "nosuch"); !errors.Is(err, sched.ErrNotFound) {
		t.Errorf("Get of none: got %v, want sched.ErrNotFound", err)
	}
}
