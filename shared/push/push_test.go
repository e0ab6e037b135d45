package push_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mailconnector/shared/connect"
	"mailconnector/shared/fetch"
	"mailconnector/shared/handler"
	"mailconnector/shared/job"
	"mailconnector/shared/mailbox/mailauth"
	"mailconnector/shared/mailbox/mailboxtest"
	"mailconnector/shared/notify"
	"mailconnector/shared/notify/notifytest"
	"mailconnector/shared/pipeline"
	"mailconnector/shared/push"
	"mailconnector/shared/queue/memqueue"
	"mailconnector/shared/run"
	"mailconnector/shared/secrets/secretstest"
	"mailconnector/shared/store"
	"mailconnector/shared/store/boltstore"
	"mailconnector/shared/testkit/graphtest"
	"mailconnector/shared/testkit/localtest"
	"mailconnector/shared/webhook"
)

// world is a push-enabled Graph job: graphtest as Graph, the webhook as a
// real HTTP server, and the fetch function's handler run in-process where
// Lambda would invoke it asynchronously.
type world struct {
	t       *testing.T
	graph   *graphtest.Server
	mailbox string
	jobs    *job.File
	store   *boltstore.Store
	svc     *push.Service
	hook    *httptest.Server
	fetch   *handler.Fetch
	invoked atomic.Int32 // fetch invocations
	runs    atomic.Int32 // runs that fetched (not skipped)
	wg      sync.WaitGroup
	gate    chan struct{} // when set, each invocation waits for it
}

// invoker runs the fetch handler in a goroutine, as an asynchronous
// Lambda invocation would.
type invoker struct{ w *world }

func (i invoker) InvokeAsync(ctx context.Context, payload []byte) error {
	var p handler.SchedulerPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return err
	}
	i.w.invoked.Add(1)
	i.w.wg.Add(1)
	go func() {
		defer i.w.wg.Done()
		if g := i.w.gate; g != nil {
			<-g
		}
		res, err := i.w.fetch.Handle(context.Background(), p)
		if err != nil {
			i.w.t.Errorf("fetch run: %v", err)
		}
		if res.Skipped == "" {
			i.w.runs.Add(1)
		}
	}()
	return nil
}

func newWorld(t *testing.T) *world {
	t.Helper()
	g := graphtest.Start(t)
	mbx := "support@contoso.example"
	g.AddMailbox(mbx)
	g.AddApp("contoso", "connector", "app-secret")
	hp := strings.TrimSuffix(strings.TrimPrefix(g.URL(), "http://"), "/v1.0")
	host, p, _ := net.SplitHostPort(hp)
	port, _ := strconv.Atoi(p)
	f := &job.File{Jobs: []job.Job{{ID: "support",
		Server: job.Server{Protocol: job.Graph, Host: host, Port: port, Security: job.SecurityNone, Mailbox: mbx,
			Auth: job.Auth{Method: job.AuthOAuth2, Secret: "graph-app"}, Timeout: job.Duration(5 * time.Second)},
		Push: job.Push{Enabled: true}}}}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st := localtest.Store(t, dir)
	blobs := localtest.Blobs(t, dir)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	opener := connect.Opener{Secrets: secretstest.Map{"graph-app": {TenantID: "contoso", ClientID: "connector", ClientSecret: "app-secret", TokenURL: g.TokenURL("contoso")}}, Tokens: &mailauth.Tokens{}, Logger: log}
	w := &world{t: t, graph: g, mailbox: mbx, jobs: f, store: st}
	w.fetch = &handler.Fetch{Jobs: f, Logger: log, Push: st, Invoker: invoker{w},
		Runner: fetch.New(fetch.Options{Store: st, Blobs: blobs, Queue: memqueue.New(nil), Opener: opener, Logger: log})}
	w.svc = &push.Service{Jobs: f, Store: st, Connect: opener.Subscriptions, Fetch: push.InvokeFetch{Invoker: invoker{w}}, Logger: log}
	w.hook = httptest.NewServer(&webhook.Handler{Push: w.svc, Logger: log})
	t.Cleanup(w.hook.Close)
	w.svc.WebhookURL = w.hook.URL + "/"
	return w
}

