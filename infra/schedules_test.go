package main

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"

	"mailconnector/shared/job"
)

// templateSchedules returns the template's schedules by name, rendered.
func templateSchedules(t *testing.T, r *synthResult) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, res := range r.resources("AWS::Scheduler::Schedule") {
		p := res["Properties"].(map[string]any)
		tg := p["Target"].(map[string]any)
		s := map[string]string{
			"expr":   r.render(p["ScheduleExpression"]),
			"tz":     r.render(p["ScheduleExpressionTimezone"]),
			"flex":   r.render(p["FlexibleTimeWindow"]),
			"group":  r.render(p["GroupName"]),
			"state":  r.render(p["State"]),
			"target": r.render(tg["Arn"]),
			"role":   r.render(tg["RoleArn"]),
			"input":  r.render(tg["Input"]),
			"retry":  r.render(tg["RetryPolicy"]),
		}
		if v, ok := p["StartDate"]; ok {
			s["start"] = r.render(v)
		}
		if v, ok := p["EndDate"]; ok {
			s["end"] = r.render(v)
		}
		out[r.render(p["Name"])] = s
	}
	return out
}

func schedule(expr, tz, jobID string) map[string]string {
	return map[string]string{
		"expr": expr, "tz": tz,
		"flex":   `{"Mode":"OFF"}`,
		"group":  "mail-connector",
		"state":  "ENABLED",
		"target": "${Function:fetch.Arn}",
		"role":   "${SchedulerRole.Arn}",
		"input":  `{"jobId":"` + jobID + `"}`,
		"retry":  `{"MaximumRetryAttempts":0}`,
	}
}

func TestExampleSchedules(t *testing.T) {
	r := example(t)
	// support: weekdays every 5 minutes from 07:00 to 19:00 inclusive, in
	// Berlin time; 19:00 needs a schedule of its own. billing is disabled.
	want := map[string]map[string]string{
		"support-1": schedule("cron(0/5 7-18 ? * MON-FRI *)", "Europe/Berlin", "support"),
		"support-2": schedule("cron(0 19 ? * MON-FRI *)", "Europe/Berlin", "support"),
	}
	if d := cmp.Diff(want, templateSchedules(t, r)); d != "" {
		t.Errorf("schedules (-want +got):\n%s", d)
	}
	assert(t, "schedule group", func() {
		r.Template.HasResourceProperties(jsii.String("AWS::Scheduler::ScheduleGroup"), map[string]any{"Name": "mail-connector"})
	})
	if !strings.Contains(strings.Join(r.C.Notes, "\n"), `job "billing" is disabled`) {
		t.Errorf("notes do not mention the disabled job: %q", r.C.Notes)
	}
}

