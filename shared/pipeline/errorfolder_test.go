package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/blob/sealed"
	"mailconnector/shared/fetch"
	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/notify"
	"mailconnector/shared/pipeline"
)

// errorFolderNotices are the notices of mails moved to the error folder.
func (b *noticeBox) errorFolderNotices() []notify.Notice {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []notify.Notice
	for _, n := range b.notices {
		if n.Kind == notify.ErrorFolder {
			out = append(out, n)
		}
	}
	return out
}

const strangerMail = "Message-ID: <who@stranger.example>\r\nFrom: b@stranger.example\r\nSubject: hi\r\n\r\nhello CANARY-error-mail-body\r\n"

// TestErrorsMoveBackMakesTheRequest: a mail rejected by the allow-list
// goes to the error folder and the administrators hear of it once, naming
// the job, the reason and the key; once the allow-list is widened, a move
// back (SupportCenter Plus's "Move mails to inbox") puts it in INBOX, the
// error-folder count drops to zero at once, and the next run makes the
// request.
func TestErrorsMoveBackMakesTheRequest(t *testing.T) {
	e := newEnv(t, func(j *job.Job) {
		j.Processing.AllowNewRequestsFrom = []string{"*@allowed.example"}
		j.Notifications.Admins = []string{"admin@desk.example"}
	})
	e.deliver([]byte(strangerMail))
	box := &noticeBox{}
	r := e.start(pipeline.Config{Notifier: box})
	runJob(t, r, e)
	runJob(t, r, e)
	if got := e.folderOf("<who@stranger.example>"); got != job.DefaultErrorFolder {
		t.Fatalf("rejected mail: got folder %q, want %q", got, job.DefaultErrorFolder)
	}
	ctx := context.Background()
	in, err := e.store.ErrorFolder(ctx, e.job.ID, 0)
	if err != nil || len(in) != 1 {
		t.Fatalf("got %d in the error folder (err %v), want 1", len(in), err)
	}
	notices := box.errorFolderNotices()
	if len(notices) != 1 {
		t.Fatalf("got %d error-folder notices after two runs, want 1 per mail", len(notices))
	}
	n := notices[0]
	for _, want := range []string{"Job " + e.job.ID, in[0].Key, in[0].Reason} {
		if want == "" || !strings.Contains(n.Body, want) {
			t.Errorf("notice body %q: want it to name %q", n.Body, want)
		}
	}
	if len(n.To) != 1 || n.To[0] != "admin@desk.example" {
		t.Errorf("notice to %v, want the administrators", n.To)
	}

	e.job.Processing.AllowNewRequestsFrom = append(e.job.Processing.AllowNewRequestsFrom, "*@stranger.example")
	res, err := fetch.New(fetch.Options{Store: e.store, Opener: e.opener("")}).MoveBack(ctx, e.job)
	if err != nil || res.Moved != 1 || len(res.Left) != 0 {
		t.Fatalf("move back: got %+v, %v; want 1 moved", res, err)
	}
	if got := e.folderOf("<who@stranger.example>"); got != "INBOX" {
		t.Errorf("after the move back: got folder %q, want INBOX", got)
	}
	if in, err := e.store.ErrorFolder(ctx, e.job.ID, 0); err != nil || len(in) != 0 {
		t.Errorf("after the move back: got %d in the error folder (err %v), want 0", len(in), err)
	}
	runs := runJob(t, r, e)
	seen, reqs := e.conversations()
	if len(reqs) != 1 || seen["who@stranger.example"] != 1 {
		t.Fatalf("after the move back: got %d requests, conversations %v, want one request", len(reqs), seen)
	}
	if runs[0].MovedBack != 1 || runs[0].Duplicates != 0 {
		t.Errorf("got moved back %d, duplicates %d, want 1 and 0", runs[0].MovedBack, runs[0].Duplicates)
	}
	// Nothing left to move back: a second move back moves nothing.
	if res, err := fetch.New(fetch.Options{Store: e.store, Opener: e.opener("")}).MoveBack(ctx, e.job); err != nil || res.Moved != 0 {
		t.Errorf("second move back: got %+v, %v; want nothing moved", res, err)
	}
}

