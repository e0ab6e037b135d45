package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/fetch"
)

// progressBatches plays a 3,000-message backlog taken in three runs of
// 1,000 (the follow-ups) in batches of 250, one second a batch.
func progressBatches(pr *progress, clock *time.Time) {
	taken := 0
	for run := 1; run <= 3; run++ {
		for b := 1; b <= 4; b++ {
			*clock = clock.Add(time.Second)
			taken += 250
			pr.update(fetch.Progress{JobID: "support", RunID: "run-" + string(rune('0'+run)), Fetched: b * 250, Bytes: int64(b) * 250 * 40 << 10, Left: 3000 - taken})
		}
	}
	pr.end()
}

// TestProgressGolden: on a terminal one line rewritten in place per batch
// (a carriage return, the line, erase to its end) and a newline at the
// end; elsewhere one plain line per batch.
func TestProgressGolden(t *testing.T) {
	for _, tt := range []struct {
		name string
		tty  bool
	}{{"terminal", true}, {"plain", false}} {
		t.Run(tt.name, func(t *testing.T) {
			clock := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
			var b bytes.Buffer
			pr := newProgress(&b, tt.tty, func() time.Time { return clock })
			progressBatches(pr, &clock)
			checkGolden(t, "progress-"+tt.name+".golden", b.String(), "progress")
			lines := strings.Count(b.String(), "\n")
			if tt.tty && lines != 1 {
				t.Errorf("terminal: got %d lines, want 1 rewritten in place", lines)
			}
			if !tt.tty && lines != 12 {
				t.Errorf("plain: got %d lines, want one per batch (12)", lines)
			}
		})
	}
}
