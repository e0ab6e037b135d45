package schedsync_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsscheduler "github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/google/go-cmp/cmp"

	"mailconnector/shared/job"
	"mailconnector/shared/notify/lognotify"
	"mailconnector/shared/schedsync"
	"mailconnector/shared/scheduler"
	"mailconnector/shared/scheduler/ebscheduler"
	"mailconnector/shared/store"
	"mailconnector/shared/store/boltstore"
	"mailconnector/shared/testkit/awstest"
	"mailconnector/shared/testkit/localtest"
)

var moto *awstest.Moto

func TestMain(m *testing.M) { awstest.Main(m, &moto) }

const (
	fetchARN = "arn:aws:lambda:us-east-1:123456789012:function:fetch"
	roleARN  = "arn:aws:iam::123456789012:role/scheduler"
)

// counting passes every call to the real scheduler and notes the writes.
type counting struct {
	schedsync.Scheduler
	writes []string
}

func (c *counting) Create(ctx context.Context, s scheduler.Spec) error {
	c.writes = append(c.writes, "create "+s.Name)
	return c.Scheduler.Create(ctx, s)
}

func (c *counting) Update(ctx context.Context, s scheduler.Spec) error {
	c.writes = append(c.writes, "update "+s.Name)
	return c.Scheduler.Update(ctx, s)
}

func (c *counting) Remove(ctx context.Context, name string) error {
	c.writes = append(c.writes, "delete "+name)
	return c.Scheduler.Remove(ctx, name)
}

// env is one schedule group on moto, a state file, and what the
// administrators were told.
type env struct {
	client  *awsscheduler.Client
	group   string
	eb      *ebscheduler.Scheduler
	calls   *counting
	records *boltstore.Store
	told    *bytes.Buffer
	syncer  *schedsync.Syncer
}

var now = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

func newEnv(tb testing.TB) *env {
	tb.Helper()
	c, group := moto.ScheduleGroup(tb, "mail-connector")
	st := localtest.Store(tb, tb.TempDir())
	e := &env{client: c, group: group, eb: ebscheduler.New(c, group, fetchARN, roleARN), records: st, told: &bytes.Buffer{}}
	e.calls = &counting{Scheduler: e.eb}
	e.syncer = &schedsync.Syncer{Scheduler: e.calls, Records: st, Now: func() time.Time { return now },
		Notifier: lognotify.New(slog.New(slog.NewTextHandler(e.told, nil))), Log: slog.New(slog.DiscardHandler)}
	return e
}

// plan is the schedule plan of a jobs file.
func plan(tb testing.TB, jobs ...string) []scheduler.Spec {
	tb.Helper()
	y := "jobs:\n"
	for _, j := range jobs {
		y += "  - " + j + "\n"
	}
	f, err := job.Parse([]byte(y))
	if err != nil {
		tb.Fatalf("parse: %v", err)
	}
	p, _, err := schedsync.Plan(f, now)
	if err != nil {
		tb.Fatalf("plan: %v", err)
	}
	return p
}

func jobYAML(id, schedule string) string {
	return `{id: ` + id + `, server: {protocol: imap, host: mail.example.com, security: tls, auth: {secret: s}}, schedule: ` + schedule + `}`
}

// held is what EventBridge holds under name; ok false when nothing.
func (e *env) held(tb testing.TB, name string) (scheduler.Spec, bool) {
	tb.Helper()
	s, err := e.eb.Get(context.Background(), name)
	if errors.Is(err, scheduler.ErrNotFound) {
		return s, false
	}
	if err != nil {
		tb.Fatal(err)
	}
	return s, true
}

func (e *env) sync(tb testing.TB, p []scheduler.Spec, reset string) schedsync.Result {
	tb.Helper()
	e.calls.writes = nil
	res, err := e.syncer.Sync(context.Background(), p, schedsync.ParseReset(reset))
	if err != nil {
		tb.Fatalf("Sync: %v", err)
	}
	return res
}

