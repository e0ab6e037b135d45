package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/ledger"
	"mailconnector/shared/testkit/awstest"
)

// withConfirmIn makes f the standard input reset reads for the test.
func withConfirmIn(t *testing.T, f *os.File) {
	t.Helper()
	old := confirmIn
	confirmIn = f
	t.Cleanup(func() { confirmIn = old })
}

// notTerminal is a standard input that is a file, as under cron.
func notTerminal(t *testing.T) *os.File {
	t.Helper()
	p := filepath.Join(t.TempDir(), "stdin")
	if err := os.WriteFile(p, []byte("y\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// resetFixture is a job whose two mails made two requests.
func resetFixture(t *testing.T) (jobs, state string) {
	t.Helper()
	u := userWith(t,
		mail("Alice <alice@contoso.example>", "r1@contoso.example", "VPN down"),
		mail("Bob <bob@contoso.example>", "r2@contoso.example", "Printer jammed"),
	)
	jobs = writeJobs(t, plain, u, "")
	state = t.TempDir()
	t.Setenv("CONNECTOR_STATE", state)
	if out, errOut, err := cli(t, "run", "--once", "--jobs", jobs); err != nil || !strings.Contains(out, "fetched 2") {
		t.Fatalf("run: %v\n%s\n%s", err, out, errOut)
	}
	return jobs, state
}

// TestResetWithYes, against Dovecot: without a terminal reset refuses and
// names --yes; with --yes it forgets the job's ledger, cursor and local
// objects, and the next run fetches the job's mail again, making no
// second request for mail whose Message-ID made one.
func TestResetWithYes(t *testing.T) {
	jobs, state := resetFixture(t)
	withConfirmIn(t, notTerminal(t))
	_, _, err := cli(t, "reset", "support", "--jobs", jobs)
	if code, msg := exitMsg(err); code != 2 || !strings.Contains(msg, "not a terminal: pass --yes") {
		t.Errorf("reset without a terminal: got exit %d %q, want 2 naming --yes", code, msg)
	}
	if got := listed(t); len(got) != 2 {
		t.Fatalf("messages after a refused reset: got %d, want 2", len(got))
	}

	out, _, err := cli(t, "reset", "support", "--yes", "--jobs", jobs)
	if err != nil || !strings.Contains(out, "job support reset in "+state+": forgot its ledger (2 entries) and its cursor; removed its ") ||
		!strings.Contains(out, "Its runs, requests and conversations stay.") {
		t.Fatalf("reset --yes: got %v\n%s", err, out)
	}
	if got := listed(t); len(got) != 0 {
		t.Errorf("messages after reset: got %d, want none", len(got))
	}
	for _, dir := range []string{"raw", "norm"} {
		if _, err := os.Stat(filepath.Join(blobDir(state), dir, "support")); !os.IsNotExist(err) {
			t.Errorf("%s/support after reset: got %v, want it gone", dir, err)
		}
	}
	out, errOut, err := cli(t, "run", "--once", "--jobs", jobs)
	if err != nil || !strings.Contains(out, "fetched 2") || !strings.Contains(out, "0 new requests (2 in all)") {
		t.Errorf("run after reset: got %v, want the 2 mails fetched again and no second request\n%s\n%s", err, out, errOut)
	}
	if got := listed(t); len(got) != 2 {
		t.Errorf("messages after the run after reset: got %d, want 2", len(got))
	}
	_, _, err = cli(t, "reset", "nosuch", "--yes", "--jobs", jobs)
	if code, msg := exitMsg(err); code != 2 || !strings.Contains(msg, `no job "nosuch"`) {
		t.Errorf("reset of an unknown job: got exit %d %q", code, msg)
	}
}

// TestResetRefusedWhileAnotherProcessHoldsTheState: a connector process
// holding the state directory (a running `connector run`) keeps reset
// out, and reset names it.
func TestResetRefusedWhileAnotherProcessHoldsTheState(t *testing.T) {
	jobs, state := resetFixture(t)
	st := openState(t, state)
	_, _, err := cli(t, "reset", "support", "--yes", "--jobs", jobs)
	st.Close()
	if code, msg := exitMsg(err); code != 1 || !strings.Contains(msg, fmt.Sprintf("another connector process holds the state directory (pid %d", os.Getpid())) {
		t.Errorf("reset while the state is held: got exit %d %q, want the holder named", code, msg)
	}
	if got := listed(t); len(got) != 2 {
		t.Errorf("messages after a refused reset: got %d, want 2", len(got))
	}
}

// TestResetOnAWSRefusedWhileARunHoldsTheLease: on DynamoDB, reset takes
// the job's lease; while a run holds it, reset refuses naming the run,
// and once it is free reset forgets the ledger and cursor there.
func TestResetOnAWSRefusedWhileARunHoldsTheLease(t *testing.T) {
	m := awstest.Start(t)
	ctx := context.Background()
	st := awsStore(t, m, "mc")
	now := time.Now()
	if _, err := st.Record(ctx, []ledger.Entry{{JobID: "support", Key: "k1", Fingerprint: "f1", State: ledger.Queued, FetchedAt: now, UpdatedAt: now}}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetCursor(ctx, "support", "7:1"); err != nil {
		t.Fatal(err)
	}
	if err := st.AcquireLease(ctx, "support", "20261205T100000Z-run1", time.Hour); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"CONNECTOR_TABLE": "mc", "CONNECTOR_AWS_ENDPOINT": m.URL, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
		"AWS_REGION": awstest.Region, "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
	} {
		t.Setenv(k, v)
	}
	_, _, err := cli(t, "reset", "support", "--aws", "--yes")
	if code, msg := exitMsg(err); code != 1 || !strings.Contains(msg, "its lease is held by run 20261205T100000Z-run1 until ") || !strings.Contains(msg, "nothing reset") {
		t.Errorf("reset while a run holds the lease: got exit %d %q, want the run named", code, msg)
	}
	if _, err := st.Entry(ctx, "support", "k1"); err != nil {
		t.Fatalf("entry after a refused reset: %v", err)
	}
	if err := st.ReleaseLease(ctx, "support", "20261205T100000Z-run1"); err != nil {
		t.Fatal(err)
	}
	out, _, err := cli(t, "reset", "support", "--aws", "--yes")
	if err != nil || !strings.Contains(out, "job support reset in the deployed stack: forgot its ledger (1 entries) and its cursor; its objects in the bucket stay") {
		t.Fatalf("reset --aws: got %v\n%s", err, out)
	}
	if c, err := st.Cursor(ctx, "support"); err != nil || c != "" {
		t.Errorf("cursor after reset: got %q, %v; want none", c, err)
	}
	if _, err := st.Lease(ctx, "support"); err == nil {
		t.Error("lease after reset: got one, want reset to have given it up")
	}
}
