package schedsync_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mailconnector/shared/job"
	"mailconnector/shared/schedsync"
	"mailconnector/shared/scheduler"
)

func TestPlan(t *testing.T) {
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	long := strings.Repeat("a", 63)
	spec := func(expr, tz string, start, end time.Time) scheduler.Spec {
		return scheduler.Spec{Name: "a", JobID: "a", Expression: expr, TimeZone: tz, StartDate: start, EndDate: end, State: scheduler.Enabled}
	}
	for _, tc := range []struct {
		name    string
		yaml    string
		want    []scheduler.Spec
		wantErr string
	}{
		{
			name: "start today in the future is kept, in the job's zone",
			yaml: `{id: a, server: {protocol: imap, host: h, security: tls, auth: {secret: s}}, schedule: {every: 1h, timeZone: Pacific/Auckland, startDate: "2026-06-02"}}`,
			want: []scheduler.Spec{spec("cron(0 * * * ? *)", "Pacific/Auckland", time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), time.Time{})},
		},
		{
			name: "start before now is dropped",
			yaml: `{id: a, server: {protocol: imap, host: h, security: tls, auth: {secret: s}}, schedule: {every: 1h, startDate: "2026-06-01"}}`,
			want: []scheduler.Spec{spec("cron(0 * * * ? *)", "UTC", time.Time{}, time.Time{})},
		},
		{
			name: "end date is the end of that day",
			yaml: `{id: a, server: {protocol: imap, host: h, security: tls, auth: {secret: s}}, schedule: {expression: "rate(1 hour)", endDate: "2026-06-30"}}`,
			want: []scheduler.Spec{spec("rate(1 hour)", "UTC", time.Time{}, time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC))},
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
			got, _, err := schedsync.Plan(f, now)
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
