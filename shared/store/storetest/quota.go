package storetest

import (
	"context"
	"testing"
	"time"
)

func testQuotas(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	hour := time.Hour
	// The window that holds base starts at the whole hour before it.
	start := base.Truncate(hour)
	tests := []struct {
		name  string
		key   string
		limit int
		now   time.Time
		want  bool
	}{
		{"first use", "notice#a@example.com", 1, start.Add(time.Minute), true},
		{"second use in the window", "notice#a@example.com", 1, start.Add(59 * time.Minute), false},
		{"other key", "notice#b@example.com", 1, start.Add(2 * time.Minute), true},
		{"next window", "notice#a@example.com", 1, start.Add(hour), true},
		{"next window again", "notice#a@example.com", 1, start.Add(hour + time.Second), false},
		{"limit 3, use 1", "job#support", 3, start, true},
		{"limit 3, use 2", "job#support", 3, start.Add(time.Second), true},
		{"limit 3, use 3", "job#support", 3, start.Add(2 * time.Second), true},
		{"limit 3, use 4", "job#support", 3, start.Add(3 * time.Second), false},
		{"limit 0", "job#none", 0, start, false},
	}
	for _, tt := range tests {
		ok, err := s.TakeQuota(ctx, tt.key, tt.limit, hour, tt.now)
		noErr(t, "TakeQuota "+tt.name, err)
		if ok != tt.want {
			t.Errorf("%s: TakeQuota(%q, %d) at %s: got %v, want %v", tt.name, tt.key, tt.limit, tt.now.Format(time.TimeOnly), ok, tt.want)
		}
	}
}

func testQuotasConcurrently(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	n := atOnce(8, func() bool {
		ok, err := s.TakeQuota(ctx, "job#burst", 3, time.Hour, base)
		if err != nil {
			t.Error(err)
		}
		return ok
	})
	if n != 3 {
		t.Errorf("8 uses at once with limit 3: got %d counted, want 3", n)
	}
}
