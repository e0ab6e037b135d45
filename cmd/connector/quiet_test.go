package main

import (
	"fmt"
	"strings"
	"testing"

	"mailconnector/shared/mailbox/mailboxtest"
)

// TestBacklogRunPrintsFewLines: a 3,000-message run logs fewer than 50
// lines at the default level; per-message lines are debug detail.
func TestBacklogRunPrintsFewLines(t *testing.T) {
	raws := make([][]byte, 3000)
	for i := range raws {
		raws[i] = mailboxtest.Message(fmt.Sprintf("m%d@example.com", i), 200)
	}
	u := userWith(t, raws...)
	jobs := writeJobs(t, plain, u, "")
	out, errOut, err := cli(t, "run", "--once", "--jobs", jobs, "--state", t.TempDir())
	if err != nil {
		t.Fatalf("run: %v\n%s", err, errOut)
	}
	if n := strings.Count(errOut, "\n"); n >= 50 {
		t.Errorf("a 3,000-message run logged %d lines, want fewer than 50:\n%s", n, errOut[:min(len(errOut), 2000)])
	}
	if !strings.Contains(out, "showing 1,000 of 3,000; `connector requests` for all") {
		t.Errorf("run's request table does not say it is cut: %s", out[max(0, len(out)-300):])
	}
}
