package scheduler_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"mailconnector/shared/scheduler"
)

func TestPayloadFixtures(t *testing.T) {
	tests := []struct {
		name string
		file string
		want scheduler.Payload
	}{
		{name: "schedule", file: "scheduler-payload.json", want: scheduler.Payload{JobID: "support"}},
		{name: "overrides", file: "scheduler-payload-overrides.json",
			want: scheduler.Payload{JobID: "support", Trigger: "manual", MaxMessages: 200, Force: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "..", "events", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := scheduler.Decode(b)
			if err != nil {
				t.Fatalf("decode %s: %v", tt.file, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decode %s (-want +got):\n%s", tt.file, diff)
			}
			again, err := scheduler.Decode(got.Encode())
			if err != nil || again != got {
				t.Errorf("round trip: got %+v, %v; want %+v", again, err, got)
			}
		})
	}
}

func TestPayloadEncode(t *testing.T) {
	tests := []struct {
		name string
		p    scheduler.Payload
		want string
	}{
		{name: "schedule input", p: scheduler.Payload{JobID: "support"}, want: `{"jobId":"support"}`},
		{name: "push", p: scheduler.Payload{JobID: "support", Trigger: "push"}, want: `{"jobId":"support","trigger":"push"}`},
		{name: "follow-up", p: scheduler.Payload{JobID: "support", Trigger: "continue", MaxMessages: 50, Force: true, Chain: 3},
			want: `{"jobId":"support","trigger":"continue","maxMessages":50,"force":true,"chain":3}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(tt.p.Encode()); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestPayloadMalformed(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		noJob bool
	}{
		{name: "truncated", body: `{"jobId": "sup`},
		{name: "numeric jobId", body: `{"jobId": 7}`},
		{name: "not an object", body: `["support"]`},
		{name: "string maxMessages", body: `{"jobId": "support", "maxMessages": "200"}`},
		{name: "no jobId", body: `{"trigger": "manual"}`, noJob: true},
		{name: "empty object", body: `{}`, noJob: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := scheduler.Decode([]byte(tt.body))
			if err == nil {
				t.Fatalf("got %+v, want an error", p)
			}
			if got := errors.Is(err, scheduler.ErrNoJobID); got != tt.noJob {
				t.Errorf("got ErrNoJobID %v (%v), want %v", got, err, tt.noJob)
			}
		})
	}
}
