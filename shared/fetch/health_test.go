package fetch

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/notify/notifytest"
	"mailconnector/shared/queue/memqueue"
	"mailconnector/shared/testkit/localtest"
)

// emptyBox is a mailbox with nothing in it.
type emptyBox struct{}

func (emptyBox) Info() mailbox.Info { return mailbox.Info{Protocol: "imap"} }
func (emptyBox) Scan(context.Context, string) (*mailbox.Scan, error) {
	return &mailbox.Scan{Cursor: "1:0"}, nil
}
func (emptyBox) Fetch(context.Context, []mailbox.Item, func(mailbox.Item, io.Reader) error) error {
	return nil
}
func (emptyBox) Dispose(_ context.Context, ds []mailbox.Disposition) []error {
	return make([]error, len(ds))
}
func (emptyBox) Close() error { return nil }

func TestConnectionFailuresAlertOnceAndRecover(t *testing.T) {
	j := imapJob(t, "notifications: {admins: [admin@example.com], connectionFailures: 3}")
	st := localtest.Store(t, t.TempDir())
	blobs := localtest.Blobs(t, t.TempDir())
	failing := true
	n := &notifytest.Recorder{}
	svc := New(Options{Store: st, Blobs: blobs, Queue: memqueue.New(nil), Notifier: n,
		Opener: OpenerFunc(func(context.Context, *job.Job) (mailbox.Session, error) {
			if failing {
				return nil, &mailbox.ConnectError{Step: mailbox.StepTCP, Server: "h:993", Err: errors.New("connection refused")}
			}
			return emptyBox{}, nil
		})})
	ctx := context.Background()
	var counts []int
	for i := 0; i < 4; i++ {
		r, err := svc.Run(ctx, j, RunOptions{Trigger: "schedule"})
		if err == nil {
			t.Fatal("got no error from a failing connection")
		}
		counts = append(counts, r.ConsecutiveFailures)
	}
	if got, want := counts, []int{1, 2, 3, 1}; !slices.Equal(got, want) {
		t.Errorf("got consecutive failures %v, want %v", got, want)
	}
	if got := n.Notices(); len(got) != 1 || got[0].Kind != "alert" || got[0].To[0] != "admin@example.com" {
		t.Fatalf("got notices %+v, want one alert to the admin", got)
	}
	failing = false
	r, err := svc.Run(ctx, j, RunOptions{Trigger: "schedule"})
	if err != nil || r.ConsecutiveFailures != 0 {
		t.Fatalf("got %v, %d; want a clean run", err, r.ConsecutiveFailures)
	}
	if got := n.Notices(); len(got) != 2 || got[1].Kind != "recovery" {
		t.Errorf("got notices %+v, want a recovery notice after the alert", got)
	}
	if _, err := svc.Run(ctx, j, RunOptions{Trigger: "schedule"}); err != nil {
		t.Fatal(err)
	}
	if got := n.Notices(); len(got) != 2 {
		t.Errorf("got %d notices, want no more after recovery", len(got))
	}
}
