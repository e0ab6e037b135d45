package job

import (
	"strings"
	"testing"
	"time"
)

func TestScheduleIdle(t *testing.T) {
	tests := []struct {
		name     string
		schedule string
		wantErr  string
		describe string
		after    time.Duration
	}{
		{name: "off", schedule: `{every: 1m}`},
		{name: "on, default after", schedule: `{every: 1m, idleEvery: 15m}`, describe: "every 15m once nothing came for 1h", after: time.Hour},
		{name: "on, after", schedule: `{every: 5m, idleEvery: 30m, idleAfter: 2h30m}`, describe: "every 30m once nothing came for 2h30m", after: 150 * time.Minute},
		{name: "under a minute", schedule: `{every: 1m, idleEvery: 30s}`, wantErr: "schedule.idleEvery: 30s is under a minute"},
		{name: "over a day", schedule: `{every: 1m, idleEvery: 25h}`, wantErr: "schedule.idleEvery: 25h is not between 0 (off) and 24h"},
		{name: "after alone", schedule: `{every: 1m, idleAfter: 1h}`, wantErr: "schedule.idleAfter: only with idleEvery"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse([]byte("jobs:\n  - id: j\n    server: {protocol: imap, host: h, security: tls, auth: {secret: s}}\n    schedule: " + tc.schedule + "\n"))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := &f.Jobs[0].Schedule
			if got := s.DescribeIdle(); got != tc.describe {
				t.Errorf("DescribeIdle: got %q, want %q", got, tc.describe)
			}
			if tc.after != 0 && s.IdleAfterOrDefault() != tc.after {
				t.Errorf("IdleAfterOrDefault: got %s, want %s", s.IdleAfterOrDefault(), tc.after)
			}
		})
	}
}
