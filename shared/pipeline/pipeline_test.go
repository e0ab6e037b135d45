package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mailconnector/shared/blob"
	"mailconnector/shared/fetch"
	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/imapbox"
	"mailconnector/shared/mailbox/mailboxtest"
	"mailconnector/shared/mailgen"
	"mailconnector/shared/pipeline"
	"mailconnector/shared/request"
	"mailconnector/shared/run"
	"mailconnector/shared/secrets"
	"mailconnector/shared/store/boltstore"
	"mailconnector/shared/testkit/dovecottest"
	"mailconnector/shared/testkit/localtest"
)

var dovecot *dovecottest.Server

func TestMain(m *testing.M) {
	var err error
	dovecot, err = dovecottest.StartProcess(nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	dovecot.Stop()
	os.Exit(code)
}

const password = "secret-password"

var userSeq atomic.Int64

// env is one job against its own Dovecot user, with its own state.
type env struct {
	t     *testing.T
	user  string
	job   *job.Job
	jobs  *job.File
	store *boltstore.Store
	blobs blob.Store
	dir   string
}

func newEnv(t *testing.T, edit func(j *job.Job)) *env {
	t.Helper()
	user := fmt.Sprintf("user%d-%d", os.Getpid(), userSeq.Add(1))
	if err := dovecot.AddUser(user, password); err != nil {
		t.Fatal(err)
	}
	waitForUser(t, user)
	j := job.Job{
		ID: "support",
		Server: job.Server{
			Protocol: job.IMAP, Host: dovecot.Host, Port: dovecot.Port(dovecottest.IMAP),
			Security: job.SecurityNone, Auth: job.Auth{Secret: user},
		},
		Limits: job.Limits{BatchSize: 7},
	}
	if edit != nil {
		edit(&j)
	}
	f := &job.File{Jobs: []job.Job{j}}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st := localtest.Store(t, dir)
	blobs := localtest.Blobs(t, dir)
	return &env{t: t, user: user, job: &f.Jobs[0], jobs: f, store: st, blobs: blobs, dir: dir}
}

// waitForUser waits until Dovecot's auth process has read the new user
// (it stats its passwd-file at most once a second).
func waitForUser(t *testing.T, user string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := dovecot.Doveadm(context.Background(), "auth", "test", user, password)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("dovecot does not know user %s yet: %v", user, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// opener opens IMAP sessions for the env's user, optionally through addr.
func (e *env) opener(addr string) fetch.Opener {
	return fetch.OpenerFunc(func(ctx context.Context, j *job.Job) (mailbox.Session, error) {
		srv := j.Server
		if addr != "" {
			host, port, _ := strings.Cut(addr, ":")
			srv.Host = host
			fmt.Sscan(port, &srv.Port)
		}
		return imapbox.Open(ctx, imapbox.Config{Server: srv, Credentials: secrets.Credentials{Username: e.user, Password: password}})
	})
}

type runner struct {
	*pipeline.Local
	stop func()
}

// start builds a pipeline (its in-process queues are new: a restarted
// process) and starts its workers.
func (e *env) start(cfg pipeline.Config) *runner {
	e.t.Helper()
	cfg.Jobs, cfg.Store, cfg.Blobs = e.jobs, e.store, e.blobs
	if cfg.Opener == nil {
		cfg.Opener = e.opener("")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Visibility == 0 {
		cfg.Visibility = 300 * time.Millisecond
	}
	l := pipeline.Build(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	wait := l.Start(ctx)
	r := &runner{Local: l, stop: func() { cancel(); wait() }}
	e.t.Cleanup(r.stop)
	return r
}

func (e *env) deliver(raws ...[]byte) {
	e.t.Helper()
	if err := dovecot.DeliverMany(e.user, "INBOX", raws); err != nil {
		e.t.Fatal(err)
	}
}

func generate(t *testing.T, n int, seed int64) ([][]byte, []string) {
	t.Helper()
	var raws [][]byte
	var ids []string
	err := mailgen.Generate(n, &mailgen.Options{Seed: seed, MinAttachment: 1 << 10, MaxAttachment: 20 << 10}, func(_ int, m mailgen.Message) error {
		raws = append(raws, m.Raw)
		ids = append(ids, m.MessageID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return raws, ids
}

func runJob(t *testing.T, r *runner, e *env) []run.Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	runs, err := r.RunJob(ctx, e.job, "manual", true)
	if err != nil {
		t.Fatalf("run job: %v", err)
	}
	return runs
}

// conversations returns, for every Message-ID, how many conversations carry it.
func (e *env) conversations() (map[string]int, []request.Request) {
	e.t.Helper()
	ctx := context.Background()
	reqs, err := e.store.ListRequests(ctx, "", 0)
	if err != nil {
		e.t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range reqs {
		convs, err := e.store.Conversations(ctx, r.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, c := range convs {
			seen[c.MessageID]++
		}
	}
	return seen, reqs
}

// assertExactlyOnce checks that every message became exactly one
// conversation (a new request's first one, or a reply) and nothing else did.
func (e *env) assertExactlyOnce(ids []string) {
	e.t.Helper()
	seen, _ := e.conversations()
	for _, id := range ids {
		if got := seen[id]; got != 1 {
			e.t.Errorf("message %s: got %d conversations, want 1", id, got)
		}
	}
	if got, want := len(seen), len(ids); got != want {
		e.t.Errorf("got conversations for %d messages, want %d", got, want)
	}
}

// serverState returns the user's messages by folder.
func (e *env) serverState() []dovecottest.Message {
	e.t.Helper()
	msgs, err := dovecot.Messages(e.user)
	if err != nil {
		e.t.Fatal(err)
	}
	return msgs
}

func (e *env) assertAllSeenInInbox(n int) {
	e.t.Helper()
	msgs := e.serverState()
	if len(msgs) != n {
		e.t.Fatalf("got %d messages on the server, want %d", len(msgs), n)
	}
	for _, m := range msgs {
		if !m.Seen || m.Folder != "INBOX" {
			e.t.Errorf("message %s: got folder %s seen %v, want INBOX seen", m.MessageID, m.Folder, m.Seen)
		}
	}
}

func TestDemoMailbecomesRequests(t *testing.T) {
	e := newEnv(t, nil)
	demo := mailgen.Demo("demo.example")
	var raws [][]byte
	for _, m := range demo {
		raws = append(raws, m.Raw)
	}
	e.deliver(raws...)
	r := e.start(pipeline.Config{})
	runs := runJob(t, r, e)
	if runs[0].Fetched != len(demo) || runs[0].Status != run.OK {
		t.Fatalf("got first run %+v, want %d fetched and ok", runs[0], len(demo))
	}
	seen, reqs := e.conversations()
	var auto, replies int
	for _, m := range demo {
		raw := string(m.Raw)
		switch {
		case strings.Contains(raw, "Auto-Submitted: auto-replied"):
			auto++
			if seen[m.MessageID] != 0 {
				t.Errorf("auto-reply %q: got %d conversations, want 0 (loop protection)", m.Subject, seen[m.MessageID])
			}
		default:
			if seen[m.MessageID] != 1 {
				t.Errorf("%q: got %d conversations, want 1", m.Subject, seen[m.MessageID])
			}
		}
		if !strings.Contains(raw, "Auto-Submitted: auto-replied") && (strings.Contains(raw, "\r\nIn-Reply-To:") || strings.Contains(m.Subject, "[REQ-")) {
			replies++
		}
	}
	if auto == 0 || replies < 2 {
		t.Fatalf("demo mail has %d auto-replies and %d replies; want at least 1 and 2", auto, replies)
	}
	if got, want := len(reqs), len(demo)-auto-replies; got != want {
		t.Errorf("got %d requests, want %d (every message but the auto-reply and the replies)", got, want)
	}
	for _, r := range reqs {
		if r.Number == 1 {
			convs, _ := e.store.Conversations(context.Background(), r.ID)
			if len(convs) < 2 {
				t.Errorf("request 1 %q: got %d conversations, want the [REQ-000001] reply on it too", r.Title, len(convs))
			}
		}
	}
	e.assertAllSeenInInbox(len(demo))

	// A second run finds nothing new and changes nothing.
	r2 := e.start(pipeline.Config{})
	runs = runJob(t, r2, e)
	if runs[0].Fetched != 0 {
		t.Errorf("second run: got %d fetched, want 0", runs[0].Fetched)
	}
	if _, again := e.conversations(); len(again) != len(reqs) {
		t.Errorf("second run: got %d requests, want %d", len(again), len(reqs))
	}
}

// crashCall is the call of step at which the crash tests crash: the
// fetching steps at their second batch; the dispose steps at their first,
// as a run may dispose of every message at once (the stages took them
// all while it fetched; POP3: every deletion is in one session).
func crashCall(step fetch.Step) int {
	if step == fetch.BeforeDispose || step == fetch.AfterDispose {
		return 1
	}
	return 2
}

// crashOnce returns a crash hook that fails the nth time step is reached
// with messages at hand, and then never again.
func crashOnce(step fetch.Step, nth int) (func(fetch.Step, []string) error, *atomic.Bool) {
	var hits atomic.Int64
	var fired atomic.Bool
	return func(s fetch.Step, keys []string) error {
		if s != step || (len(keys) == 0 && s != fetch.AfterCursor) || fired.Load() {
			return nil
		}
		if hits.Add(1) == int64(nth) {
			fired.Store(true)
			return fetch.ErrCrash
		}
		return nil
	}, &fired
}

func TestCrashAtEveryStepLosesNothingAndDuplicatesNothing(t *testing.T) {
	steps := []fetch.Step{fetch.AfterBlob, fetch.AfterLedger, fetch.AfterEnqueue,
		fetch.AfterCursor, fetch.BeforeDispose, fetch.AfterDispose}
	for _, step := range steps {
		for _, restart := range []bool{true, false} {
			name := fmt.Sprintf("%s/queues-survive", step)
			if restart {
				name = fmt.Sprintf("%s/process-restarts", step)
			}
			t.Run(name, func(t *testing.T) {
				e := newEnv(t, nil)
				raws, ids := generate(t, 25, int64(len(step)))
				e.deliver(raws...)
				crash, fired := crashOnce(step, crashCall(step))
				r := e.start(pipeline.Config{Crash: crash})
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				_, err := r.RunJob(ctx, e.job, "manual", true)
				if !fired.Load() {
					t.Fatalf("the crash at %s never fired (err %v)", step, err)
				}
				if !errors.Is(err, fetch.ErrCrash) {
					t.Fatalf("got %v, want the injected crash", err)
				}
				// A crashed run left its lease: let it expire as it would.
				if err := e.store.ReleaseLease(ctx, e.job.ID, leaseOwner(t, e)); err != nil {
					t.Fatal(err)
				}
				if restart {
					r.stop()
					r = e.start(pipeline.Config{})
				}
				runs, err := r.RunJob(ctx, e.job, "manual", restart)
				if err != nil {
					t.Fatalf("rerun: %v", err)
				}
				// Everything processed during the rerun's drain gets its
				// disposition; a last run makes sure nothing is pending.
				runs2 := runJob(t, r, e)
				if n := runs2[0].Fetched; n != 0 {
					t.Errorf("final run fetched %d, want 0 (runs %+v)", n, runs)
				}
				e.assertExactlyOnce(ids)
				e.assertAllSeenInInbox(len(ids))
			})
		}
	}
}

// leaseOwner finds the id of the crashed run that holds the job's lease.
func leaseOwner(t *testing.T, e *env) string {
	t.Helper()
	runs, err := e.store.Runs(context.Background(), e.job.ID, 1)
	if err != nil || len(runs) == 0 {
		t.Fatalf("got runs %v, %v; want the crashed run", runs, err)
	}
	return runs[0].ID
}

func TestTwoRunsAtOnce(t *testing.T) {
	for _, name := range []string{"lease", "lease-expired"} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, nil)
			raws, ids := generate(t, 60, 7)
			e.deliver(raws...)
			cfg := pipeline.Config{}
			if name == "lease-expired" {
				// Both runs get the job: only the ledger stands between
				// them and duplicates.
				cfg.LeaseTTL = time.Nanosecond
			}
			a, b := e.start(cfg), e.start(cfg)
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, r := range []*runner{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
					defer cancel()
					_, errs[i] = r.RunJob(ctx, e.job, "schedule", false)
				}()
			}
			wg.Wait()
			for _, err := range errs {
				var held *fetch.LeaseHeldError
				if err != nil && !errors.As(err, &held) {
					t.Fatalf("run: %v", err)
				}
			}
			runJob(t, a, e)
			e.assertExactlyOnce(ids)
			e.assertAllSeenInInbox(len(ids))
		})
	}
}

func TestConnectionDroppedMidFetch(t *testing.T) {
	e := newEnv(t, nil)
	raws, ids := generate(t, 30, 11)
	e.deliver(raws...)
	proxy := mailboxtest.NewFaultProxy(t, dovecot.Addr(dovecottest.IMAP))
	proxy.CutAfter(40 << 10) // in the middle of the first FETCH
	r := e.start(pipeline.Config{Opener: e.opener(proxy.Addr().String())})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	runs, err := r.RunJob(ctx, e.job, "manual", true)
	if err == nil {
		t.Fatalf("got no error from a run whose connection was cut (runs %+v)", runs)
	}
	if got := runs[len(runs)-1].Status; got != run.Failed {
		t.Errorf("got status %s, want failed", got)
	}
	proxy.CutAfter(0)
	runJob(t, r, e)
	runJob(t, r, e)
	e.assertExactlyOnce(ids)
	e.assertAllSeenInInbox(len(ids))
}

func TestUIDValidityChangeMakesNoDuplicates(t *testing.T) {
	e := newEnv(t, nil)
	raws, ids := generate(t, 12, 3)
	e.deliver(raws...)
	r := e.start(pipeline.Config{})
	runJob(t, r, e)
	old, err := dovecot.UIDValidity(e.user, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if err := dovecot.SetUIDValidity(e.user, "INBOX", old+1000); err != nil {
		t.Fatal(err)
	}
	more, moreIDs := generate(t, 3, 99)
	e.deliver(more...)
	runs := runJob(t, r, e)
	if !strings.Contains(strings.Join(runs[0].Notes, " "), "renumbered") {
		t.Errorf("got notes %q, want one about the renumbered folder", runs[0].Notes)
	}
	if got, want := runs[0].Duplicates, len(ids); got != want {
		t.Errorf("got %d duplicates, want %d", got, want)
	}
	runJob(t, r, e)
	e.assertExactlyOnce(append(ids, moreIDs...))
	e.assertAllSeenInInbox(len(ids) + len(moreIDs))
}

func TestMalformedMailGetsAnOutcomeAndTheJobGoesOn(t *testing.T) {
	e := newEnv(t, nil)
	raws, ids := generate(t, 4, 5)
	bad := [][]byte{
		[]byte("\x00\x01\x02 garbage with no header at all \xff\xfe"),
		[]byte("Message-ID: <broken-1@example.com>\r\nFrom: x@example.com\r\nSubject: =?utf-8?B?broken\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=x-unknown-charset\r\n\r\nhello\r\n--b\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n"),
	}
	e.deliver(append(append([][]byte{}, raws[:2]...), append(bad, raws[2:]...)...)...)
	r := e.start(pipeline.Config{})
	runJob(t, r, e)
	runJob(t, r, e)
	seen, _ := e.conversations()
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("good message %s: got %d conversations, want 1", id, seen[id])
		}
	}
	if seen["broken-1@example.com"] != 1 {
		t.Errorf("malformed message: got %d conversations, want 1 (processed with warnings)", seen["broken-1@example.com"])
	}
	e.assertAllSeenInInbox(len(ids) + len(bad))
}

// failingBlobs fails every Get of raw messages whose content holds marker.
type failingBlobs struct {
	blob.Store
	keys sync.Map
}

func (f *failingBlobs) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if _, ok := f.keys.Load(key); ok {
		return nil, errors.New("disk on fire")
	}
	return f.Store.Get(ctx, key)
}

func TestFailedMessageEndsInTheErrorFolder(t *testing.T) {
	e := newEnv(t, nil)
	raws, ids := generate(t, 5, 8)
	e.deliver(raws...)
	fb := &failingBlobs{Store: e.blobs}
	// Fail the third message: its raw key is derived from its source.
	validity, err := dovecot.UIDValidity(e.user, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	badKey := fmt.Sprintf("imap/INBOX/%d/3", validity)
	fb.keys.Store(ledger.RawKey(e.job.ID, badKey), true)
	e.blobs = fb
	r := e.start(pipeline.Config{MaxReceives: 2, Visibility: 100 * time.Millisecond})
	runJob(t, r, e)
	ent, err := e.store.Entry(context.Background(), e.job.ID, badKey)
	if err != nil {
		t.Fatal(err)
	}
	if ent.State != "failed" || !strings.Contains(ent.Reason, "disk on fire") {
		t.Errorf("got state %s reason %q, want failed with the cause", ent.State, ent.Reason)
	}
	seen, _ := e.conversations()
	if got, want := len(seen), len(ids)-1; got != want {
		t.Errorf("got %d messages processed, want %d", got, want)
	}
	var inErrors int
	for _, m := range e.serverState() {
		if m.Folder == job.DefaultErrorFolder {
			inErrors++
			if m.MessageID != "<"+ids[2]+">" {
				t.Errorf("got %s in the error folder, want %s", m.MessageID, ids[2])
			}
		}
	}
	if inErrors != 1 {
		t.Errorf("got %d messages in the error folder, want 1", inErrors)
	}
}

func TestOversizedAndRejectedMessagesAreMovedWithAReason(t *testing.T) {
	e := newEnv(t, func(j *job.Job) {
		j.Limits.MaxMessageSize = 64 << 10
		j.Processing.AllowNewRequestsFrom = []string{"*@allowed.example"}
	})
	small := []byte("Message-ID: <ok@allowed.example>\r\nFrom: a@allowed.example\r\nSubject: fine\r\n\r\nhello\r\n")
	stranger := []byte("Message-ID: <who@stranger.example>\r\nFrom: b@stranger.example\r\nSubject: hi\r\n\r\nhello\r\n")
	big := []byte("Message-ID: <big@allowed.example>\r\nFrom: a@allowed.example\r\nSubject: big\r\n\r\n" + strings.Repeat("x", 100<<10) + "\r\n")
	e.deliver(small, stranger, big)
	r := e.start(pipeline.Config{})
	runs := runJob(t, r, e)
	if runs[0].Oversized != 1 {
		t.Errorf("got %d oversized, want 1", runs[0].Oversized)
	}
	runJob(t, r, e)
	folders := map[string]string{}
	for _, m := range e.serverState() {
		folders[m.MessageID] = m.Folder
	}
	want := map[string]string{"<ok@allowed.example>": "INBOX", "<who@stranger.example>": job.DefaultErrorFolder, "<big@allowed.example>": job.DefaultErrorFolder}
	for id, f := range want {
		if folders[id] != f {
			t.Errorf("%s: got folder %q, want %q", id, folders[id], f)
		}
	}
	seen, _ := e.conversations()
	if len(seen) != 1 || seen["ok@allowed.example"] != 1 {
		t.Errorf("got conversations %v, want only ok@allowed.example", seen)
	}
}
