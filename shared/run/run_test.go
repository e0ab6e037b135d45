package run_test

import (
	"testing"
	"time"

	"mailconnector/shared/run"
)

func TestDuration(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		r    run.Run
		want time.Duration
	}{
		{"finished", run.Run{StartedAt: start, EndedAt: start.Add(3 * time.Second)}, 3 * time.Second},
		{"still running", run.Run{StartedAt: start}, 0},
		{"interrupted without an end", run.Run{StartedAt: start, Status: run.Interrupted}, 0},
		{"clock went back", run.Run{StartedAt: start, EndedAt: start.Add(-time.Second)}, 0},
		{"no start", run.Run{EndedAt: start}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.Duration(); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFoundNothing(t *testing.T) {
	tests := []struct {
		name string
		r    run.Run
		want bool
	}{
		{"nothing fetched", run.Run{Status: run.OK}, true},
		{"mail fetched", run.Run{Status: run.OK, Fetched: 1}, false},
		{"entries requeued", run.Run{Status: run.OK, Requeued: 2}, false},
		{"mail left for a follow-up", run.Run{Status: run.OK, More: true, Backlog: 5}, false},
		{"mail waiting", run.Run{Status: run.OK, Backlog: 5}, false},
		{"failed", run.Run{Status: run.Failed}, false},
		{"skipped", run.Run{Status: run.Skipped}, false},
	}
	for _, tt := range tests {
		if got := tt.r.FoundNothing(); got != tt.want {
			t.Errorf("%s: FoundNothing() = %v, want %v", tt.name, got, tt.want)
		}
	}
}
