package workpool_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"mailconnector/shared/workpool"
)

func TestEach(t *testing.T) {
	tests := []struct {
		name       string
		n, workers int
	}{
		{"none", 0, 4},
		{"one", 1, 4},
		{"fewer calls than workers", 3, 16},
		{"more calls than workers", 100, 4},
		{"one worker", 10, 1},
		{"no worker given", 10, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			seen := make(map[int]int)
			var running, most atomic.Int64
			workpool.Each(tt.n, tt.workers, func(i int) {
				now := running.Add(1)
				for {
					m := most.Load()
					if now <= m || most.CompareAndSwap(m, now) {
						break
					}
				}
				mu.Lock()
				seen[i]++
				mu.Unlock()
				running.Add(-1)
			})
			if len(seen) != tt.n {
				t.Errorf("got %d indexes called, want %d", len(seen), tt.n)
			}
			for i := 0; i < tt.n; i++ {
				if seen[i] != 1 {
					t.Errorf("index %d: got %d calls, want 1", i, seen[i])
				}
			}
			if limit := int64(max(tt.workers, 1)); most.Load() > limit {
				t.Errorf("got %d calls at once, want at most %d", most.Load(), limit)
			}
		})
	}
}
