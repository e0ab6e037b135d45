package handler

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"mailconnector/shared/metrics"
	"mailconnector/shared/run"
)

// TestFetchMetricsSkipQuietRuns: a run with nothing to tell writes no
// metrics (CloudWatch bills a job's metrics for every hour they get a
// value); a run that fetched, left a backlog, failed or recovered writes
// them all.
func TestFetchMetricsSkipQuietRuns(t *testing.T) {
	tests := []struct {
		name string
		run  run.Run
		want string // a metric line names it; "" for no line
	}{
		{name: "nothing new", run: run.Run{Status: run.OK}},
		{name: "disposed only", run: run.Run{Status: run.OK, Disposed: 3}},
		{name: "fetched", run: run.Run{Status: run.OK, Fetched: 2, Bytes: 100}, want: `"MessagesFetched":2`},
		{name: "backlog", run: run.Run{Status: run.Partial, Fetched: 1000, More: true, Backlog: 5}, want: `"Backlog":5`},
		{name: "failed", run: run.Run{Status: run.Failed, ConsecutiveFailures: 2}, want: `"ConsecutiveConnectionFailures":2`},
		{name: "recovered", run: run.Run{Status: run.OK, Recovered: true}, want: `"ConsecutiveConnectionFailures":0`},
		{name: "paused", run: run.Run{Status: run.Paused}, want: `"MessagesFetched":0`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			r := tc.run
			h := &Fetch{Jobs: testJobs(t), Runner: &fakeRunner{fn: func() (run.Run, error) { return r, nil }}, Metrics: metrics.New(&out)}
			if _, err := h.Handle(context.Background(), SchedulerPayload{JobID: "support"}); err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.want == "" && out.Len() > 0:
				t.Errorf("got metrics %s, want none", out.String())
			case tc.want != "" && !strings.Contains(out.String(), tc.want):
				t.Errorf("got metrics %q, want a line with %s", out.String(), tc.want)
			}
		})
	}
}
