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
	"mailconnector/shared/notify/notifytest"
	"mailconnector/shared/pipeline"
)

// errorFolderNotices are the notices of mails moved to the error folder.
func errorFolderNotices(r *notifytest.Recorder) []notify.Notice {
	var out []notify.Notice
	for _, n := range r.Notices() {
		if n.Kind == notify.ErrorFolder {
			out = append(out, n)
		}
	}
	return out
}

const strangerMail = "Message-ID: <who@stranger.example>\r\nFrom: b@stranger.example\r\nSubject: hi\r\n\r\nhello CANARY-error-mail-body\r\n"

// rejectStrangers lets only allowed.example open requests and names the
// administrators told of error mail.
func rejectStrangers(j *job.Job) {
	j.Processing.AllowNewRequestsFrom = []string{"*@allowed.example"}
	j.Notifications.Admins = []string{"admin@desk.example"}
}

// moveBackCase is a job of one protocol, its stranger's mail delivered,
// for testMoveBackMakesTheRequest.
type moveBackCase struct {
	e      *env
	opener fetch.Opener
	// folderOf is the folder the server holds a mail in, by Message-ID
	// with angle brackets, as the server names it.
	folderOf func(messageID string) string
	// inbox and errorFolder are the job's folder and its error folder,
	// as folderOf names them.
	inbox, errorFolder string
}

// TestErrorsMoveBackMakesTheRequest: a mail rejected by the allow-list
// goes to the error folder and the administrators hear of it once, naming
// the job, the reason and the key; once the allow-list is widened, a move
// back (SupportCenter Plus's "Move mails to inbox") puts it in INBOX, the
// error-folder count drops to zero at once, and the next run makes the
// request.
func TestErrorsMoveBackMakesTheRequest(t *testing.T) {
	e := newEnv(t, rejectStrangers)
	e.deliver([]byte(strangerMail))
	testMoveBackMakesTheRequest(t, moveBackCase{e: e, opener: e.opener(""), folderOf: e.folderOf, inbox: "INBOX", errorFolder: job.DefaultErrorFolder})
}

// TestGraphErrorsMoveBackMakesTheRequest is the move back on a Graph
// mailbox, whose messages keep their immutable ids (and so their ledger
// keys) wherever they are moved.
func TestGraphErrorsMoveBackMakesTheRequest(t *testing.T) {
	g := newGraphEnv(t, rejectStrangers)
	g.deliver([]byte(strangerMail))
	folderOf := func(id string) string {
		for _, m := range g.srv.Messages(g.mailbox) {
			if m.InternetMessageID == id {
				return m.Folder
			}
		}
		return ""
	}
	testMoveBackMakesTheRequest(t, moveBackCase{e: g.env, opener: g.appOpener(), folderOf: folderOf, inbox: "Inbox/Support", errorFolder: job.DefaultErrorFolder})
}

// TestEWSErrorsMoveBackMakesTheRequest is the move back on an EWS
// mailbox, whose items get new ids when moved.
func TestEWSErrorsMoveBackMakesTheRequest(t *testing.T) {
	w := newEWSEnv(t, rejectStrangers)
	w.deliver([]byte(strangerMail))
	folderOf := func(id string) string {
		for _, m := range w.srv.Messages(w.mailbox) {
			if "<"+m.MessageID+">" == id {
				return m.Folder
			}
		}
		return ""
	}
	testMoveBackMakesTheRequest(t, moveBackCase{e: w.env, opener: w.opener, folderOf: folderOf, inbox: "Inbox", errorFolder: job.DefaultErrorFolder})
}

