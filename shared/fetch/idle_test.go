package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"testing"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/queue/memqueue"
	"mailconnector/shared/run"
	"mailconnector/shared/testkit/fakeclock"
	"mailconnector/shared/testkit/localtest"
)

// arrivalBox is an IMAP-like mailbox whose messages arrive when the test
// says: Scan lists those after the cursor (the last UID).
type arrivalBox struct{ uids *int }

func (b arrivalBox) Info() mailbox.Info { return mailbox.Info{Protocol: "imap"} }
func (b arrivalBox) Scan(_ context.Context, cursor string) (*mailbox.Scan, error) {
	from, _ := strconv.Atoi(cursor)
	s := &mailbox.Scan{Cursor: strconv.Itoa(*b.uids)}
	for uid := from + 1; uid <= *b.uids; uid++ {
		s.Items = append(s.Items, mailbox.Item{Source: ledger.Source{Protocol: "imap", Folder: "INBOX", Validity: 1, UID: uint32(uid)},
			Size: 100, Cursor: strconv.Itoa(uid)})
	}
	return s, nil
}
func (b arrivalBox) Fetch(_ context.Context, items []mailbox.Item, fn func(mailbox.Item, io.Reader) error) error {
	for _, it := range items {
		raw := fmt.Sprintf("Message-ID: <m%d@example.com>\r\nFrom: a@example.com\r\nSubject: s\r\n\r\nbody %d\r\n", it.Source.UID, it.Source.UID)
		if err := fn(it, bytes.NewReader([]byte(raw))); err != nil {
			return err
		}
	}
	return nil
}
func (b arrivalBox) Dispose(_ context.Context, ds []mailbox.Disposition) []error {
	return make([]error, len(ds))
}
func (b arrivalBox) Close() error { return nil }

// TestIdlePollingOfAQuietMailbox: with schedule.idleEvery, once the runs
// have found nothing for idleAfter, the scheduled runs in between polls
// end at once without opening the mailbox or recording a run; push,
// follow-up and manual runs still poll; the first run that finds mail
// ends the quiet spell, and so does a failed one.
func TestIdlePollingOfAQuietMailbox(t *testing.T) {
	j := imapJob(t, "schedule: {every: 1m, idleEvery: 15m, idleAfter: 30m}")
	clock := fakeclock.New(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	st := localtest.Store(t, t.TempDir())
	uids, opens := 0, 0
	failing := false
	svc := New(Options{Store: st, Blobs: localtest.Blobs(t, t.TempDir()), Queue: memqueue.New(nil), Now: clock.Now,
		Opener: OpenerFunc(func(context.Context, *job.Job) (mailbox.Session, error) {
			opens++
			if failing {
				return nil, &mailbox.ConnectError{Step: mailbox.StepTCP, Server: "h:993", Err: errors.New("connection refused")}
			}
			return arrivalBox{&uids}, nil
		})})
	ctx := context.Background()
	// tick runs the job as its 1-minute schedule does, minutes times, and
	// returns the minutes (from 0) at which a run opened the mailbox.
	minute := 0
	tick := func(minutes int) []int {
		t.Helper()
		var polled []int
		for i := 0; i < minutes; i++ {
			before := opens
			r, err := svc.Run(ctx, j, RunOptions{Trigger: "schedule"})
			switch {
			case opens > before:
				polled = append(polled, minute)
			case err != nil || r.Status != run.Skipped || len(r.Notes) == 0:
				t.Fatalf("minute %d: got %s, %v without a session; want skipped with a note", minute, r.Status, err)
			}
			clock.Advance(time.Minute)
			minute++
		}
		return polled
	}
	every := func(from, n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = from + i
		}
		return out
	}
	check := func(what string, got, want []int) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s: got polls at minutes %v, want %v", what, got, want)
		}
	}
	runsOf := func() int {
		t.Helper()
		rs, err := st.Runs(ctx, j.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		return len(rs)
	}

	// Quiet for 30 minutes: every run polls (the one at minute 30 is the
	// spell's first poll); then one every 15 minutes, and only those are
	// recorded.
	check("the first 31 minutes", tick(31), every(0, 31))
	recorded := runsOf()
	check("quiet", tick(45), []int{45, 60, 75})
	if got := runsOf() - recorded; got != 3 {
		t.Errorf("got %d runs recorded in 45 quiet minutes, want 3 (one per poll)", got)
	}

	// A failed run ends the spell: every run polls again.
	failing = true
	check("failing", tick(15), []int{90})
	failing = false
	check("after the failed run", tick(31), every(91, 31))

	// Push, follow-up and manual runs poll whatever the spell.
	for _, trigger := range []string{"push", "continue", "manual"} {
		before := opens
		if r, err := svc.Run(ctx, j, RunOptions{Trigger: trigger}); err != nil || opens != before+1 {
			t.Errorf("trigger %s: got %s, %v, %d sessions; want a poll", trigger, r.Status, err, opens-before)
		}
	}

	// Mail arrives: the next poll (15 minutes after the manual one)
	// finds it, and every run polls again.
	uids = 2
	check("mail arrived", tick(16), []int{137})
	if rs, err := st.Runs(ctx, j.ID, 1); err != nil || len(rs) != 1 || rs[0].Fetched != 2 {
		t.Fatalf("got last run %+v, %v; want the one that fetched 2", rs, err)
	}
	check("after mail", tick(5), every(138, 5))
}
