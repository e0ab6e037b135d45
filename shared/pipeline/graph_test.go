package pipeline_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mailconnector/shared/connect"
	"mailconnector/shared/fetch"
	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/graphbox"
	"mailconnector/shared/mailbox/mailauth"
	"mailconnector/shared/pipeline"
	"mailconnector/shared/run"
	"mailconnector/shared/secrets"
	"mailconnector/shared/secrets/localsecrets"
	"mailconnector/shared/secrets/secretstest"
	"mailconnector/shared/testkit/graphtest"
)

const graphTenant = "contoso"

// graphEnv is a Graph job on a graphtest mailbox.
type graphEnv struct {
	*env
	srv     *graphtest.Server
	mailbox string
}

func newGraphEnv(t *testing.T, edit func(j *job.Job)) *graphEnv {
	t.Helper()
	srv := graphtest.Start(t)
	mbx := fmt.Sprintf("support%d@contoso.example", userSeq.Add(1))
	srv.AddMailbox(mbx)
	srv.AddApp(graphTenant, "connector", "app-secret")
	hp := strings.TrimSuffix(strings.TrimPrefix(srv.URL(), "http://"), "/v1.0")
	host, p, _ := net.SplitHostPort(hp)
	port, _ := strconv.Atoi(p)
	e := newEnv(t, func(j *job.Job) {
		j.Server = job.Server{Protocol: job.Graph, Host: host, Port: port, Security: job.SecurityNone, Mailbox: mbx,
			Folder: "Inbox/Support", Auth: job.Auth{Method: job.AuthOAuth2, Secret: "graph-app"}, Timeout: job.Duration(5 * time.Second)}
		if edit != nil {
			edit(j)
		}
	})
	return &graphEnv{env: e, srv: srv, mailbox: mbx}
}

func (g *graphEnv) appOpener() connect.Opener {
	return connect.Opener{Secrets: secretstest.Map{"graph-app": {TenantID: graphTenant, ClientID: "connector", ClientSecret: "app-secret", TokenURL: g.srv.TokenURL(graphTenant)}},
		Tokens: &mailauth.Tokens{}}
}

func (g *graphEnv) deliver(raws ...[]byte) {
	for _, raw := range raws {
		g.srv.Deliver(g.mailbox, "Inbox/Support", raw)
	}
}

func TestGraphJobEndToEnd(t *testing.T) {
	g := newGraphEnv(t, nil)
	raws, ids := generate(t, 12, 61)
	g.deliver(raws...)
	r := g.start(pipeline.Config{Opener: g.appOpener()})
	runs := runJob(t, r, g.env)
	if runs[0].Fetched != len(ids) {
		t.Errorf("got %d fetched, want %d", runs[0].Fetched, len(ids))
	}
	g.assertExactlyOnce(ids)
	for _, m := range g.srv.Messages(g.mailbox) {
		if !m.IsRead || m.Folder != "Inbox/Support" {
			t.Errorf("%s: got read %v in %s, want read in Inbox/Support", m.InternetMessageID, m.IsRead, m.Folder)
		}
	}
	// The delta link makes the next run cheap and finds only new mail.
	more, moreIDs := generate(t, 3, 62)
	g.deliver(more...)
	runs = runJob(t, r, g.env)
	if runs[0].Fetched != 3 {
		t.Errorf("second run: got %d fetched, want 3", runs[0].Fetched)
	}
	g.assertExactlyOnce(append(ids, moreIDs...))
	runs = runJob(t, r, g.env)
	if runs[0].Fetched != 0 {
		t.Errorf("third run: got %d fetched, want 0", runs[0].Fetched)
	}
}

