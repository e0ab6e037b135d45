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
