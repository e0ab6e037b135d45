package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/ledger"
	"mailconnector/shared/run"
)

// TestErrorsClearAndRunOutcomes: errors clear empties the error-folder
// count, and runs shows the outcome counts.
func TestErrorsClearAndRunOutcomes(t *testing.T) {
	dir := t.TempDir()
	st := openState(t, dir)
	ctx := context.Background()
	now := time.Now()
	e := ledger.Entry{JobID: "demo", Key: "k1", Source: ledger.Source{Protocol: "imap", Folder: "INBOX", Validity: 1, UID: 1},
		RawKey: "raw/demo/k1", State: ledger.Rejected, Disposed: true, Disposition: "move Connector Errors", InErrorFolder: true,
		FetchedAt: now, UpdatedAt: now}
	if res, err := st.Record(ctx, []ledger.Entry{e}); err != nil || res[0].Err != nil {
		t.Fatalf("Record: %v %v", err, res)
	}
	if err := st.PutRun(ctx, run.Run{ID: "run-1", JobID: "demo", StartedAt: now, Status: run.Interrupted, Trigger: "manual",
		Created: 2, Rejected: 1, ErrorFolder: 1}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	out, errOut, err := cli(t, "runs", "demo", "--state", dir)
	if err != nil {
		t.Fatalf("runs: %v\n%s", err, errOut)
	}
	if want := "created 2, updated 0, ignored 0, rejected 1, failed 0, error folder 1"; !strings.Contains(out, want) {
		t.Errorf("runs: got\n%s\nwant a line with %q", out, want)
	}
	if strings.Contains(out, "-2562047h") {
		t.Errorf("runs: got a negative duration\n%s", out)
	}
	out, errOut, err = cli(t, "errors", "clear", "demo", "--state", dir)
	if err != nil {
		t.Fatalf("errors clear: %v\n%s", err, errOut)
	}
	if !strings.Contains(out, "1 mails in the error folder cleared") {
		t.Errorf("errors clear: got %q", out)
	}
	st = openState(t, dir)
	defer st.Close()
	if in, err := st.ErrorFolder(ctx, "demo", 0); err != nil || len(in) != 0 {
		t.Errorf("after errors clear: got %d in the error folder (err %v), want 0", len(in), err)
	}
}
