package graphbox_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/graphbox"
	"mailconnector/shared/mailbox/mailauth"
	"mailconnector/shared/mailbox/mailboxtest"
	"mailconnector/shared/secrets"
	"mailconnector/shared/testkit/graphtest"
)

// env is one mailbox on its own server with an app signed in by client
// credentials.
type env struct {
	t    *testing.T // nil in a benchmark
	srv  *graphtest.Server
	user string
	job  job.Server
}

func newEnv(t *testing.T) *env { return newEnvTB(t, t) }

// newEnvB is newEnv for a benchmark.
func newEnvB(b *testing.B) *env { return newEnvTB(b, nil) }

func newEnvTB(tb testing.TB, t *testing.T) *env {
	tb.Helper()
	srv := graphtest.Start(tb)
	user := fmt.Sprintf("help%d@contoso.example", userSeq.Add(1))
	srv.AddMailbox(user)
	srv.AddApp(tenant, client, "s3cret")
	host, port := hostPort(srv.URL())
	return &env{t: t, srv: srv, user: user, job: job.Server{Protocol: job.Graph, Host: host, Port: port, Security: job.SecurityNone,
		Mailbox: user, Folder: "INBOX", Auth: job.Auth{Method: job.AuthOAuth2, Secret: "g"}, Timeout: job.Duration(5 * time.Second)}}
}

