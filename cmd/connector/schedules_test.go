package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsscheduler "github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"mailconnector/shared/job"
	"mailconnector/shared/schedsync"
	"mailconnector/shared/scheduler/ebscheduler"
	"mailconnector/shared/testkit/awstest"
)

// TestSchedulesDiffAndAdopt: a deploy's sync, a person's edit in
// EventBridge, a deploy that changes the job's plan; diff shows the three
// views in words and adopt prints the edit as jobs file YAML.
func TestSchedulesDiffAndAdopt(t *testing.T) {
	m := awstest.Start(t)
	ctx := context.Background()
	cfg := m.Config()
	records := awsStore(t, m, "mc-sched")
	sc := awsscheduler.NewFromConfig(cfg)
	if _, err := sc.CreateScheduleGroup(ctx, &awsscheduler.CreateScheduleGroupInput{Name: aws.String("mc-group")}); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"CONNECTOR_TABLE": "mc-sched", "CONNECTOR_AWS_ENDPOINT": m.URL, "CONNECTOR_SCHEDULE_GROUP": "mc-group",
		"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
		"AWS_REGION": awstest.Region, "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
	} {
		t.Setenv(k, v)
	}
	writeFile := func(schedule string) string {
		p := filepath.Join(t.TempDir(), "jobs.yaml")
		y := "jobs:\n  - {id: support, server: {protocol: imap, host: mail.example.com, security: tls, auth: {secret: s}}, schedule: " + schedule + "}\n" +
			"  - {id: billing, server: {protocol: imap, host: mail.example.com, security: tls, auth: {secret: s}}, schedule: {expression: \"rate(10 minutes)\"}}\n"
		if err := os.WriteFile(p, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	syncer := &schedsync.Syncer{Scheduler: ebscheduler.New(sc, "mc-group", "arn:aws:lambda:us-east-1:123456789012:function:fetch", "arn:aws:iam::123456789012:role/s"),
		Records: records, Log: slog.New(slog.DiscardHandler)}
	deploy := func(path string) {
		t.Helper()
		f, err := job.LoadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		plan, _, err := schedsync.Plan(f, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := syncer.Sync(ctx, plan, schedsync.Reset{}); err != nil {
			t.Fatal(err)
		}
	}
	v1 := writeFile(`{every: 5m, timeZone: Europe/Berlin}`)
	deploy(v1)

	out, _, err := cli(t, "schedules", "diff", "--aws", "--jobs", v1)
	if err != nil {
		t.Fatalf("diff: %v", err)
	}
	for _, w := range []string{"support\n  jobs file:    every 5 min Europe/Berlin\n  last deploy:  the jobs file's\n  EventBridge:  the last deploy's\n"} {
		if !strings.Contains(out, w) {
			t.Errorf("diff after a deploy:\n%s\nlacks %q", out, w)
		}
	}

	// A person moves support to business hours and pauses it; then a
	// deploy that changes support's plan keeps the edit.
	got, err := sc.GetSchedule(ctx, &awsscheduler.GetScheduleInput{Name: aws.String("support"), GroupName: aws.String("mc-group")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = sc.UpdateSchedule(ctx, &awsscheduler.UpdateScheduleInput{Name: got.Name, GroupName: got.GroupName,
		ScheduleExpression: aws.String("cron(0/15 9-17 ? * MON-FRI *)"), ScheduleExpressionTimezone: got.ScheduleExpressionTimezone,
		EndDate: aws.Time(time.Date(2030, 12, 31, 23, 0, 0, 0, time.UTC)), Target: got.Target, State: types.ScheduleStateDisabled,
		FlexibleTimeWindow: &types.FlexibleTimeWindow{Mode: types.FlexibleTimeWindowModeOff}})
	if err != nil {
		t.Fatal(err)
	}
	v2 := writeFile(`{every: 10m, timeZone: Europe/Berlin}`)
	deploy(v2)
	out, _, err = cli(t, "schedules", "diff", "support", "--aws", "--jobs", v2)
	if err != nil {
		t.Fatalf("diff: %v", err)
	}
	for _, w := range []string{
		"jobs file:    every 10 min Europe/Berlin",
		"last deploy:  every 5 min Europe/Berlin (the next deploy applies",
		"EventBridge:  disabled in EventBridge (not broken): every 15 min, Mon–Fri 09:00–17:45 Europe/Berlin, until 2030-12-31 23:00 UTC, DISABLED (edited in EventBridge on " + time.Now().UTC().Format(time.DateOnly) + ", kept; the jobs file says every 10 min Europe/Berlin)",
		"connector schedules adopt support --aws",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("diff after an edit:\n%s\nlacks %q", out, w)
		}
	}
	if strings.Contains(out, "billing") {
		t.Errorf("diff support shows another job:\n%s", out)
	}

	// jobs --aws shows what EventBridge holds: support disabled there,
	// with its edit under the row; billing as deployed.
	out, _, err = cli(t, "jobs", "--aws", "--jobs", v2)
	if err != nil {
		t.Fatalf("jobs --aws: %v", err)
	}
	rows := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			rows[f[0]] = l
		}
	}
	for id, want := range map[string][]string{
		"support": {"disabled", "EventBridge", "every 15 min, Mon–Fri 09:00–17:45 Europe/Berlin"},
		"billing": {"enabled", "jobs file", "every 10 min"},
	} {
		for _, w := range want {
			if !strings.Contains(rows[id], w) {
				t.Errorf("jobs --aws, row %s: %q lacks %q\n%s", id, rows[id], w, out)
			}
		}
	}
	if w := "schedule support edited in EventBridge on " + time.Now().UTC().Format(time.DateOnly) + ", kept"; !strings.Contains(out, w) || !strings.Contains(out, "the jobs file says every 10 min Europe/Berlin") {
		t.Errorf("jobs --aws lacks the edit note %q:\n%s", w, out)
	}

	out, _, err = cli(t, "schedules", "adopt", "support", "--aws", "--jobs", v2)
	if err != nil {
		t.Fatalf("adopt: %v", err)
	}
	for _, w := range []string{"schedule:\n  expression: \"cron(0/15 9-17 ? * MON-FRI *)\"\n  timeZone: Europe/Berlin\n  endDate: \"2030-12-31\"\n", "# DISABLED in EventBridge"} {
		if !strings.Contains(out, w) {
			t.Errorf("adopt:\n%s\nlacks %q", out, w)
		}
	}
	// The printed block is the jobs file's terms: it loads, and describes the edit.
	var f job.File
	y := "jobs:\n  - id: support\n    server: {protocol: imap, host: mail.example.com, security: tls, auth: {secret: s}}\n" + indent(out, "    ")
	if err := os.WriteFile(filepath.Join(t.TempDir(), "adopted.yaml"), []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	pf, err := job.Parse([]byte(y))
	if err != nil {
		t.Fatalf("the adopted YAML does not load: %v\n%s", err, y)
	}
	f = *pf
	if e := f.Jobs[0].Schedule.Expression; e != "cron(0/15 9-17 ? * MON-FRI *)" {
		t.Errorf("adopted expression: got %q", e)
	}
}

func indent(s, by string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i := range lines {
		lines[i] = by + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}

func TestSchedulesLocally(t *testing.T) {
	p := filepath.Join(t.TempDir(), "jobs.yaml")
	y := "jobs:\n  - {id: support, server: {protocol: imap, host: mail.example.com, security: tls, auth: {secret: s}}, schedule: {every: 5m, from: \"08:00\", to: \"18:00\", occurrence: weekly, days: [mon, tue, wed, thu, fri]}}\n"
	if err := os.WriteFile(p, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := cli(t, "schedules", "diff", "--jobs", p)
	if err != nil || !strings.Contains(out, "support\n  jobs file:    every 5 min, Mon–Fri 08:00–18:00 UTC\n") || !strings.Contains(out, "Locally there is no EventBridge") {
		t.Errorf("diff locally: got %v\n%s", err, out)
	}
	_, _, err = cli(t, "schedules", "adopt", "support", "--jobs", p)
	if code, msg := exitMsg(err); code != 2 || !strings.Contains(msg, "run it with --aws") {
		t.Errorf("adopt locally: got exit %d %q, want 2 asking for --aws", code, msg)
	}
}
