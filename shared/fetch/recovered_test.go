package fetch

import (
	"context"
	"errors"
	"testing"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/queue/memqueue"
	"mailconnector/shared/testkit/localtest"
)

// TestRecoveredMarksTheFirstSuccessAfterFailures: the run that succeeds
// after failed ones says so (its metrics then report the failures back
// at 0); a success after a success, or a first run, does not.
func TestRecoveredMarksTheFirstSuccessAfterFailures(t *testing.T) {
	j := imapJob(t, "notifications: {connectionFailures: 2}")
	failing := false
	svc := New(Options{Store: localtest.Store(t, t.TempDir()), Blobs: localtest.Blobs(t, t.TempDir()), Queue: memqueue.New(nil),
		Opener: OpenerFunc(func(context.Context, *job.Job) (mailbox.Session, error) {
			if failing {
				return nil, &mailbox.ConnectError{Step: mailbox.StepTCP, Server: "h:993", Err: errors.New("connection refused")}
			}
			return emptyBox{}, nil
		})})
	// ok, fail, ok, ok, fail, fail (alert, count reset), ok, ok
	steps := []bool{false, true, false, false, true, true, false, false}
	want := []bool{false, false, true, false, false, false, true, false}
	for i, fail := range steps {
		failing = fail
		r, _ := svc.Run(context.Background(), j, RunOptions{Trigger: "schedule"})
		if r.Recovered != want[i] {
			t.Errorf("run %d (failing %v): got recovered %v, want %v", i, fail, r.Recovered, want[i])
		}
	}
}