// settle waits for every fetch started so far (and those they start).
func (w *world) settle() {
	w.t.Helper()
	w.graph.Notifications() // waits for deliveries in flight
	w.wg.Wait()
}

func (w *world) deliver(n int) []string {
	var ids []string
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("push%d-%d@example.com", i, time.Now().UnixNano())
		w.graph.Deliver(w.mailbox, "Inbox", mailboxtest.Message(id, 300))
		ids = append(ids, id)
	}
	return ids
}

// ledgerCount is how many messages the job's ledger holds (fetched and
// queued; nothing processes them here).
func (w *world) ledgerCount() int {
	w.t.Helper()
	es, err := w.store.Unfinished(context.Background(), "support", time.Now().Add(time.Hour), 0)
	if err != nil {
		w.t.Fatal(err)
	}
	return len(es)
}

func TestRenewSubscribesAndANotificationFetches(t *testing.T) {
	w := newWorld(t)
	reps := w.svc.Renew(context.Background())
	if len(reps) != 1 || reps[0].Action != "subscribed" {
		t.Fatalf("got %+v, want the job subscribed", reps)
	}
	subs := w.graph.Subscriptions()
	if len(subs) != 1 || subs[0].NotificationURL != w.hook.URL+"/notify" || subs[0].LifecycleNotificationURL != w.hook.URL+"/lifecycle" {
		t.Fatalf("got %+v, want one subscription to the webhook", subs)
	}
	stored, err := w.store.Subscription(context.Background(), "support")
	if err != nil || stored.ID != subs[0].ID || len(stored.ClientState) < 32 || stored.ClientState != subs[0].ClientState {
		t.Fatalf("stored %+v, %v; want the subscription with a random clientState", stored, err)
	}
	w.deliver(3)
	w.settle()
	if got := w.ledgerCount(); got != 3 {
		t.Errorf("got %d messages fetched, want 3", got)
	}
	if w.runs.Load() < 1 {
		t.Error("no fetch run after the notifications")
	}
	// Renew again: nothing to do for a day.
	if reps := w.svc.Renew(context.Background()); reps[0].Action != "kept" {
		t.Errorf("second renew: got %+v, want kept", reps)
	}
}

func TestABurstOfNotificationsMakesOneFetch(t *testing.T) {
	w := newWorld(t)
	w.svc.Renew(context.Background())
	w.gate = make(chan struct{}) // hold the fetch until the burst is over
	w.deliver(50)
	w.graph.Notifications()
	if n := w.invoked.Load(); n != 1 {
		t.Errorf("50 notifications: got %d fetch invocations, want 1", n)
	}
	close(w.gate)
	w.settle()
	if got := w.ledgerCount(); got != 50 {
		t.Errorf("got %d fetched, want 50", got)
	}
}

