package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/ledger"
	"mailconnector/shared/run"
	"mailconnector/shared/store"
)

// jobsFileForTable holds a job of each kind `connector jobs` tells apart:
// enabled on a window, disabled in the jobs file, switched off by
// `connector disable` and past its end date.
const jobsFileForTable = `jobs:
  - id: support
    name: サポート窓口 (Tokyo)
    server: {protocol: imap, host: mail.example.jp, security: tls, folder: INBOX/Support, auth: {secret: support}}
    schedule: {occurrence: weekly, every: 5m, days: [mon, tue, wed, thu, fri], from: "08:00", to: "18:00", timeZone: Asia/Tokyo}
  - id: billing
    name: Billing
    server: {protocol: graph, mailbox: billing@contoso.example, auth: {method: oauth2, secret: billing}}
    schedule: {occurrence: weekly, days: [mon], at: "09:00", timeZone: UTC}
  - id: archive
    enabled: false
    server: {protocol: pop3, host: pop.example.org, security: tls, auth: {secret: archive}}
  - id: campaign
    name: Spring campaign
    server: {protocol: imap, host: mail.example.org, security: tls, auth: {secret: campaign}}
    schedule: {every: 1h, endDate: "2026-11-30", timeZone: UTC, idleEvery: 6h}
`

// seedJobs stores a history for the jobs of jobsFileForTable: runs, a
// failure streak, mails in the error folder and a stored switch.
func seedJobs(tb testing.TB, dir string, now time.Time) {
	tb.Helper()
	st := openState(tb, dir)
	defer st.Close()
	ctx := context.Background()
	put := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	put(st.PutRun(ctx, run.Run{JobID: "support", ID: "r1", StartedAt: now.Add(-3 * time.Minute), EndedAt: now.Add(-2 * time.Minute), Status: run.OK}))
	put(st.PutRun(ctx, run.Run{JobID: "billing", ID: "r2", StartedAt: now.Add(-26 * time.Hour), EndedAt: now.Add(-26 * time.Hour), Status: run.Failed}))
	put(st.PutJobState(ctx, store.JobState{JobID: "billing", ConsecutiveFailures: 3, LastError: "connect: refused"}))
	put(st.PutJobControl(ctx, store.JobControl{JobID: "billing", Disabled: true, Reason: "mailbox migration", By: "ann@desk", At: now.Add(-time.Hour)}))
	for i := range 2 {
		e := ledger.Entry{JobID: "support", Key: fmt.Sprintf("k%d", i), Source: ledger.Source{Protocol: "imap", Folder: "INBOX", Validity: 1, UID: uint32(i + 1)},
			Fingerprint: ledger.Fingerprint(fmt.Sprintf("<k%d@example.com>", i), fmt.Sprintf("%064x", i+1)), RawKey: fmt.Sprintf("raw/support/k%d", i),
			State: ledger.Rejected, RunID: "r1", FetchedAt: now, UpdatedAt: now}
		res, err := st.Record(ctx, []ledger.Entry{e})
		put(err)
		put(res[0].Err)
		e, err = st.Entry(ctx, "support", e.Key)
		put(err)
		e.Disposed, e.Disposition, e.InErrorFolder = true, "move Connector Errors", true
		_, err = st.Update(ctx, e)
		put(err)
	}
}

// TestJobsGolden: one row per job, the CJK name lined up, what decided
// each switch, the next run in words and time, the last run, the streak
// and the error folder.
func TestJobsGolden(t *testing.T) {
	dir := t.TempDir()
	jobsFile := filepath.Join(dir, "jobs.yaml")
	if err := os.WriteFile(jobsFile, []byte(jobsFileForTable), 0o600); err != nil {
		t.Fatal(err)
	}
	// Saturday 5 December 2026, 10:00 UTC.
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	seedJobs(t, dir, now)
	var b bytes.Buffer
	c := &common{jobsFile: jobsFile, stateDir: dir, logFormat: "text"}
	if err := cmdJobs(context.Background(), c, now, time.UTC, &b); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "jobs.golden", b.String(), "jobs")
	for _, s := range []string{"disabled  connector disable", "disabled by ann@desk", "mailbox migration", "enabled   jobs file"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("jobs: got\n%s\nwant it to contain %q", b.String(), s)
		}
	}
}

// TestDisableEnable switches a job off and on through the CLI; `jobs`
// shows what decided, and a scheduled run of the disabled job ends at once.
func TestDisableEnable(t *testing.T) {
	dir := t.TempDir()
	jobsFile := filepath.Join(dir, "jobs.yaml")
	if err := os.WriteFile(jobsFile, []byte(jobsFileForTable), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := cli(t, "disable", "support", "--reason", "holiday", "--jobs", jobsFile, "--state", dir); err != nil {
		t.Fatalf("disable: %v\n%s", err, errOut)
	}
	out, _, err := cli(t, "jobs", "--jobs", jobsFile, "--state", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "connector disable") || !strings.Contains(out, ": holiday") {
		t.Errorf("jobs after disable: got\n%s\nwant support disabled by connector disable for the holiday", out)
	}
	if _, _, err := cli(t, "enable", "archive", "--jobs", jobsFile, "--state", dir); err != nil {
		t.Fatal(err)
	}
	out, _, err = cli(t, "jobs", "--jobs", jobsFile, "--state", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "archive ") && !strings.Contains(l, "enabled   connector enable") {
			t.Errorf("jobs after enabling a job the jobs file disables: got %q, want enabled by connector enable", l)
		}
	}
	if code, msg := exitMsg(func() error { _, _, err := cli(t, "disable", "nosuch", "--jobs", jobsFile, "--state", dir); return err }()); code == 0 || !strings.Contains(msg, `no job "nosuch"`) {
		t.Errorf("disable of an unknown job: got exit %d %q, want an error naming it", code, msg)
	}
}
