package pipeline_test

import (
	"context"
	"testing"

	"mailconnector/shared/job"
	"mailconnector/shared/pipeline"
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
	runs := runJob(t, r, e)
	seen, reqs := e.conversations()
	if len(reqs) != 1 || seen["who@stranger.example"] != 1 {
		t.Fatalf("after the move back: got %d requests, conversations %v, want one request for who@stranger.example", len(reqs), seen)
	}
	if runs[0].MovedBack != 1 || runs[0].Duplicates != 0 {
		t.Errorf("got moved back %d, duplicates %d, want 1 and 0", runs[0].MovedBack, runs[0].Duplicates)
	}
	if got := e.folderOf("<who@stranger.example>"); got != "INBOX" {
		t.Errorf("processed mail: got folder %q, want INBOX", got)
	}

	// The very same mail delivered once more: its Message-ID already made
	// the request.
	e.deliver(stranger)
	runJob(t, r, e)
	seen, reqs = e.conversations()
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
