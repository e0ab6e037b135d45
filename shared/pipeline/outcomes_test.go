package pipeline_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mailconnector/shared/fetch"
	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/notify/notifytest"
	"mailconnector/shared/pipeline"
	"mailconnector/shared/run"
)

// moveBack moves every mail of the job's error folder back to INBOX, as an
// administrator does in a mail client (IMAP MOVE).
func (e *env) moveBack() {
	e.t.Helper()
	if out, err := dovecot.Doveadm(context.Background(), "move", "-u", e.user, "INBOX", "mailbox", job.DefaultErrorFolder, "all"); err != nil {
		e.t.Fatalf("move back: %v: %s", err, out)
	}
}

// folderOf returns the folder of the message with that Message-ID.
func (e *env) folderOf(messageID string) string {
	e.t.Helper()
	for _, m := range e.serverState() {
		if m.MessageID == messageID {
			return m.Folder
		}
	}
	return ""
}

// runMovedBack runs the job once the stranger's mail was moved back from
// the error folder, and checks that the run took it as moved back, not as
// a duplicate, and made one request of it.
func runMovedBack(t *testing.T, r *runner, e *env) {
	t.Helper()
	runs := runJob(t, r, e)
	seen, reqs := e.conversations()
	if len(reqs) != 1 || seen["who@stranger.example"] != 1 {
		t.Fatalf("after the move back: got %d requests, conversations %v, want one request for who@stranger.example", len(reqs), seen)
	}
	if runs[0].MovedBack != 1 || runs[0].Duplicates != 0 {
		t.Errorf("got moved back %d, duplicates %d, want 1 and 0", runs[0].MovedBack, runs[0].Duplicates)
	}
}

// TestMovedBackFromTheErrorFolderIsProcessedAgain: a mail rejected by the
// allow-list and moved back after the allow-list was widened becomes a
// request; the same mail delivered again after that makes none.
func TestMovedBackFromTheErrorFolderIsProcessedAgain(t *testing.T) {
	e := newEnv(t, func(j *job.Job) { j.Processing.AllowNewRequestsFrom = []string{"*@allowed.example"} })
	stranger := []byte("Message-ID: <who@stranger.example>\r\nFrom: b@stranger.example\r\nSubject: hi\r\n\r\nhello\r\n")
	e.deliver(stranger)
	r := e.start(pipeline.Config{})
	runJob(t, r, e)
	if got := e.folderOf("<who@stranger.example>"); got != job.DefaultErrorFolder {
		t.Fatalf("rejected mail: got folder %q, want %q", got, job.DefaultErrorFolder)
	}
	if _, reqs := e.conversations(); len(reqs) != 0 {
		t.Fatalf("got %d requests before the allow-list was widened, want 0", len(reqs))
	}

	e.job.Processing.AllowNewRequestsFrom = append(e.job.Processing.AllowNewRequestsFrom, "*@stranger.example")
	e.moveBack()
	runMovedBack(t, r, e)
	if got := e.folderOf("<who@stranger.example>"); got != "INBOX" {
		t.Errorf("processed mail: got folder %q, want INBOX", got)
	}
	if in, err := e.store.ErrorFolder(context.Background(), e.job.ID, 0); err != nil || len(in) != 0 {
		t.Errorf("got %d entries in the error folder (err %v), want none after the move back", len(in), err)
	}

	// The very same mail delivered once more: its Message-ID already made
	// the request.
	e.deliver(stranger)
	runJob(t, r, e)
	seen, reqs := e.conversations()
	if len(reqs) != 1 || seen["who@stranger.example"] != 1 {
		t.Errorf("after a second delivery: got %d requests, conversations %v, want still one", len(reqs), seen)
	}
	entries, err := e.store.Undisposed(context.Background(), e.job.ID, 10)
	if err != nil || len(entries) != 0 {
		t.Errorf("got undisposed %v (err %v), want none", entries, err)
	}
}

