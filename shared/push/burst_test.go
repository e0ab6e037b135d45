package push_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"mailconnector/shared/push"
	"mailconnector/shared/testkit/localtest"
)

func TestBurstRun(t *testing.T) {
	tests := []struct {
		name         string
		trigger      string
		pendingAtRun bool // a notification comes while the run goes on
		end          push.RunEnd
		runErr       error
		noAgain      bool
		againErr     error
		wantCont     bool
		wantAgain    int
		wantPending  bool // after the run
		wantErr      bool
	}{
		{name: "quiet run", trigger: "schedule", end: push.Done},
		{name: "notification during the run starts one more", trigger: "push", pendingAtRun: true, end: push.Done, wantCont: true, wantAgain: 1},
		{name: "backlog left: the follow-up covers the mark", trigger: "schedule", pendingAtRun: true, end: push.More, wantPending: true},
		{name: "held, started by a push: marked for the running one", trigger: "push", end: push.Held, wantPending: true},
		{name: "held, scheduled: no mark", trigger: "schedule", end: push.Held},
		{name: "failed run: the mark stays", trigger: "schedule", pendingAtRun: true, runErr: errors.New("refused"), wantPending: true, wantErr: true},
		{name: "no invoker: the mark stays", trigger: "schedule", pendingAtRun: true, end: push.Done, noAgain: true, wantPending: true},
		{name: "invoke fails", trigger: "schedule", pendingAtRun: true, end: push.Done, againErr: errors.New("throttled"), wantAgain: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			st := localtest.Store(t, t.TempDir())
			// A mark from before the run: the run's scan covers it.
			if _, err := st.MarkPushPending(ctx, "support", time.Now(), push.StaleAfter); err != nil {
				t.Fatal(err)
			}
			b := &push.Burst{Store: st}
			againCalls := 0
			var again func(context.Context) error
			if !tt.noAgain {
				again = func(context.Context) error { againCalls++; return tt.againErr }
			}
			cont, err := b.Run(ctx, "support", tt.trigger, func(ctx context.Context) (push.RunEnd, error) {
				if was, _ := st.TakePushPending(ctx, "support"); was {
					t.Error("the mark from before the run was not cleared as it started")
				}
				if tt.pendingAtRun {
					if _, err := st.MarkPushPending(ctx, "support", time.Now(), push.StaleAfter); err != nil {
						t.Fatal(err)
					}
				}
				return tt.end, tt.runErr
			}, again)
			if (err != nil) != tt.wantErr {
				t.Errorf("got error %v, want error %v", err, tt.wantErr)
			}
			if cont != tt.wantCont || againCalls != tt.wantAgain {
				t.Errorf("got continued %v after %d invocations, want %v after %d", cont, againCalls, tt.wantCont, tt.wantAgain)
			}
			if was, _ := st.TakePushPending(ctx, "support"); was != tt.wantPending {
				t.Errorf("got pending %v after the run, want %v", was, tt.wantPending)
			}
		})
	}
	var nilBurst *push.Burst
	ran := false
	if cont, err := nilBurst.Run(context.Background(), "support", "push", func(context.Context) (push.RunEnd, error) { ran = true; return push.Done, nil }, nil); cont || err != nil || !ran {
		t.Errorf("nil Burst: got ran %v, continued %v, %v; want only the run", ran, cont, err)
	}
}