func TestGraphMovesToTheErrorFolderAndOnSuccessFolder(t *testing.T) {
	g := newGraphEnv(t, func(j *job.Job) {
		j.Incoming.OnSuccess, j.Incoming.MoveTo = job.Move, "Inbox/Done"
		j.Processing.Statements = []job.Statement{
			{Name: "no spam", When: &job.Condition{Field: "subject", Op: "contains", Value: "[spam]"}, Action: "reject", Reason: "spam"},
			{Name: "all", Action: "create"},
		}
	})
	raws, ids := generate(t, 4, 63)
	g.deliver(raws...)
	g.deliver([]byte("From: a@example.com\r\nTo: help@contoso.example\r\nSubject: [spam] buy\r\nMessage-ID: <spam1@example.com>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nbuy now\r\n"))
	r := g.start(pipeline.Config{Opener: g.appOpener()})
	runJob(t, r, g.env)
	g.assertExactlyOnce(ids)
	folders := map[string]int{}
	for _, m := range g.srv.Messages(g.mailbox) {
		folders[m.Folder]++
		if m.InternetMessageID == "<spam1@example.com>" && m.Folder != "Connector Errors" {
			t.Errorf("rejected message in %s, want the error folder", m.Folder)
		}
	}
	if folders["Inbox/Done"] != 4 || folders["Connector Errors"] != 1 {
		t.Errorf("got folders %v, want 4 in Inbox/Done and 1 in Connector Errors", folders)
	}
	// Moved messages keep their immutable ids: the next run takes nothing twice.
	runs := runJob(t, r, g.env)
	if runs[0].Fetched != 0 {
		t.Errorf("after the moves: got %d fetched, want 0", runs[0].Fetched)
	}
}