// TestGraphMovedBackTwiceUnderOneKey: a Graph mail keeps its ledger key
// through every move, so each move back is a new attempt linked to the
// last one: moved back before the allow-list is widened it is rejected
// and moved to the error folder again; moved back once more after, it
// makes the one request; seen again after that it is not taken.
func TestGraphMovedBackTwiceUnderOneKey(t *testing.T) {
	g := newGraphEnv(t, rejectStrangers)
	g.deliver([]byte(strangerMail))
	r := g.start(pipeline.Config{Opener: g.appOpener()})
	ctx := context.Background()
	where := func() string {
		for _, m := range g.srv.Messages(g.mailbox) {
			if m.InternetMessageID == "<who@stranger.example>" {
				return m.Folder
			}
		}
		return ""
	}
	moveBack := func() {
		t.Helper()
		res, err := fetch.New(fetch.Options{Store: g.store, Opener: g.appOpener()}).MoveBack(ctx, g.job)
		if err != nil || res.Moved != 1 {
			t.Fatalf("move back: got %+v, %v; want 1 moved", res, err)
		}
	}
	runJob(t, r, g.env)
	moveBack()
	runs := runJob(t, r, g.env)
	if runs[0].MovedBack != 1 || where() != job.DefaultErrorFolder {
		t.Fatalf("moved back under the narrow allow-list: got moved back %d, folder %q; want 1 and the error folder again", runs[0].MovedBack, where())
	}
	in, err := g.store.ErrorFolder(ctx, g.job.ID, 0)
	if err != nil || len(in) != 1 || in[0].RetryOf == "" {
		t.Fatalf("got %+v in the error folder (err %v), want the second attempt", in, err)
	}
	g.job.Processing.AllowNewRequestsFrom = append(g.job.Processing.AllowNewRequestsFrom, "*@stranger.example")
	moveBack()
	runs = runJob(t, r, g.env)
	if runs[0].MovedBack != 1 || where() != "Inbox/Support" {
		t.Errorf("moved back under the wide allow-list: got moved back %d, folder %q; want 1 and Inbox/Support", runs[0].MovedBack, where())
	}
	seen, reqs := g.conversations()
	if len(reqs) != 1 || seen["who@stranger.example"] != 1 {
		t.Fatalf("got %d requests, conversations %v, want one request", len(reqs), seen)
	}
	// A full resync lists the mail again: it is not taken a fourth time.
	g.srv.ExpireDeltaTokens()
	if runs := runJob(t, r, g.env); runs[0].Fetched != 0 || runs[0].MovedBack != 0 {
		t.Errorf("after a resync: got fetched %d, moved back %d, want 0 and 0", runs[0].Fetched, runs[0].MovedBack)
	}
	if _, reqs := g.conversations(); len(reqs) != 1 {
		t.Errorf("after a resync: got %d requests, want 1", len(reqs))
	}
}

func testMoveBackMakesTheRequest(t *testing.T, c moveBackCase) {
	t.Helper()
	e := c.e
	box := &notifytest.Recorder{}
	r := e.start(pipeline.Config{Notifier: box, Opener: c.opener})
	runJob(t, r, e)
	runJob(t, r, e)
	if got := c.folderOf("<who@stranger.example>"); got != c.errorFolder {
		t.Fatalf("rejected mail: got folder %q, want %q", got, c.errorFolder)
	}
	ctx := context.Background()
	in, err := e.store.ErrorFolder(ctx, e.job.ID, 0)
	if err != nil || len(in) != 1 {
		t.Fatalf("got %d in the error folder (err %v), want 1", len(in), err)
	}
	notices := errorFolderNotices(box)
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
	res, err := fetch.New(fetch.Options{Store: e.store, Opener: c.opener}).MoveBack(ctx, e.job)
	if err != nil || res.Moved != 1 || len(res.Left) != 0 {
		t.Fatalf("move back: got %+v, %v; want 1 moved", res, err)
	}
	if got := c.folderOf("<who@stranger.example>"); got != c.inbox {
		t.Errorf("after the move back: got folder %q, want %q", got, c.inbox)
	}
	if in, err := e.store.ErrorFolder(ctx, e.job.ID, 0); err != nil || len(in) != 0 {
		t.Errorf("after the move back: got %d in the error folder (err %v), want 0", len(in), err)
	}
	runMovedBack(t, r, e)
	// Taken once: the next run takes nothing, and nothing is left to
	// move back.
	if runs := runJob(t, r, e); runs[0].Fetched != 0 || runs[0].MovedBack != 0 {
		t.Errorf("the run after: got fetched %d, moved back %d, want 0 and 0", runs[0].Fetched, runs[0].MovedBack)
	}
	if _, reqs := e.conversations(); len(reqs) != 1 {
		t.Errorf("the run after: got %d requests, want 1", len(reqs))
	}
	if res, err := fetch.New(fetch.Options{Store: e.store, Opener: c.opener}).MoveBack(ctx, e.job); err != nil || res.Moved != 0 {
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
	box := &notifytest.Recorder{}
	runJob(t, e.start(pipeline.Config{Notifier: box}), e)
	if got := e.folderOf("<who@stranger.example>"); got != job.DefaultErrorFolder {
		t.Fatalf("rejected mail: got folder %q, want %q", got, job.DefaultErrorFolder)
	}
	if n := errorFolderNotices(box); len(n) != 0 {
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
