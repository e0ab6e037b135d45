package boltstore

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/redact"
	"mailconnector/shared/run"
	"mailconnector/shared/store"
)

// TestRunsAndJobStatesAreStoredRedacted: a secret value registered with
// the process's redactor never reaches the state file through a run
// record or a job state.
func TestRunsAndJobStatesAreStoredRedacted(t *testing.T) {
	const secret = "STORE-canary-Pa55"
	redact.Add(secret)
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	if err := s.PutRun(ctx, run.Run{JobID: "j", ID: "r1", StartedAt: now, Status: run.Failed,
		Errors: []string{"login refused: password " + secret}, Notes: []string{"token " + secret}}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutJobState(ctx, store.JobState{JobID: "j", LastError: "read secrets: " + secret}); err != nil {
		t.Fatal(err)
	}
	runs, err := s.Runs(ctx, "j", 1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs: got %v %v", runs, err)
	}
	if got := runs[0].Errors[0]; got != "login refused: password "+redact.Mask {
		t.Errorf("got %q, want the password masked", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), secret) {
		t.Errorf("got the secret in %s, want none", path)
	}
}