func TestScheduleForms(t *testing.T) {
	r := synth(t, synthOptions{Context: map[string]any{"jobsFile": "infra/testdata/jobs.schedules.yaml"}})
	with := func(s map[string]string, kv ...string) map[string]string {
		for i := 0; i+1 < len(kv); i += 2 {
			s[kv[i]] = kv[i+1]
		}
		return s
	}
	want := map[string]map[string]string{
		"every5": schedule("cron(0/5 * * * ? *)", "UTC", "every5"),
		"rate":   schedule("rate(15 minutes)", "America/New_York", "rate"),
		// Inclusive local days: 00:00 on 2030-01-15 and 24:00 on 2030-12-31 in Berlin (CET, UTC+1).
		"cron": with(schedule("cron(0/10 8-17 ? * MON-FRI *)", "Europe/Berlin", "cron"),
			"start", "2030-01-14T23:00:00Z", "end", "2030-12-31T23:00:00Z"),
		"daily": schedule("cron(30 6 * * ? *)", "Asia/Tokyo", "daily"),
		// 08:10 … 17:30 every 20 minutes: the last hour has only :10 and :30.
		"weekly-window-1": schedule("cron(10/20 8-16 ? * MON,WED *)", "UTC", "weekly-window"),
		"weekly-window-2": schedule("cron(10,30 17 ? * MON,WED *)", "UTC", "weekly-window"),
		"monthly":         schedule("cron(0 9 15 * ? *)", "UTC", "monthly"),
		"yearly":          schedule("cron(0 12 24 12 ? *)", "UTC", "yearly"),
		"once":            schedule("at(2031-03-01T08:00:00)", "UTC", "once"),
		// Its startDate has passed: EventBridge refuses a StartDate in the past.
		"started":     schedule("cron(0 * * * ? *)", "UTC", "started"),
		"graph-oauth": schedule("cron(0 0/2 * * ? *)", "UTC", "graph-oauth"),
		// "ended" (endDate passed) and "off" (disabled) get none.
	}
	got := templateSchedules(t, r)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("schedules (-want +got):\n%s", d)
	}

	// The template holds exactly what the job package compiles.
	for _, j := range r.C.Jobs.Jobs {
		if !j.IsEnabled() || j.ID == "ended" {
			continue
		}
		exprs, err := j.Schedule.Expressions()
		if err != nil {
			t.Fatalf("job %s: %v", j.ID, err)
		}
		for n, e := range exprs {
			name := j.ID
			if len(exprs) > 1 {
				name = j.ID + "-" + string(rune('1'+n))
			}
			if got[name]["expr"] != e {
				t.Errorf("schedule %s: got %q, want %q from job.Schedule.Expressions", name, got[name]["expr"], e)
			}
		}
	}
	notes := strings.Join(r.C.Notes, "\n")
	for _, w := range []string{`job "ended": its schedule never fires`, `job "off" is disabled`} {
		if !strings.Contains(notes, w) {
			t.Errorf("notes %q lack %q", notes, w)
		}
	}
}

func TestPlanSchedules(t *testing.T) {
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	long := strings.Repeat("a", 63)
	for _, tc := range []struct {
		name    string
		yaml    string
		want    []schedulePlan
		wantErr string
	}{
		{
			name: "start today in the future is kept, in the job's zone",
			yaml: `{id: a, server: {protocol: imap, host: h, security: tls, auth: {secret: s}}, schedule: {every: 1h, timeZone: Pacific/Auckland, startDate: "2026-06-02"}}`,
			want: []schedulePlan{{Name: "a", JobID: "a", Expression: "cron(0 * * * ? *)", TimeZone: "Pacific/Auckland", StartDate: "2026-06-01T12:00:00Z", Input: `{"jobId":"a"}`}},
		},
		{
			name: "start before now is dropped",
			yaml: `{id: a, server: {protocol: imap, host: h, security: tls, auth: {secret: s}}, schedule: {every: 1h, startDate: "2026-06-01"}}`,
			want: []schedulePlan{{Name: "a", JobID: "a", Expression: "cron(0 * * * ? *)", TimeZone: "UTC", Input: `{"jobId":"a"}`}},
		},
		{
			name: "end date is the end of that day",
			yaml: `{id: a, server: {protocol: imap, host: h, security: tls, auth: {secret: s}}, schedule: {expression: "rate(1 hour)", endDate: "2026-06-30"}}`,
			want: []schedulePlan{{Name: "a", JobID: "a", Expression: "rate(1 hour)", TimeZone: "UTC", EndDate: "2026-07-01T00:00:00Z", Input: `{"jobId":"a"}`}},
		},
		{
			name: "at() in the past gets no schedule",
			yaml: `{id: a, server: {protocol: imap, host: h, security: tls, auth: {secret: s}}, schedule: {expression: "at(2026-01-01T00:00:00)"}}`,
		},
		{
			name:    "a name too long for EventBridge Scheduler",
			yaml:    `{id: ` + long + `, server: {protocol: imap, host: h, security: tls, auth: {secret: s}}, schedule: {every: 15m, from: "08:00", to: "18:00"}}`,
			wantErr: `job "` + long + `": id: too long for its 2 schedules`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := job.Parse([]byte("jobs:\n  - " + tc.yaml + "\n"))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			got, _, err := planSchedules(f, now)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("plans (-want +got):\n%s", d)
			}
		})
	}
}
