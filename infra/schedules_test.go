package main

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"

	"mailconnector/shared/schedsync"
	"mailconnector/shared/scheduler"
)

// syncResource returns the one Custom::Schedules resource's properties.
func syncResource(t *testing.T, r *synthResult) map[string]any {
	t.Helper()
	res := r.resources("Custom::Schedules")
	if len(res) != 1 {
		t.Fatalf("got %d Custom::Schedules resources, want 1", len(res))
	}
	for _, v := range res {
		return v["Properties"].(map[string]any)
	}
	return nil
}

// templateSchedules returns the plan the custom resource carries, by
// schedule name, rendered.
func templateSchedules(t *testing.T, r *synthResult) map[string]string {
	t.Helper()
	p := syncResource(t, r)
	plan, err := schedsync.DecodePlan(p[schedsync.PropPlan].(string))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, s := range plan {
		out[s.Name] = s.JobID + ": " + s.String()
	}
	return out
}

func TestExampleSchedules(t *testing.T) {
	r := example(t)
	// support: weekdays every 5 minutes from 07:00 to 19:00 inclusive, in
	// Berlin time; 19:00 needs a schedule of its own. billing is disabled.
	want := map[string]string{
		"support-1": "support: cron(0/5 7-18 ? * MON-FRI *) Europe/Berlin",
		"support-2": "support: cron(0 19 ? * MON-FRI *) Europe/Berlin",
	}
	if d := cmp.Diff(want, templateSchedules(t, r)); d != "" {
		t.Errorf("schedules (-want +got):\n%s", d)
	}
	assert(t, "schedule group", func() {
		r.Template.HasResourceProperties(jsii.String("AWS::Scheduler::ScheduleGroup"), map[string]any{"Name": "mail-connector"})
	})
	assert(t, "no job schedule is a CloudFormation resource", func() {
		r.Template.ResourceCountIs(jsii.String("AWS::Scheduler::Schedule"), jsii.Number(0))
	})
	if !strings.Contains(strings.Join(r.C.Notes, "\n"), `job "billing" is disabled`) {
		t.Errorf("notes do not mention the disabled job: %q", r.C.Notes)
	}
}