func (e *env) recordsByName(tb testing.TB) map[string]store.ScheduleRecord {
	tb.Helper()
	rs, err := e.records.ScheduleRecords(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]store.ScheduleRecord{}
	for _, r := range rs {
		out[r.Name] = r
	}
	return out
}

// edit changes a schedule as a person does in the console: UpdateSchedule
// with what GetSchedule returned, some fields changed.
func (e *env) edit(tb testing.TB, name, expr string, flexMinutes int32, state types.ScheduleState) {
	tb.Helper()
	ctx := context.Background()
	out, err := e.client.GetSchedule(ctx, &awsscheduler.GetScheduleInput{Name: aws.String(name), GroupName: aws.String(e.group)})
	if err != nil {
		tb.Fatal(err)
	}
	_, err = e.client.UpdateSchedule(ctx, &awsscheduler.UpdateScheduleInput{Name: out.Name, GroupName: out.GroupName,
		ScheduleExpression: aws.String(expr), ScheduleExpressionTimezone: out.ScheduleExpressionTimezone,
		StartDate: out.StartDate, EndDate: out.EndDate, Target: out.Target, Description: out.Description, State: state,
		FlexibleTimeWindow: &types.FlexibleTimeWindow{Mode: types.FlexibleTimeWindowModeFlexible, MaximumWindowInMinutes: aws.Int32(flexMinutes)}})
	if err != nil {
		tb.Fatalf("edit %s: %v", name, err)
	}
}

func same(tb testing.TB, what string, want, got scheduler.Spec) {
	tb.Helper()
	if d := want.Differences(got); len(d) > 0 || want.JobID != got.JobID {
		tb.Errorf("%s: got %s (job %s), want %s (job %s): differs in %v", what, got, got.JobID, want, want.JobID, d)
	}
}