// openB opens a session for a benchmark.
func (e *env) openB(b *testing.B) *graphbox.Session {
	ts, err := mailauth.NewTokenSource(graphbox.Credentials(e.job, secrets.Credentials{ClientID: client, ClientSecret: "s3cret", TokenURL: e.srv.TokenURL(tenant)}), nil)
	if err != nil {
		b.Fatal(err)
	}
	s, err := graphbox.Open(context.Background(), graphbox.Config{Server: e.job, TokenSource: ts})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func (e *env) open(mod func(*graphbox.Config)) *graphbox.Session {
	e.t.Helper()
	ts, err := mailauth.NewTokenSource(graphbox.Credentials(e.job, secrets.Credentials{ClientID: client, ClientSecret: "s3cret", TokenURL: e.srv.TokenURL(tenant)}), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	cfg := graphbox.Config{Server: e.job, TokenSource: ts}
	if mod != nil {
		mod(&cfg)
	}
	s, err := graphbox.Open(context.Background(), cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { s.Close() })
	return s
}

func (e *env) deliver(folder string, n int) []string {
	var ids []string
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("m%d-%d@contoso.example", i, time.Now().UnixNano())
		e.srv.Deliver(e.user, folder, mailboxtest.Message(id, 200))
		ids = append(ids, id)
	}
	return ids
}

func fetchIDs(t *testing.T, s mailbox.Session, items []mailbox.Item) []string {
	t.Helper()
	var out []string
	err := s.Fetch(context.Background(), items, func(it mailbox.Item, r io.Reader) error {
		if r == nil {
			out = append(out, "gone")
			return nil
		}
		b, err := io.ReadAll(r)
		for _, line := range strings.Split(string(b), "\r\n") {
			if v, ok := strings.CutPrefix(line, "Message-ID: "); ok {
				out = append(out, strings.Trim(v, "<>"))
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEveryRequestAsksForImmutableIDsAndAMoveKeepsTheKey(t *testing.T) {
	e := newEnv(t)
	e.deliver("Inbox", 2)
	s := e.open(nil)
	sc, err := s.Scan(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	moved := sc.Items[0].Source
	errs := s.Dispose(context.Background(), []mailbox.Disposition{{Source: moved, Action: mailbox.Move, Folder: "Inbox/Done"}})
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	// The ledger's key still reaches the message in its new folder.
	if errs := s.Dispose(context.Background(), []mailbox.Disposition{{Source: moved, Action: mailbox.MarkRead}}); errs[0] != nil {
		t.Fatalf("mark read after the move by the same key: %v", errs[0])
	}
	for _, m := range e.srv.Messages(e.user) {
		if m.ImmutableID == moved.ID && (m.Folder != "Inbox/Done" || !m.IsRead) {
			t.Errorf("got %+v, want it read in Inbox/Done", m)
		}
	}
	for _, r := range e.srv.Requests() {
		if r.Path == "/v1.0/$batch" {
			continue
		}
		if !strings.Contains(strings.Join(r.Header.Values("Prefer"), ","), `IdType="ImmutableId"`) {
			t.Errorf("%s %s: no Prefer IdType=\"ImmutableId\"", r.Method, r.Path)
		}
	}
}

func TestDeltaPagesAndLaterRoundsListOnlyNewMail(t *testing.T) {
	e := newEnv(t)
	first := e.deliver("Inbox", 230) // three pages of 100
	s := e.open(nil)
	sc, err := s.Scan(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Items) != 230 {
		t.Fatalf("got %d items, want 230", len(sc.Items))
	}
	got := fetchIDs(t, s, sc.Items[:3])
	if got[0] != first[0] || got[2] != first[2] {
		t.Errorf("got %v first, want the oldest first", got)
	}
	// Mark some read and move one away: neither comes back as new.
	errs := s.Dispose(context.Background(), []mailbox.Disposition{
		{Source: sc.Items[0].Source, Action: mailbox.MarkRead},
		{Source: sc.Items[1].Source, Action: mailbox.Move, Folder: "Archive"},
		{Source: sc.Items[2].Source, Action: mailbox.Delete},
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	newer := e.deliver("Inbox", 2)
	sc2, err := s.Scan(context.Background(), sc.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range sc2.Items {
		if it.Source == sc.Items[0].Source {
			continue // a change (isRead): the ledger knows it
		}
		ids = append(ids, it.Source.ID)
	}
	if len(ids) != 2 || sc2.Reset {
		t.Fatalf("got %d new items (reset %v), want the 2 newer", len(ids), sc2.Reset)
	}
	if got := fetchIDs(t, s, sc2.Items[len(sc2.Items)-2:]); got[0] != newer[0] || got[1] != newer[1] {
		t.Errorf("got %v, want %v", got, newer)
	}
}

func TestExpiredDeltaLinkResyncsTheFolder(t *testing.T) {
	e := newEnv(t)
	e.deliver("Inbox", 3)
	s := e.open(nil)
	sc, err := s.Scan(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	e.srv.ExpireDeltaTokens()
	e.deliver("Inbox", 1)
	sc2, err := s.Scan(context.Background(), sc.Cursor)
	if err != nil {
		t.Fatalf("scan with an expired delta link: %v", err)
	}
	if !sc2.Reset || len(sc2.Items) != 4 {
		t.Errorf("got reset %v with %d items, want a resync listing all 4", sc2.Reset, len(sc2.Items))
	}
	for i, it := range sc2.Items[:3] {
		if it.Source != sc.Items[i].Source {
			t.Errorf("item %d: got %v, want the same identity %v as before (the ledger de-duplicates)", i, it.Source, sc.Items[i].Source)
		}
	}
}

func TestThrottlingIsWaitedOut(t *testing.T) {
	for _, tc := range []struct {
		name       string
		retryAfter time.Duration
	}{{"with Retry-After", time.Second}, {"without Retry-After", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ids := e.deliver("Inbox", 5)
			s := e.open(nil)
			e.srv.Throttle(2, tc.retryAfter)
			sc, err := s.Scan(context.Background(), "")
			if err != nil {
				t.Fatalf("scan while throttled: %v", err)
			}
			e.srv.Throttle(2, tc.retryAfter)
			got := fetchIDs(t, s, sc.Items)
			if strings.Join(got, ",") != strings.Join(ids, ",") {
				t.Errorf("got %v, want every message once: %v", got, ids)
			}
			e.srv.Throttle(3, tc.retryAfter) // inside the dispositions' batch
			ds := make([]mailbox.Disposition, len(sc.Items))
			for i, it := range sc.Items {
				ds[i] = mailbox.Disposition{Source: it.Source, Action: mailbox.MarkRead}
			}
			for i, err := range s.Dispose(context.Background(), ds) {
				if err != nil {
					t.Errorf("item %d: %v", i, err)
				}
			}
			for _, m := range e.srv.Messages(e.user) {
				if !m.IsRead {
					t.Errorf("%s: not marked read", m.InternetMessageID)
				}
			}
		})
	}
}

func TestLongThrottlingStopsWithErrThrottled(t *testing.T) {
	e := newEnv(t)
	e.deliver("Inbox", 1)
	s := e.open(func(c *graphbox.Config) { c.MaxThrottleWait = 2 * time.Second })
	e.srv.Throttle(100, 3*time.Second)
	_, err := s.Scan(context.Background(), "")
	if !errors.Is(err, mailbox.ErrThrottled) {
		t.Fatalf("got %v, want mailbox.ErrThrottled", err)
	}
	var te *graphbox.ThrottledError
	if !errors.As(err, &te) || te.RetryAfter != 3*time.Second {
		t.Errorf("got %#v, want the server's Retry-After", te)
	}
}

func TestNeverMoreThanFourRequestsAtOnce(t *testing.T) {
	e := newEnv(t)
	e.deliver("Inbox", 24)
	e.srv.SetLatency(20 * time.Millisecond)
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for w := 0; w < 6; w++ {
		s := e.open(nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc, err := s.Scan(context.Background(), "")
			if err != nil {
				t.Error(err)
				return
			}
			got := fetchIDs(t, s, sc.Items)
			mu.Lock()
			total += len(got)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if total != 6*24 {
		t.Errorf("got %d messages fetched, want %d", total, 6*24)
	}
	if n := e.srv.MaxConcurrent(e.user); n > graphbox.MaxConcurrent || n < 2 {
		t.Errorf("got at most %d requests at once, want between 2 and %d", n, graphbox.MaxConcurrent)
	}
}

func TestSignInAndFolderFailuresNameTheStep(t *testing.T) {
	e := newEnv(t)
	const wrong = "not-the-secret-7c41"
	ts, _ := mailauth.NewTokenSource(graphbox.Credentials(e.job, secrets.Credentials{ClientID: client, ClientSecret: wrong, TokenURL: e.srv.TokenURL(tenant)}), nil)
	_, err := graphbox.Open(context.Background(), graphbox.Config{Server: e.job, TokenSource: ts})
	var ce *mailbox.ConnectError
	if !errors.As(err, &ce) || ce.Step != mailbox.StepAuth || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Errorf("wrong client secret: got %v, want an authentication failure naming AADSTS7000215", err)
	}
	if err != nil && strings.Contains(err.Error(), wrong) {
		t.Errorf("wrong client secret: the error %q shows the secret", err)
	}
	other := e.job
	other.Mailbox = "nobody@contoso.example"
	ts, _ = mailauth.NewTokenSource(graphbox.Credentials(e.job, secrets.Credentials{ClientID: client, ClientSecret: "s3cret", TokenURL: e.srv.TokenURL(tenant)}), nil)
	if _, err := graphbox.Open(context.Background(), graphbox.Config{Server: other, TokenSource: ts}); !errors.As(err, &ce) || ce.Step != mailbox.StepFolder {
		t.Errorf("unknown mailbox: got %v, want a folder failure", err)
	}
	// A delegated token of another user may not read this mailbox.
	e.srv.AddMailbox("someone@contoso.example")
	tok := e.srv.IssueAccessToken(tenant, client, "someone@contoso.example", time.Hour)
	ts, _ = mailauth.NewTokenSource(secrets.Credentials{AccessToken: tok}, nil)
	if _, err := graphbox.Open(context.Background(), graphbox.Config{Server: e.job, TokenSource: ts, Delegated: true}); !errors.As(err, &ce) || ce.Step != mailbox.StepAuth {
		t.Errorf("another user's token: got %v, want an authentication failure", err)
	}
}

// webhook answers Graph's validation requests and counts notifications.
func webhook(t *testing.T, echo bool) (*httptest.Server, *int) {
	var mu sync.Mutex
	n := 0
	h := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := r.URL.Query().Get("validationToken"); tok != "" {
			if echo {
				w.Header().Set("Content-Type", "text/plain")
				io.WriteString(w, tok)
			} else {
				w.WriteHeader(http.StatusOK)
			}
			return
		}
		mu.Lock()
		n++
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(h.Close)
	return h, &n
}

func TestSubscriberCreatesRenewsAndDeletes(t *testing.T) {
	e := newEnv(t)
	ts, _ := mailauth.NewTokenSource(graphbox.Credentials(e.job, secrets.Credentials{ClientID: client, ClientSecret: "s3cret", TokenURL: e.srv.TokenURL(tenant)}), nil)
	sb, err := graphbox.NewSubscriber(context.Background(), graphbox.Config{Server: e.job, TokenSource: ts})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	bad, _ := webhook(t, false)
	if _, err := sb.Create(context.Background(), bad.URL+"/notify", "", "state", time.Now().Add(time.Hour)); err == nil {
		t.Error("a webhook that does not echo the validation token: got a subscription, want an error")
	}
	hook, _ := webhook(t, true)
	sub, err := sb.Create(context.Background(), hook.URL+"/notify", hook.URL+"/lifecycle", "state", time.Now().Add(graphbox.MaxSubscriptionLifetime-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if sub.ID == "" || sub.ClientState != "state" {
		t.Errorf("got %+v", sub)
	}
	e.deliver("Inbox", 1)
	var delivered bool
	for _, n := range e.srv.Notifications() {
		delivered = delivered || (n.SubscriptionID == sub.ID && n.Status == http.StatusAccepted)
	}
	if !delivered {
		t.Errorf("no notification reached the webhook: %+v", e.srv.Notifications())
	}
	if _, err := sb.Renew(context.Background(), sub.ID, time.Now().Add(graphbox.MaxSubscriptionLifetime+time.Hour)); err == nil {
		t.Error("renew beyond the maximum lifetime: got nil, want an error")
	}
	exp, err := sb.Renew(context.Background(), sub.ID, time.Now().Add(48*time.Hour))
	if err != nil || time.Until(exp) < 47*time.Hour {
		t.Errorf("renew: got %v, %v", exp, err)
	}
	list, err := sb.List(context.Background())
	if err != nil || len(list) != 1 {
		t.Errorf("list: got %v, %v; want the one subscription", list, err)
	}
	e.srv.RemoveSubscription(sub.ID)
	if _, err := sb.Renew(context.Background(), sub.ID, time.Now().Add(time.Hour)); !errors.Is(err, graphbox.ErrSubscriptionGone) {
		t.Errorf("renew a removed subscription: got %v, want ErrSubscriptionGone", err)
	}
	if err := sb.Delete(context.Background(), sub.ID); err != nil {
		t.Errorf("delete a removed subscription: got %v, want nil", err)
	}
}