func TestScheduleForms(t *testing.T) {
	r := synth(t, synthOptions{Context: map[string]any{"jobsFile": "infra/testdata/jobs.schedules.yaml"}})
	want := map[string]string{
		"every5": "every5: cron(0/5 * * * ? *) UTC",
		"rate":   "rate: rate(15 minutes) America/New_York",
		// Inclusive local days: 00:00 on 2030-01-15 and 24:00 on 2030-12-31 in Berlin (CET, UTC+1).
		"cron":  "cron: cron(0/10 8-17 ? * MON-FRI *) Europe/Berlin, from 2030-01-14T23:00Z, until 2030-12-31T23:00Z",
		"daily": "daily: cron(30 6 * * ? *) Asia/Tokyo",
		// 08:10 … 17:30 every 20 minutes: the last hour has only :10 and :30.
		"weekly-window-1": "weekly-window: cron(10/20 8-16 ? * MON,WED *) UTC",
		"weekly-window-2": "weekly-window: cron(10,30 17 ? * MON,WED *) UTC",
		"monthly":         "monthly: cron(0 9 15 * ? *) UTC",
		"yearly":          "yearly: cron(0 12 24 12 ? *) UTC",
		"once":            "once: at(2031-03-01T08:00:00) UTC",
		// Its startDate has passed: EventBridge refuses a StartDate in the past.
		"started":     "started: cron(0 * * * ? *) UTC",
		"graph-oauth": "graph-oauth: cron(0 0/2 * * ? *) UTC",
		// "ended" (endDate passed) and "off" (disabled) get none.
	}
	if d := cmp.Diff(want, templateSchedules(t, r)); d != "" {
		t.Errorf("schedules (-want +got):\n%s", d)
	}
	// The resource carries exactly what schedsync.Plan makes of the file.
	plan, _, err := schedsync.Plan(r.C.Jobs, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if got := syncResource(t, r)[schedsync.PropPlan]; got != schedsync.EncodePlan(plan) {
		t.Errorf("Plan property: got %v, want schedsync.Plan's %s", got, schedsync.EncodePlan(plan))
	}
	notes := strings.Join(r.C.Notes, "\n")
	for _, w := range []string{`job "ended": its schedule never fires`, `job "off" is disabled`} {
		if !strings.Contains(notes, w) {
			t.Errorf("notes %q lack %q", notes, w)
		}
	}
}

// schedSyncPermissions are the sync function's own statements: the
// schedule actions it makes, on the connector's group only, the scheduler
// role passed to EventBridge Scheduler only, and alerts.
var schedSyncPermissions = map[string][]string{
	"scheduler:GetSchedule":    {"arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/mail-connector/*"},
	"scheduler:CreateSchedule": {"arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/mail-connector/*"},
	"scheduler:UpdateSchedule": {"arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/mail-connector/*"},
	"scheduler:DeleteSchedule": {"arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/mail-connector/*"},
	"iam:PassRole":             {"${SchedulerRole.Arn} PassedToService=scheduler.amazonaws.com"},
	"sns:Publish":              {"${Topic}"},
}

func TestScheduleSync(t *testing.T) {
	r := example(t)
	p := syncResource(t, r)
	if got := r.render(p["ServiceToken"]); got != "${Function:schedsync.Arn}" {
		t.Errorf("ServiceToken: got %s, want the schedsync function", got)
	}
	if p[schedsync.PropReset] != "" || p[schedsync.PropResetNonce] != "" {
		t.Errorf("without resetSchedules: got reset %v, nonce %v; want none", p[schedsync.PropReset], p[schedsync.PropResetNonce])
	}
	if d, _ := p[schedsync.PropJobsFile].(string); !strings.HasPrefix(d, "sha256:") {
		t.Errorf("JobsFile: got %q, want the jobs file's digest", d)
	}
	env := r.environment(t, fnSchedSync)
	for k, want := range map[string]string{
		"CONNECTOR_SCHEDULE_GROUP":     "mail-connector",
		"CONNECTOR_FETCH_FUNCTION_ARN": "${Function:fetch.Arn}",
		"CONNECTOR_SCHEDULER_ROLE_ARN": "${SchedulerRole.Arn}",
		"CONNECTOR_ALERT_TOPIC_ARN":    "${Topic}",
		"CONNECTOR_TABLE":              "${Table}",
	} {
		if env[k] != want {
			t.Errorf("environment %s: got %q, want %q", k, env[k], want)
		}
	}
	outputs := r.JSON["Outputs"].(map[string]any)
	for name, attr := range map[string]string{"ScheduleSync": schedsync.AttrSummary, "ScheduleDrift": schedsync.AttrDrift} {
		o, ok := outputs[name].(map[string]any)
		if !ok {
			t.Errorf("no output %s", name)
			continue
		}
		if got := r.render(o["Value"]); !strings.HasSuffix(got, "."+attr+"}") {
			t.Errorf("output %s: got %s, want the custom resource's %s", name, got, attr)
		}
	}
}

func TestResetSchedules(t *testing.T) {
	r := synth(t, synthOptions{Context: map[string]any{"resetSchedules": "support"}})
	p := syncResource(t, r)
	if p[schedsync.PropReset] != "support" || p[schedsync.PropResetNonce] != testNow.Format(time.RFC3339) {
		t.Errorf("got reset %v, nonce %v; want support, the synth time", p[schedsync.PropReset], p[schedsync.PropResetNonce])
	}
	_, err := newTestStack(t, synthOptions{Context: map[string]any{"resetSchedules": "suport"}})
	if err == nil || !strings.Contains(err.Error(), `context resetSchedules: "suport" is not a job of events/jobs.example.yaml`) {
		t.Errorf("an unknown job: got %v, want an error naming it", err)
	}
}

// TestPlanIsTheSyncs: the plan the stack carries is schedsync's, with the
// state the sync writes.
func TestPlanIsTheSyncs(t *testing.T) {
	r := example(t)
	for _, s := range r.C.Schedules {
		if s.State != scheduler.Enabled {
			t.Errorf("%s: state %q, want ENABLED", s.Name, s.State)
		}
	}
}