func TestLifecycle(t *testing.T) {
	e := newEnv(t)
	support := jobYAML("support", `{every: 5m, timeZone: Europe/Berlin, endDate: "2030-12-31"}`)
	billing := jobYAML("billing", `{expression: "rate(10 minutes)"}`)
	v1 := plan(t, support, billing)

	// A first deploy creates every schedule.
	res := e.sync(t, v1, "")
	if d := cmp.Diff([]string{"support", "billing"}, res.Created); d != "" {
		t.Fatalf("first deploy: created (-want +got):\n%s", d)
	}
	for _, p := range v1 {
		got, ok := e.held(t, p.Name)
		if !ok {
			t.Fatalf("first deploy: schedule %s missing", p.Name)
		}
		same(t, "first deploy: "+p.Name, p, got)
	}

	// The same plan again changes nothing: no call writes.
	res = e.sync(t, v1, "")
	if len(e.calls.writes) != 0 || len(res.Unchanged) != 2 {
		t.Fatalf("unchanged deploy: got writes %v, unchanged %v; want none and both", e.calls.writes, res.Unchanged)
	}

	// A person moves support to business hours, with a flexible window,
	// and pauses it; then a colleague deploys an unrelated change.
	edited := "cron(0/15 9-17 ? * MON-FRI *)"
	e.edit(t, "support", edited, 10, types.ScheduleStateDisabled)
	v2 := plan(t, support, jobYAML("billing", `{expression: "rate(15 minutes)"}`))
	res = e.sync(t, v2, "")
	if d := cmp.Diff([]string{"update billing"}, e.calls.writes); d != "" {
		t.Errorf("unrelated deploy: writes (-want +got):\n%s", d)
	}
	held, _ := e.held(t, "support")
	if held.Expression != edited || held.FlexibleWindow != 10 || held.State != scheduler.Disabled {
		t.Errorf("unrelated deploy: support got %s, want the person's edit kept", held)
	}
	if len(res.Drifts) != 1 {
		t.Fatalf("unrelated deploy: got drifts %v, want support's", res.Drifts)
	}
	d := res.Drifts[0]
	if d.Name != "support" || !d.New || d.PlanChanged() || !cmp.Equal(d.Fields, []string{"expression", "flexible window", "state"}) {
		t.Errorf("unrelated deploy: got drift %+v, want support's new edit of expression, flexible window and state", d)
	}
	rec := e.recordsByName(t)["support"]
	if rec.Drift == nil || rec.Drift.Expression != edited || !rec.DriftSeen.Equal(now) {
		t.Errorf("unrelated deploy: record %+v, want the drift recorded as seen now", rec)
	}
	same(t, "unrelated deploy: support's last-applied plan", v1[0], rec.Applied)
	if n := strings.Count(e.told.String(), "was edited in EventBridge and kept"); n != 1 {
		t.Errorf("unrelated deploy: told the administrators %d times, want once:\n%s", n, e.told)
	}

	// A deploy that changes support's plan keeps the edit too, and reports
	// both plans; the administrators are not told again.
	v3 := plan(t, jobYAML("support", `{every: 10m, timeZone: Europe/Berlin, endDate: "2030-12-31"}`), billing)
	res = e.sync(t, v3, "")
	if d := cmp.Diff([]string{"update billing"}, e.calls.writes); d != "" {
		t.Errorf("plan change: writes (-want +got):\n%s", d)
	}
	if len(res.Drifts) != 1 || res.Drifts[0].New || !res.Drifts[0].PlanChanged() {
		t.Fatalf("plan change: got drifts %+v, want support's known edit holding back a new plan", res.Drifts)
	}
	line := res.Drifts[0].String()
	for _, w := range []string{edited, "the jobs file now says " + v3[0].Expression, "last deployed " + v1[0].Expression, "on 2026-12-05"} {
		if !strings.Contains(line, w) {
			t.Errorf("plan change: drift %q lacks %q", line, w)
		}
	}
	if rec := e.recordsByName(t)["support"]; rec.Wanted == nil || rec.Wanted.Expression != v3[0].Expression {
		t.Errorf("plan change: record %+v, want the jobs file's plan kept as Wanted", rec)
	}
	if held, _ := e.held(t, "support"); held.Expression != edited {
		t.Errorf("plan change: support got %s, want the edit kept", held)
	}
	if n := strings.Count(e.told.String(), "was edited in EventBridge and kept"); n != 1 {
		t.Errorf("plan change: told the administrators %d times, want once", n)
	}

	// resetSchedules=support puts the plan back on purpose.
	res = e.sync(t, v3, "support")
	if d := cmp.Diff([]string{"update support"}, e.calls.writes); d != "" || len(res.Drifts) != 0 {
		t.Errorf("reset: writes (-want +got):\n%s; drifts %v, want none", d, res.Drifts)
	}
	held, _ = e.held(t, "support")
	same(t, "reset: support", v3[0], held)
	if rec := e.recordsByName(t)["support"]; rec.Drift != nil || rec.Wanted != nil {
		t.Errorf("reset: record %+v, want no drift", rec)
	}

	// A removed job's schedule is deleted, and forgotten.
	v4 := plan(t, jobYAML("support", `{every: 10m, timeZone: Europe/Berlin, endDate: "2030-12-31"}`))
	res = e.sync(t, v4, "")
	if d := cmp.Diff([]string{"billing"}, res.Deleted); d != "" {
		t.Errorf("removed job: deleted (-want +got):\n%s", d)
	}
	if _, ok := e.held(t, "billing"); ok {
		t.Errorf("removed job: billing's schedule is still there")
	}
	if _, ok := e.recordsByName(t)["billing"]; ok {
		t.Errorf("removed job: billing's record is still there")
	}

	// Stack deletion removes what the syncs created, and nothing else.
	other := scheduler.Spec{Name: "hand-made", JobID: "support", Expression: "rate(1 day)", TimeZone: "UTC", State: scheduler.Enabled}
	if err := e.eb.Create(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	deleted, err := e.syncer.Delete(context.Background())
	if err != nil || !cmp.Equal(deleted, []string{"support"}) {
		t.Fatalf("Delete: got %v, %v; want [support]", deleted, err)
	}
	if _, ok := e.held(t, "support"); ok {
		t.Errorf("after Delete: support is still there")
	}
	if _, ok := e.held(t, "hand-made"); !ok {
		t.Errorf("after Delete: a schedule no sync made was deleted")
	}
}

// TestFailedSyncLeavesTheLastGoodSchedules: EventBridge refuses one
// schedule of a deploy (a start date in the past); the deploy fails naming
// it, and the changes made before it are undone.
func TestFailedSyncLeavesTheLastGoodSchedules(t *testing.T) {
	e := newEnv(t)
	support := jobYAML("support", `{every: 5m}`)
	v1 := plan(t, support, jobYAML("billing", `{expression: "rate(10 minutes)"}`))
	e.sync(t, v1, "")
	before := e.recordsByName(t)

	v2 := plan(t, jobYAML("aaa", `{every: 1h}`), jobYAML("support", `{every: 30m}`))
	v2 = append(v2, scheduler.Spec{Name: "zzz", JobID: "zzz", Expression: "cron(0 * * * ? *)", TimeZone: "UTC",
		StartDate: time.Now().Add(-time.Hour).Truncate(time.Second), State: scheduler.Enabled})
	e.calls.writes = nil
	_, err := e.syncer.Sync(context.Background(), v2, schedsync.Reset{})
	var se *schedsync.SyncError
	if !errors.As(err, &se) || se.Name != "zzz" || se.JobID != "zzz" || se.UndoErr != nil || se.Undone != 2 {
		t.Fatalf("got error %v, want a SyncError naming schedule zzz of job zzz with the 2 changes before it undone", err)
	}
	for _, w := range []string{"schedule zzz of job zzz", "StartDate", "the last good schedules stay"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	// Creates and updates go first, deletes last; the undo runs backwards.
	if d := cmp.Diff([]string{"create aaa", "update support", "create zzz", "update support", "delete aaa"}, e.calls.writes); d != "" {
		t.Errorf("writes (-want +got):\n%s", d)
	}
	for _, p := range v1 {
		got, ok := e.held(t, p.Name)
		if !ok {
			t.Fatalf("after the failure: %s missing", p.Name)
		}
		same(t, "after the failure: "+p.Name, p, got)
	}
	for _, n := range []string{"aaa", "zzz"} {
		if _, ok := e.held(t, n); ok {
			t.Errorf("after the failure: %s was left behind", n)
		}
	}
	if d := cmp.Diff(before, e.recordsByName(t)); d != "" {
		t.Errorf("after the failure: records changed (-before +after):\n%s", d)
	}
}

// TestAdoptsSchedulesMadeBeforeSync: a schedule of the plan's name that no
// sync recorded (made by an earlier stack or by hand) is brought to the
// plan and recorded, not created twice.
func TestAdoptsSchedulesMadeBeforeSync(t *testing.T) {
	e := newEnv(t)
	if err := e.eb.Put(context.Background(), "support", []string{"rate(7 minutes)"}, job.Schedule{}, true); err != nil {
		t.Fatal(err)
	}
	p := plan(t, jobYAML("support", `{every: 5m}`))
	res := e.sync(t, p, "")
	if d := cmp.Diff([]string{"update support"}, e.calls.writes); d != "" || len(res.Drifts) != 0 {
		t.Errorf("writes (-want +got):\n%s; drifts %v", d, res.Drifts)
	}
	if _, ok := e.recordsByName(t)["support"]; !ok {
		t.Errorf("support was not recorded")
	}
}

func TestParseReset(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		covers   map[string]bool
	}{
		{"none", "", map[string]bool{"a": false}},
		{"all", "all", map[string]bool{"a": true, "b": true}},
		{"one", "a", map[string]bool{"a": true, "b": false}},
		{"two", "a, b", map[string]bool{"a": true, "b": true, "c": false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := schedsync.ParseReset(tc.in)
			for j, want := range tc.covers {
				if got := r.Covers(j); got != want {
					t.Errorf("ParseReset(%q).Covers(%q): got %v, want %v", tc.in, j, got, want)
				}
			}
		})
	}
}