// TestTheSameMailDeliveredTwiceMakesOneRequest: two deliveries of the same
// bytes make one request, and the second is recorded as a duplicate.
func TestTheSameMailDeliveredTwiceMakesOneRequest(t *testing.T) {
	e := newEnv(t, nil)
	raw := []byte("Message-ID: <twice@allowed.example>\r\nFrom: a@allowed.example\r\nSubject: twice\r\n\r\nhello\r\n")
	e.deliver(raw, raw)
	r := e.start(pipeline.Config{})
	runs := runJob(t, r, e)
	seen, reqs := e.conversations()
	if len(reqs) != 1 || seen["twice@allowed.example"] != 1 {
		t.Errorf("got %d requests, conversations %v, want one", len(reqs), seen)
	}
	if runs[0].Duplicates != 1 {
		t.Errorf("got %d duplicates, want 1", runs[0].Duplicates)
	}
	runJob(t, r, e)
	if _, reqs := e.conversations(); len(reqs) != 1 {
		t.Errorf("after a rerun: got %d requests, want 1", len(reqs))
	}
	if _, err := e.store.EntryByMessageID(context.Background(), e.job.ID, "twice@allowed.example"); err != nil {
		t.Errorf("ledger entry by Message-ID: %v", err)
	}
}

// TestRunsCountOutcomes: the runs of a job say how many messages made a
// request, were rejected or failed, and went to the error folder.
func TestRunsCountOutcomes(t *testing.T) {
	e := newEnv(t, func(j *job.Job) {
		j.Limits.MaxMessageSize = 64 << 10
		j.Processing.AllowNewRequestsFrom = []string{"*@allowed.example"}
	})
	errorMail(t, e)
	r := e.start(pipeline.Config{})
	runJob(t, r, e)
	runJob(t, r, e)
	runs, err := e.store.Runs(context.Background(), e.job.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got run.Run
	for _, r := range runs {
		got.Created += r.Created
		got.Updated += r.Updated
		got.Ignored += r.Ignored
		got.Rejected += r.Rejected
		got.Failed += r.Failed
		got.ErrorFolder += r.ErrorFolder
		got.ErrorMails += r.ErrorMails
		if r.Duration() < 0 {
			t.Errorf("run %s: negative duration %v", r.ID, r.Duration())
		}
	}
	want := run.Run{Created: 1, Rejected: 1, Failed: 1, ErrorFolder: 2}
	if got.Created != want.Created || got.Updated != 0 || got.Ignored != 0 || got.Rejected != want.Rejected || got.Failed != want.Failed || got.ErrorFolder != want.ErrorFolder {
		t.Errorf("got created %d updated %d ignored %d rejected %d failed %d error folder %d, want 1 0 0 1 1 2",
			got.Created, got.Updated, got.Ignored, got.Rejected, got.Failed, got.ErrorFolder)
	}
	if got.ErrorMails < 2 {
		t.Errorf("got %d error mails in the runs, want at least 2", got.ErrorMails)
	}
}

// TestLimitReachedSaysSo: a run that stops at its message limit is partial
// and says the rest continues next run.
func TestLimitReachedSaysSo(t *testing.T) {
	e := newEnv(t, func(j *job.Job) { j.Limits.MaxMessagesPerRun = 2 })
	raws, ids := generate(t, 5, 21)
	e.deliver(raws...)
	r := e.start(pipeline.Config{})
	runs := runJob(t, r, e)
	if runs[0].Status != run.Partial || !slices.Contains(runs[0].Notes, run.LimitNote) {
		t.Errorf("got status %s notes %q, want partial with %q", runs[0].Status, runs[0].Notes, run.LimitNote)
	}
	e.assertExactlyOnce(ids)
}

// TestInterruptedRunIsNoFailure: a run cancelled mid-fetch ends as
// interrupted, raises no alert and is not in the failure streak; the next
// run takes the rest with no duplicates.
func TestInterruptedRunIsNoFailure(t *testing.T) {
	e := newEnv(t, func(j *job.Job) { j.Notifications.ConnectionFailures = 1 })
	raws, ids := generate(t, 20, 22)
	e.deliver(raws...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once atomic.Bool
	box := &notifytest.Recorder{}
	r := e.start(pipeline.Config{Notifier: box, Crash: func(s fetch.Step, _ []string) error {
		if s == fetch.AfterCursor && once.CompareAndSwap(false, true) {
			cancel()
		}
		return nil
	}})
	runs, err := r.RunJob(ctx, e.job, "manual", true)
	if err == nil {
		t.Fatal("got no error from a cancelled run")
	}
	last := runs[len(runs)-1]
	if last.Status != run.Interrupted || last.ConsecutiveFailures != 0 || last.EndedAt.IsZero() {
		t.Errorf("got status %s, consecutive failures %d, ended %v; want interrupted, 0, an end time", last.Status, last.ConsecutiveFailures, last.EndedAt)
	}
	stored, err := e.store.Runs(context.Background(), e.job.ID, 1)
	if err != nil || len(stored) != 1 || stored[0].Status != run.Interrupted {
		t.Errorf("got stored runs %v (err %v), want the interrupted one", stored, err)
	}
	st, err := e.store.JobState(context.Background(), e.job.ID)
	if err != nil || st.ConsecutiveFailures != 0 || st.Alerted {
		t.Errorf("got job state %+v (err %v), want no failure counted", st, err)
	}
	runJob(t, r, e)
	e.assertExactlyOnce(ids)
	for _, n := range box.Notices() {
		if n.Kind == "alert" {
			t.Errorf("got alert %q, want none", n.Subject)
		}
	}
}

// TestStopAfterPausesUntilTheErrorFolderEmpties: once stopAfter mails of
// a job sit in its error folder, its runs fetch nothing and the
// administrators are told once; moving a mail back or clearing the errors
// lets fetching resume.
func TestStopAfterPausesUntilTheErrorFolderEmpties(t *testing.T) {
	e := newEnv(t, func(j *job.Job) {
		j.Processing.AllowNewRequestsFrom = []string{"*@allowed.example"}
		j.Incoming.OnError.StopAfter = 2
	})
	for _, id := range []string{"s1", "s2"} {
		e.deliver([]byte("Message-ID: <" + id + "@stranger.example>\r\nFrom: b@stranger.example\r\nSubject: " + id + "\r\n\r\nhello\r\n"))
	}
	box := &notifytest.Recorder{}
	r := e.start(pipeline.Config{Notifier: box})
	runJob(t, r, e)
	ok := []byte("Message-ID: <ok@allowed.example>\r\nFrom: a@allowed.example\r\nSubject: fine\r\n\r\nhello\r\n")
	e.deliver(ok)
	for range 2 {
		runs := runJob(t, r, e)
		if last := runs[len(runs)-1]; last.Status != run.Paused || last.Fetched != 0 {
			t.Errorf("got status %s, fetched %d, want paused and 0", last.Status, last.Fetched)
		}
	}
	if got := e.folderOf("<ok@allowed.example>"); got != "INBOX" {
		t.Errorf("got the allowed mail in %q while paused, want INBOX", got)
	}
	paused := 0
	for _, n := range box.Notices() {
		if n.Kind == "paused" {
			paused++
		}
	}
	if paused != 1 {
		t.Errorf("got %d pause notices, want 1", paused)
	}

	n, err := fetch.New(fetch.Options{Store: e.store}).ClearErrors(context.Background(), e.job.ID)
	if err != nil || n != 2 {
		t.Fatalf("clear errors: got %d, %v; want 2", n, err)
	}
	runs := runJob(t, r, e)
	if runs[0].Status != run.OK {
		t.Errorf("after clearing: got status %s, want ok", runs[0].Status)
	}
	if seen, _ := e.conversations(); seen["ok@allowed.example"] != 1 {
		t.Errorf("after clearing: got conversations %v, want ok@allowed.example", seen)
	}
}

// TestMovedBackWhilePausedIsTakenOnceCleared: a paused job does not look
// at its folder, so a mail moved back meanwhile waits there; once the
// errors are cleared it is processed again, as moved back.
func TestMovedBackWhilePausedIsTakenOnceCleared(t *testing.T) {
	e := newEnv(t, func(j *job.Job) {
		j.Processing.AllowNewRequestsFrom = []string{"*@allowed.example"}
		j.Incoming.OnError.StopAfter = 1
	})
	e.deliver([]byte("Message-ID: <who@stranger.example>\r\nFrom: b@stranger.example\r\nSubject: hi\r\n\r\nhello\r\n"))
	r := e.start(pipeline.Config{})
	runJob(t, r, e)
	e.job.Processing.AllowNewRequestsFrom = append(e.job.Processing.AllowNewRequestsFrom, "*@stranger.example")
	e.moveBack()
	if runs := runJob(t, r, e); runs[0].Status != run.Paused {
		t.Fatalf("got status %s, want paused", runs[0].Status)
	}
	if _, err := fetch.New(fetch.Options{Store: e.store}).ClearErrors(context.Background(), e.job.ID); err != nil {
		t.Fatal(err)
	}
	if runs := runJob(t, r, e); runs[0].Status != run.OK || runs[0].MovedBack != 1 {
		t.Errorf("got status %s, moved back %d; want ok and 1", runs[0].Status, runs[0].MovedBack)
	}
	if seen, _ := e.conversations(); seen["who@stranger.example"] != 1 {
		t.Errorf("got conversations %v, want who@stranger.example", seen)
	}
}

// TestRetryByStatusMakesExactlyOneRequest: rejected mail retried by status
// after the allow-list was widened becomes a request; retrying it again
// makes none and says so.
func TestRetryByStatusMakesExactlyOneRequest(t *testing.T) {
	e := newEnv(t, func(j *job.Job) { j.Processing.AllowNewRequestsFrom = []string{"*@allowed.example"} })
	e.deliver([]byte("Message-ID: <who@stranger.example>\r\nFrom: b@stranger.example\r\nSubject: hi\r\n\r\nhello\r\n"))
	r := e.start(pipeline.Config{})
	runJob(t, r, e)
	ctx := context.Background()
	e.job.Processing.AllowNewRequestsFrom = append(e.job.Processing.AllowNewRequestsFrom, "*@stranger.example")
	res, err := r.Fetch().RetryWhere(ctx, e.job, ledger.Rejected, time.Time{})
	if err != nil || len(res) != 1 || res[0].NewKey == "" {
		t.Fatalf("retry: got %+v, %v; want one queued", res, err)
	}
	original := res[0].Key
	if err := r.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	seen, reqs := e.conversations()
	if len(reqs) != 1 || seen["who@stranger.example"] != 1 {
		t.Fatalf("after the retry: got %d requests, conversations %v, want one", len(reqs), seen)
	}
	if in, err := e.store.ErrorFolder(ctx, e.job.ID, 0); err != nil || len(in) != 0 {
		t.Errorf("got %d entries in the error folder (err %v), want none after the retry", len(in), err)
	}

	// The request is made: retrying the retry is refused, and retrying
	// the original again is recorded as made already.
	res, err = r.Fetch().Retry(ctx, e.job, []string{res[0].NewKey})
	if err != nil || len(res) != 1 || res[0].NewKey != "" || !strings.Contains(res[0].Note, "already made request") {
		t.Errorf("retry of the processed retry: got %+v, %v; want refused as already made", res, err)
	}
	res, err = r.Fetch().Retry(ctx, e.job, []string{original})
	if err != nil || len(res) != 1 || res[0].NewKey == "" {
		t.Fatalf("second retry of the original: got %+v, %v", res, err)
	}
	if err := r.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	again, err := e.store.Entry(ctx, e.job.ID, res[0].NewKey)
	if err != nil || again.Outcome() != ledger.OutcomeIgnored || !strings.Contains(again.Reason, "already made request") {
		t.Errorf("second retry: got %s %q (err %v), want ignored as already made", again.Outcome(), again.Reason, err)
	}
	if _, reqs := e.conversations(); len(reqs) != 1 {
		t.Errorf("got %d requests, want 1", len(reqs))
	}
}