func TestGraphThrottledRunStopsCleanlyAndResumes(t *testing.T) {
	g := newGraphEnv(t, func(j *job.Job) { j.Server.Timeout = job.Duration(time.Second) })
	raws, ids := generate(t, 9, 64)
	g.deliver(raws...)
	r := g.start(pipeline.Config{Opener: g.appOpener()})
	// Longer than the run may wait (4 × the 1s timeout).
	g.srv.Throttle(1000, 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	runs, err := r.RunJob(ctx, g.job, "manual", true)
	if err != nil {
		t.Fatalf("throttled run: got error %v, want a clean stop", err)
	}
	if runs[0].Status != run.Throttled || runs[0].ConsecutiveFailures != 0 {
		t.Errorf("got status %s (failures %d), want throttled and no failure", runs[0].Status, runs[0].ConsecutiveFailures)
	}
	g.srv.Throttle(0, 0)
	runJob(t, r, g.env)
	g.assertExactlyOnce(ids)
}

// fetchHook is a Graph session that calls before ahead of each Fetch,
// with how many it has been asked for so far (its other methods, and so
// its capabilities, are the session's own).
type fetchHook struct {
	*graphbox.Session
	n      int
	before func(n int)
}

func (s *fetchHook) Fetch(ctx context.Context, items []mailbox.Item, fn func(mailbox.Item, io.Reader) error) error {
	s.n++
	s.before(s.n)
	return s.Session.Fetch(ctx, items, fn)
}

// TestGraphThrottledMidRunKeepsWhatWasRecorded throttles a run after its
// first batch was fetched, at its second batch: the run stops as
// throttled (no failure, no alert), the first batch is recorded all the
// same (it lands while the second is fetched), the stored cursor stays at
// the delta link the round started from, and the next run takes only the
// rest.
func TestGraphThrottledMidRunKeepsWhatWasRecorded(t *testing.T) {
	g := newGraphEnv(t, func(j *job.Job) {
		j.Server.Timeout = job.Duration(time.Second)
		j.Limits.BatchSize = 4
		j.Notifications.ConnectionFailures = 1
	})
	first, firstIDs := generate(t, 2, 67)
	g.deliver(first...)
	var throttle atomic.Bool // whether a session throttles its second batch
	opener := fetch.OpenerFunc(func(ctx context.Context, j *job.Job) (mailbox.Session, error) {
		s, err := g.appOpener().Open(ctx, j)
		gs, ok := s.(*graphbox.Session)
		if err != nil || !ok {
			return s, err
		}
		return &fetchHook{Session: gs, before: func(n int) {
			if n == 2 && throttle.Load() {
				// One 429 asking for longer than the run may wait (4 × 1s).
				g.srv.Throttle(1, 10*time.Second)
			}
		}}, nil
	})
	r := g.start(pipeline.Config{Opener: opener})
	runJob(t, r, g.env)
	ctx := context.Background()
	start, err := g.store.Cursor(ctx, g.job.ID)
	if err != nil || start == "" {
		t.Fatalf("cursor after the first run: got %q, %v, want a delta link", start, err)
	}

	// The round from the stored delta link lists the first 2 again (marked
	// read since: the ledger skips them) before the 10 new ones, so the
	// first batch of 4 records 2 new messages.
	more, moreIDs := generate(t, 10, 68)
	g.deliver(more...)
	throttle.Store(true)
	runs := runJob(t, r, g.env)
	throttle.Store(false)
	if got := runs[0]; got.Status != run.Throttled || got.Fetched != 2 || got.ConsecutiveFailures != 0 {
		t.Errorf("throttled run: got status %s, %d fetched, %d failures, want throttled, 2, 0", got.Status, got.Fetched, got.ConsecutiveFailures)
	}
	if st, err := g.store.JobState(ctx, g.job.ID); err != nil || st.ConsecutiveFailures != 0 || st.Alerted {
		t.Errorf("job state: got %+v, %v, want no failure counted and no alert", st, err)
	}
	if got, err := g.store.Cursor(ctx, g.job.ID); err != nil || got != start {
		t.Errorf("cursor after the throttled run: got %q, %v, want the round's start %q", got, err, start)
	}
	seen, _ := g.conversations()
	if len(seen) != 4 {
		t.Errorf("after the throttled run: got conversations for %d messages, want 4 (2 + the 2 new of the recorded batch)", len(seen))
	}

	runs = runJob(t, r, g.env)
	if runs[0].Status != run.OK || runs[0].Fetched != 8 {
		t.Errorf("resumed run: got status %s, %d fetched, want ok, 8", runs[0].Status, runs[0].Fetched)
	}
	g.assertExactlyOnce(append(firstIDs, moreIDs...))
	if got, err := g.store.Cursor(ctx, g.job.ID); err != nil || got == start {
		t.Errorf("cursor after the resumed run: got %q, %v, want a new delta link", got, err)
	}
}

// TestGraphDelegatedRotatedTokenWrittenBack signs in with a user's refresh
// token; the provider rotates it, and the new one replaces the old in the
// secrets file, so the next process still signs in.
func TestGraphDelegatedRotatedTokenWrittenBack(t *testing.T) {
	g := newGraphEnv(t, nil)
	g.srv.SetRotate(true)
	rt := g.srv.IssueRefreshToken(graphTenant, "connector", g.mailbox)
	state := t.TempDir()
	file := filepath.Join(state, localsecrets.FileName)
	body := fmt.Sprintf("graph-app:\n  tenantId: %s\n  clientId: connector\n  tokenUrl: %s\n  refreshToken: %s\n", graphTenant, g.srv.TokenURL(graphTenant), rt)
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	raws, ids := generate(t, 3, 65)
	g.deliver(raws...)
	r := g.start(pipeline.Config{Opener: connect.Opener{Secrets: localsecrets.New(state), Tokens: &mailauth.Tokens{}}})
	runJob(t, r, g.env)
	g.assertExactlyOnce(ids)
	c, err := localsecrets.New(state).Resolve(context.Background(), "graph-app")
	if err != nil {
		t.Fatal(err)
	}
	if c.RefreshToken == rt || c.RefreshToken == "" {
		t.Fatalf("got refresh token %q in the secrets file, want the rotated one", c.RefreshToken)
	}
	// A new process (new token cache) signs in with the written-back token.
	r.stop()
	more, moreIDs := generate(t, 2, 66)
	g.deliver(more...)
	r = g.start(pipeline.Config{Opener: connect.Opener{Secrets: localsecrets.New(state), Tokens: &mailauth.Tokens{}}})
	runJob(t, r, g.env)
	g.assertExactlyOnce(append(ids, moreIDs...))
}

var _ secrets.Resolver = secretstest.Map{}
