package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/run"
)

// TestStartupHonoursSchedules: on a Saturday, a weekly Monday job and a
// job whose endDate has passed do not fetch at startup, a job inside its
// window does, and each job's next run is printed.
func TestStartupHonoursSchedules(t *testing.T) {
	dir := t.TempDir()
	jobsFile := filepath.Join(dir, "jobs.yaml")
	// Port 1 refuses: a job that fetches records a failed run.
	const jobs = `jobs:
  - id: monday
    server: {protocol: imap, host: 127.0.0.1, port: 1, security: none, auth: {secret: x}}
    schedule: {occurrence: weekly, days: [mon], at: "09:00", timeZone: UTC}
  - id: ended
    server: {protocol: imap, host: 127.0.0.1, port: 1, security: none, auth: {secret: x}}
    schedule: {every: 5m, endDate: "2026-11-30", timeZone: UTC}
  - id: always
    server: {protocol: imap, host: 127.0.0.1, port: 1, security: none, auth: {secret: x}}
    schedule: {every: 5m, timeZone: UTC}
`
	if err := os.WriteFile(jobsFile, []byte(jobs), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &common{jobsFile: jobsFile, stateDir: dir, logFormat: "text"}
	var out bytes.Buffer
	ctx := context.Background()
	l, err := startLocalRun(ctx, c, &runFlags{}, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	// Saturday 5 December 2026, 10:00 UTC.
	saturday := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return saturday }
	wait := l.startWorkers(ctx)
	chosen, err := l.choose(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	requeue := l.startup(ctx, chosen, &out)
	wait()

	for _, tt := range []struct {
		id      string
		ran     bool
		printed string
	}{
		{"monday", false, "job monday: next run Mon 2026-12-07 09:00 UTC."},
		{"ended", false, "job ended: its schedule has no further run"},
		{"always", true, "job always: next run Sat 2026-12-05 10:05 UTC."},
	} {
		runs, err := l.loc.store.Runs(ctx, tt.id, 0)
		if err != nil {
			t.Fatal(err)
		}
		if ran := len(runs) > 0; ran != tt.ran {
			t.Errorf("job %s: got %d runs at startup (%v), want ran=%v", tt.id, len(runs), runs, tt.ran)
		}
		if tt.ran && runs[0].Status != run.Failed {
			t.Errorf("job %s: got status %s, want failed (port 1 refuses)", tt.id, runs[0].Status)
		}
		if requeue[tt.id] == tt.ran {
			t.Errorf("job %s: got requeue at its first scheduled run %v, want %v", tt.id, requeue[tt.id], !tt.ran)
		}
		if !strings.Contains(out.String(), tt.printed) {
			t.Errorf("startup output: got\n%s\nwant %q", out.String(), tt.printed)
		}
	}
}