// TestErrorFolderNoticeSwitchedOff: notifications.errorFolderNotice false
// sends no notice of mails moved to the error folder.
func TestErrorFolderNoticeSwitchedOff(t *testing.T) {
	off := false
	e := newEnv(t, func(j *job.Job) {
		j.Processing.AllowNewRequestsFrom = []string{"*@allowed.example"}
		j.Notifications.ErrorFolderNotice = &off
	})
	e.deliver([]byte(strangerMail))
	box := &noticeBox{}
	runJob(t, e.start(pipeline.Config{Notifier: box}), e)
	if got := e.folderOf("<who@stranger.example>"); got != job.DefaultErrorFolder {
		t.Fatalf("rejected mail: got folder %q, want %q", got, job.DefaultErrorFolder)
	}
	if n := box.errorFolderNotices(); len(n) != 0 {
		t.Errorf("got %d error-folder notices, want none when switched off", len(n))
	}
}

// TestMoveBackOnPOP3SaysThereAreNoFolders: a POP3 mailbox has no error
// folder; a move back says so plainly.
func TestMoveBackOnPOP3SaysThereAreNoFolders(t *testing.T) {
	e := newPOP3Env(t, true)
	_, err := fetch.New(fetch.Options{Store: e.store, Opener: e.pop3Opener(nil)}).MoveBack(context.Background(), e.job)
	if !errors.Is(err, fetch.ErrNoFolders) || !strings.Contains(err.Error(), "job "+e.job.ID) {
		t.Errorf("got %v, want ErrNoFolders naming the job", err)
	}
}

// TestSealedErrorMailIsRetried: with the error details sealed, a mail
// moved to the error folder leaves no readable copy in the state
// directory (its body's canary is in no file), its sealed copy opens to
// the delivered bytes, and a retry after the allow-list is widened takes
// the raw copy back from it and makes the request.
func TestSealedErrorMailIsRetried(t *testing.T) {
	e := newEnv(t, func(j *job.Job) { j.Processing.AllowNewRequestsFrom = []string{"*@allowed.example"} })
	key, err := sealed.NewAESKey(sealed.NewMasterKey())
	if err != nil {
		t.Fatal(err)
	}
	details := sealed.New(e.blobs, key)
	e.deliver([]byte(strangerMail))
	r := e.start(pipeline.Config{ErrorDetails: details})
	runJob(t, r, e)
	ctx := context.Background()
	in, err := e.store.ErrorFolder(ctx, e.job.ID, 0)
	if err != nil || len(in) != 1 {
		t.Fatalf("got %d in the error folder (err %v), want 1", len(in), err)
	}
	err = filepath.WalkDir(e.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte("CANARY-error-mail-body")) {
			t.Errorf("%s holds a readable copy of the error mail", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := details.Get(ctx, ledger.ErrorDetailKey(e.job.ID, in[0].Key, fetch.DetailMessage))
	if err != nil {
		t.Fatalf("open the sealed copy: %v", err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(got) != strangerMail {
		t.Errorf("sealed copy: got %q (err %v), want the delivered bytes", got, err)
	}

	e.job.Processing.AllowNewRequestsFrom = append(e.job.Processing.AllowNewRequestsFrom, "*@stranger.example")
	res, err := r.Fetch().RetryWhere(ctx, e.job, ledger.Rejected, time.Time{})
	if err != nil || len(res) != 1 || res[0].NewKey == "" {
		t.Fatalf("retry: got %+v, %v; want one queued", res, err)
	}
	if err := r.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if seen, reqs := e.conversations(); len(reqs) != 1 || seen["who@stranger.example"] != 1 {
		t.Errorf("after the retry: got %d requests, conversations %v, want one", len(reqs), seen)
	}
}