func TestANotificationDuringARunStartsOneMore(t *testing.T) {
	w := newWorld(t)
	w.svc.Renew(context.Background())
	w.gate = make(chan struct{})
	w.deliver(1)
	w.graph.Notifications()
	// The run starts and clears the mark; then more mail comes while it
	// runs: simulated by marking after its start through a second
	// delivery once the first run has taken the mark.
	close(w.gate)
	w.gate = nil
	w.wg.Wait()
	w.deliver(2)
	w.settle()
	if got := w.ledgerCount(); got != 3 {
		t.Errorf("got %d fetched, want 3", got)
	}
	// Mark pending as a notification during a run would, then run: the
	// run's end starts exactly one more.
	if _, err := w.store.MarkPushPending(context.Background(), "support", time.Now(), push.StaleAfter); err != nil {
		t.Fatal(err)
	}
	before := w.invoked.Load()
	res, err := w.fetch.Handle(context.Background(), handler.SchedulerPayload{JobID: "support", Trigger: "push"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Continue || w.invoked.Load() != before {
		t.Errorf("a mark from before the run started: got continue %v, want no follow-up (the run covered it)", res.Continue)
	}
}

func TestMailDuringARunIsFetchedWithoutWaitingForThePoll(t *testing.T) {
	w := newWorld(t)
	w.svc.Renew(context.Background())
	var once sync.Once
	var late []string
	// The runner of the first run delivers new mail after its scan, as if
	// it came while the run went on; the notification comes meanwhile.
	inner := w.fetch.Runner
	w.fetch.Runner = runnerFunc(func(ctx context.Context, j *job.Job, req fetch.RunOptions) (run.Run, error) {
		r, err := inner.Run(ctx, j, req)
		once.Do(func() {
			late = w.deliver(2)
			w.graph.Notifications()
		})
		return r, err
	})
	w.deliver(1)
	w.settle()
	if got := w.ledgerCount(); got != 3 || len(late) != 2 {
		t.Errorf("got %d fetched, want 3 (the mail of the notification during the run too)", got)
	}
}

type runnerFunc func(ctx context.Context, j *job.Job, req fetch.RunOptions) (run.Run, error)

func (f runnerFunc) Run(ctx context.Context, j *job.Job, req fetch.RunOptions) (run.Run, error) {
	return f(ctx, j, req)
}

func TestWebhookAnswers(t *testing.T) {
	w := newWorld(t)
	w.svc.Renew(context.Background())
	sub, _ := w.store.Subscription(context.Background(), "support")
	post := func(path, body string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Post(w.hook.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	// Validation: the token back exactly, as text/plain, for both URLs.
	for _, path := range []string{"/notify", "/lifecycle"} {
		tok := "Validation: Testing client application reachability for subscription Request-Id: a+b/c&d=e <f>"
		resp, body := post(path+"?validationToken="+urlQuery(tok), "")
		if resp.StatusCode != 200 || body != tok || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("%s validation: got %d %q (%s), want 200 and the token", path, resp.StatusCode, body, resp.Header.Get("Content-Type"))
		}
	}
	note := func(state string) string {
		b, _ := json.Marshal(push.Batch{Value: []push.Notification{{SubscriptionID: sub.ID, ClientState: state, ChangeType: "created"}}})
		return string(b)
	}
	// A wrong clientState: accepted (Graph must not retry) but no fetch.
	before := w.invoked.Load()
	if resp, body := post("/notify", note("forged")); resp.StatusCode != http.StatusAccepted || body != "" {
		t.Errorf("wrong clientState: got %d %q, want 202 and no body", resp.StatusCode, body)
	}
	if w.invoked.Load() != before {
		t.Error("a notification with a wrong clientState started a fetch")
	}
	// Unknown subscription: the same.
	b, _ := json.Marshal(push.Batch{Value: []push.Notification{{SubscriptionID: "not-ours", ClientState: sub.ClientState}}})
	if resp, _ := post("/notify", string(b)); resp.StatusCode != http.StatusAccepted || w.invoked.Load() != before {
		t.Errorf("unknown subscription: got %d, fetches %d", resp.StatusCode, w.invoked.Load()-before)
	}
	// The right one: 202, empty, a fetch.
	if resp, body := post("/notify", note(sub.ClientState)); resp.StatusCode != http.StatusAccepted || body != "" || w.invoked.Load() != before+1 {
		t.Errorf("good notification: got %d %q with %d fetches, want 202, empty, 1 fetch", resp.StatusCode, body, w.invoked.Load()-before)
	}
	w.settle()
	// Bad input: plain answers, nothing internal.
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/notify", "{not json", 400},
		{"POST", "/notify", `{"value": null}`, 400},
		{"POST", "/notify", strings.Repeat("x", webhook.MaxBody+10), 413},
		{"GET", "/notify", "", 405},
		{"POST", "/elsewhere", "{}", 404},
		{"GET", "/signin", "", 404},
	} {
		req, _ := http.NewRequest(c.method, w.hook.URL+c.path, strings.NewReader(c.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want || strings.TrimSpace(string(body)) != http.StatusText(c.want) {
			t.Errorf("%s %s: got %d %q, want %d and only its status text", c.method, c.path, resp.StatusCode, body, c.want)
		}
	}
}

func urlQuery(s string) string {
	r := strings.NewReplacer("%", "%25", "+", "%2B", "/", "%2F", "&", "%26", "=", "%3D", " ", "+", "<", "%3C", ">", "%3E", ":", "%3A")
	return r.Replace(s)
}

func TestLifecycleEvents(t *testing.T) {
	w := newWorld(t)
	w.svc.Renew(context.Background())
	old, _ := w.store.Subscription(context.Background(), "support")

	// reauthorizationRequired: renewed in place.
	if err := w.graph.SendLifecycle(old.ID, "reauthorizationRequired"); err != nil {
		t.Fatal(err)
	}
	now, _ := w.store.Subscription(context.Background(), "support")
	if now.ID != old.ID {
		t.Errorf("reauthorization: got subscription %s, want the same %s renewed", now.ID, old.ID)
	}

	// missed: a fetch, which takes the mail the missed notifications were about.
	w.gate = make(chan struct{})
	taken := w.graph.RemoveSubscriptionQuietly(old.ID)
	w.deliver(2) // no subscription: no notification
	w.graph.RestoreSubscription(old.ID, taken)
	close(w.gate)
	w.gate = nil
	w.settle()
	before := w.invoked.Load()
	if err := w.graph.SendLifecycle(old.ID, "missed"); err != nil {
		t.Fatal(err)
	}
	w.settle()
	if w.invoked.Load() != before+1 || w.ledgerCount() != 2 {
		t.Errorf("missed: got %d fetches and %d messages, want 1 fetch and 2 messages", w.invoked.Load()-before, w.ledgerCount())
	}

	// subscriptionRemoved: subscribed again, then a fetch.
	if err := w.graph.SendLifecycle(old.ID, "subscriptionRemoved"); err != nil {
		t.Fatal(err)
	}
	w.settle()
	again, err := w.store.Subscription(context.Background(), "support")
	if err != nil || again.ID == old.ID || again.ClientState == old.ClientState {
		t.Fatalf("after subscriptionRemoved: got %+v, %v; want a new subscription with a new clientState", again, err)
	}
	if subs := w.graph.Subscriptions(); len(subs) != 1 || subs[0].ID != again.ID {
		t.Errorf("graph has %+v, want only the new subscription", subs)
	}
	w.deliver(1)
	w.settle()
	if w.ledgerCount() != 3 {
		t.Errorf("after resubscribing: got %d messages, want 3", w.ledgerCount())
	}
}

func TestRenewRecreatesAGoneSubscriptionAndUnsubscribes(t *testing.T) {
	w := newWorld(t)
	clock := time.Now()
	w.svc.Now = func() time.Time { return clock }
	w.svc.Renew(context.Background())
	sub, _ := w.store.Subscription(context.Background(), "support")
	// Six days later: within a day of expiry, renewed.
	clock = clock.Add(6*24*time.Hour + time.Hour)
	w.svc.Now = func() time.Time { return time.Now() }
	sub.Expires = time.Now().Add(12 * time.Hour)
	if err := w.store.PutSubscription(context.Background(), sub); err != nil {
		t.Fatal(err)
	}
	reps := w.svc.Renew(context.Background())
	if reps[0].Action != "renewed" || time.Until(reps[0].Expires) < 6*24*time.Hour {
		t.Errorf("got %+v, want renewed for about a week", reps[0])
	}
	// Graph dropped it: subscribed again, and a fetch for what came meanwhile.
	sub, _ = w.store.Subscription(context.Background(), "support")
	sub.Expires = time.Now().Add(time.Hour)
	_ = w.store.PutSubscription(context.Background(), sub)
	w.graph.RemoveSubscription(sub.ID)
	w.deliver(1)
	before := w.invoked.Load()
	reps = w.svc.Renew(context.Background())
	w.settle()
	now, _ := w.store.Subscription(context.Background(), "support")
	if reps[0].Action != "renewed" || now.ID == sub.ID || w.invoked.Load() != before+1 || w.ledgerCount() != 1 {
		t.Errorf("gone: got %+v, new id %v, %d fetches, %d messages; want a new subscription, 1 fetch, 1 message", reps[0], now.ID != sub.ID, w.invoked.Load()-before, w.ledgerCount())
	}
	// Push turned off: unsubscribed at Graph and in the store.
	w.jobs.Jobs[0].Push.Enabled = false
	reps = w.svc.Renew(context.Background())
	if reps[0].Action != "unsubscribed" || len(w.graph.Subscriptions()) != 0 {
		t.Errorf("got %+v with %d subscriptions at Graph, want unsubscribed and none", reps[0], len(w.graph.Subscriptions()))
	}
	if _, err := w.store.Subscription(context.Background(), "support"); err == nil {
		t.Error("the store still has the subscription")
	}
}

var _ store.Push = (*boltstore.Store)(nil)

func TestRenewWarnsWhenASignInFails(t *testing.T) {
	w := newWorld(t)
	var sent notifytest.Recorder
	w.svc.Notifier = &sent
	good := connect.Opener{Secrets: secretstest.Map{"graph-app": {TenantID: "contoso", ClientID: "connector", ClientSecret: "app-secret", TokenURL: w.graph.TokenURL("contoso")}}, Tokens: &mailauth.Tokens{}}
	w.svc.CheckSignIn = good.CheckSignIn
	for _, r := range w.svc.Renew(context.Background()) {
		if r.Action == "sign-in failing" {
			t.Errorf("good secret: got %+v", r)
		}
	}
	// The app's secret was rotated at the provider but not in the job's secret.
	bad := connect.Opener{Secrets: secretstest.Map{"graph-app": {TenantID: "contoso", ClientID: "connector", ClientSecret: "old-secret", TokenURL: w.graph.TokenURL("contoso")}}, Tokens: &mailauth.Tokens{}}
	w.svc.CheckSignIn = bad.CheckSignIn
	reps := w.svc.Renew(context.Background())
	if reps[0].Action != "sign-in failing" || !strings.Contains(reps[0].Error, "AADSTS7000215") {
		t.Fatalf("got %+v, want the failing sign-in with the provider's reason", reps[0])
	}
	if got := sent.Notices(); len(got) != 1 || got[0].Kind != notify.Alert || !strings.Contains(got[0].Subject, "cannot sign in") {
		t.Errorf("got notices %+v, want one alert", got)
	}
}

// localRunner runs a whole job as the local pipeline does (fetch, then the
// preprocess and rules stages drain, then dispositions), as the stand-in
// for the fetch function followed by the queue-driven functions.
type localRunner struct{ l *pipeline.Local }

func (r localRunner) Run(ctx context.Context, j *job.Job, req fetch.RunOptions) (run.Run, error) {
	runs, err := r.l.RunJob(ctx, j, req.Trigger, false)
	if len(runs) == 0 {
		return run.Run{}, err
	}
	return runs[0], err
}

// TestPushEndToEndMakesRequests: Graph notifies, the webhook starts the
// run, and the mail becomes requests, each message once, read on the server.
func TestPushEndToEndMakesRequests(t *testing.T) {
	w := newWorld(t)
	blobs := localtest.Blobs(t, t.TempDir())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	opener := connect.Opener{Secrets: secretstest.Map{"graph-app": {TenantID: "contoso", ClientID: "connector", ClientSecret: "app-secret", TokenURL: w.graph.TokenURL("contoso")}}, Tokens: &mailauth.Tokens{}, Logger: log}
	l := pipeline.Build(pipeline.Config{Jobs: w.jobs, Store: w.store, Blobs: blobs, Opener: opener, Logger: log, Visibility: 300 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	wait := l.Start(ctx)
	defer func() { cancel(); wait() }()
	w.fetch.Runner = localRunner{l}
	w.svc.Renew(context.Background())
	ids := w.deliver(5)
	w.settle()
	reqs, err := w.store.ListRequests(context.Background(), "support", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != len(ids) {
		t.Errorf("got %d requests, want %d (one per message)", len(reqs), len(ids))
	}
	for _, m := range w.graph.Messages(w.mailbox) {
		if !m.IsRead {
			t.Errorf("%s: not marked read after its request was made", m.InternetMessageID)
		}
	}
	// More mail, more notifications: only the new messages make requests.
	w.deliver(2)
	w.settle()
	if reqs, _ := w.store.ListRequests(context.Background(), "support", 0); len(reqs) != len(ids)+2 {
		t.Errorf("after more mail: got %d requests, want %d", len(reqs), len(ids)+2)
	}
}
