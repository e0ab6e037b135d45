package ewsbox_test

import (
	"context"
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/ewsbox"
	"mailconnector/shared/mailbox/mailboxtest"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func (b *box) config() ewsbox.Config {
	return ewsbox.Config{Server: b.Server(), Auth: ewsbox.AuthBasic, Username: b.user, Password: b.password}
}

func open(t *testing.T, cfg ewsbox.Config) *ewsbox.Session {
	t.Helper()
	s, err := ewsbox.Open(ctxT(t), cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func connectStep(t *testing.T, cfg ewsbox.Config) mailbox.Step {
	t.Helper()
	s, err := ewsbox.Open(ctxT(t), cfg)
	if err == nil {
		s.Close()
		t.Fatalf("open: got a session, want an error")
	}
	var ce *mailbox.ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("open: got %T %v, want a ConnectError", err, err)
	}
	return ce.Step
}

func deliver(b *box, n int) []string {
	var ids []string
	for i := 0; i < n; i++ {
		id := strings.ReplaceAll(time.Now().Format("150405.000000000"), ".", "-") + "@ews"
		b.srv.Deliver(b.user, "Inbox", mailboxtest.Message(id, 100))
		ids = append(ids, id)
	}
	return ids
}

func TestPaging(t *testing.T) {
	b := newBox(t)
	deliver(b, 5)
	cfg := b.config()
	cfg.PageSize = 2
	s := open(t, cfg)
	sc, err := s.Scan(ctxT(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Items) != 5 {
		t.Fatalf("got %d items, want 5", len(sc.Items))
	}
	if got := b.srv.Count("SyncFolderItems"); got != 3 {
		t.Errorf("got %d SyncFolderItems requests, want 3 pages of at most 2", got)
	}
	// The last item of the first page carries that page's state: a scan
	// from it lists the 3 after it.
	if sc.Items[1].Cursor == "" || sc.Items[0].Cursor != "" {
		t.Fatalf("got cursors %q %q, want none on the first item, a state on the page's last", sc.Items[0].Cursor, sc.Items[1].Cursor)
	}
	rest, err := s.Scan(ctxT(t), sc.Items[1].Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if len(rest.Items) != 3 || rest.Items[0].Source != sc.Items[2].Source {
		t.Errorf("scan from the first page's state: got %d items, want the 3 after it", len(rest.Items))
	}
}

func TestExpiredSyncState(t *testing.T) {
	b := newBox(t)
	deliver(b, 2)
	s := open(t, b.config())
	first, err := s.Scan(ctxT(t), "")
	if err != nil {
		t.Fatal(err)
	}
	b.srv.ExpireSyncState(b.user)
	deliver(b, 1)
	sc, err := s.Scan(ctxT(t), first.Cursor)
	if err != nil {
		t.Fatalf("scan from an expired state: %v", err)
	}
	if !sc.Reset || len(sc.Items) != 3 || sc.Cursor == first.Cursor {
		t.Fatalf("got reset %v, %d items, cursor changed %v; want a reset listing all 3 and a new cursor", sc.Reset, len(sc.Items), sc.Cursor != first.Cursor)
	}
	again, err := s.Scan(ctxT(t), sc.Cursor)
	if err != nil || again.Reset || len(again.Items) != 0 {
		t.Errorf("scan from the new state: got %v reset %v items %d, want nothing new", err, again.Reset, len(again.Items))
	}
}

func TestServerBusy(t *testing.T) {
	b := newBox(t)
	deliver(b, 1)
	var waits []time.Duration
	cfg := b.config()
	cfg.Sleep = func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	cfg.MaxWait = time.Minute
	s := open(t, cfg)
	b.srv.Busy(2, 1500*time.Millisecond)
	sc, err := s.Scan(ctxT(t), "")
	if err != nil || len(sc.Items) != 1 {
		t.Fatalf("scan after two ErrorServerBusy: got %v, want the item", err)
	}
	if !slices.Equal(waits, []time.Duration{1500 * time.Millisecond, 1500 * time.Millisecond}) {
		t.Errorf("got waits %v, want the server's BackOffMilliseconds twice", waits)
	}
	// Asked to wait longer than the session may: throttled, no wait.
	waits = nil
	b.srv.Busy(1, 2*time.Minute)
	_, err = s.Scan(ctxT(t), "")
	if !errors.Is(err, mailbox.ErrThrottled) || len(waits) != 0 {
		t.Errorf("got %v after waits %v, want ErrThrottled at once", err, waits)
	}
}

func TestServerVersion(t *testing.T) {
	b := newBox(t)
	s := open(t, b.config())
	if got, want := s.ServerVersion(), "15.2.1544.4 V2017_07_11"; got != want {
		t.Errorf("got server version %q, want %q", got, want)
	}
	if !slices.Contains(s.Info().Capabilities, "ServerVersionInfo 15.2.1544.4 V2017_07_11") {
		t.Errorf("got capabilities %v, want the ServerVersionInfo", s.Info().Capabilities)
	}
}

func TestImpersonation(t *testing.T) {
	b := newBox(t)
	const shared = "helpdesk@contoso.example"
	b.srv.AddMailbox(shared)
	b.srv.Deliver(shared, "Inbox", mailboxtest.Message("shared-1@ews", 100))
	cfg := b.config()
	cfg.Mailbox = shared
	if step := connectStep(t, cfg); step != mailbox.StepAuth {
		t.Errorf("without the impersonation right: got step %s, want %s", step, mailbox.StepAuth)
	}
	b.srv.AllowImpersonation(b.user)
	s := open(t, cfg)
	sc, err := s.Scan(ctxT(t), "")
	if err != nil || len(sc.Items) != 1 {
		t.Fatalf("scan of the shared mailbox: got %v with %d items, want its 1 message", err, len(sc.Items))
	}
	if errs := s.Dispose(ctxT(t), []mailbox.Disposition{{Source: sc.Items[0].Source, Action: mailbox.MarkRead}}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if m := b.srv.Messages(shared); len(m) != 1 || !m[0].Read {
		t.Errorf("got shared mailbox %+v, want its message read", m)
	}
	if own := b.srv.Messages(b.user); len(own) != 0 {
		t.Errorf("the sign-in account's mailbox got %d messages, want none", len(own))
	}
}

func TestNTLM(t *testing.T) {
	b := newBox(t)
	deliver(b, 1)
	cfg := b.config()
	cfg.Auth = ewsbox.AuthNTLM
	s := open(t, cfg)
	if sc, err := s.Scan(ctxT(t), ""); err != nil || len(sc.Items) != 1 {
		t.Fatalf("scan: %v", err)
	}
	if b.srv.Count("auth ntlm") == 0 || b.srv.Count("auth basic") != 0 {
		t.Errorf("got %d NTLM and %d Basic authorizations, want NTLM only", b.srv.Count("auth ntlm"), b.srv.Count("auth basic"))
	}
	if s.Info().Auth != "NTLM" {
		t.Errorf("got auth %q, want NTLM", s.Info().Auth)
	}
	cfg.Username = "nobody@contoso.example"
	if step := connectStep(t, cfg); step != mailbox.StepAuth {
		t.Errorf("unknown NTLM user: got step %s, want %s", step, mailbox.StepAuth)
	}
}

func TestBearer(t *testing.T) {
	b := newBox(t)
	b.srv.AddToken("good-token", b.user)
	cfg := b.config()
	cfg.Auth, cfg.Username, cfg.Password = ewsbox.AuthBearer, "", ""
	cfg.TokenSource = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "good-token"})
	s := open(t, cfg)
	if s.Info().Auth != "Bearer" || b.srv.Count("auth bearer") == 0 {
		t.Errorf("got auth %q after %d bearer requests, want Bearer", s.Info().Auth, b.srv.Count("auth bearer"))
	}
	cfg.TokenSource = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "wrong-token"})
	if step := connectStep(t, cfg); step != mailbox.StepAuth {
		t.Errorf("wrong token: got step %s, want %s", step, mailbox.StepAuth)
	}
}

// TestLargeMessageStreams counts the bytes allocated while a 16 MB
// message streams: held whole it would cost 16 MB decoded and 21 MB of
// base64.
func TestLargeMessageStreams(t *testing.T) {
	const size = 16 << 20
	b := newBox(t)
	raw := mailboxtest.Message("large@ews", size)
	b.srv.Deliver(b.user, "Inbox", raw)
	s := open(t, b.config())
	sc, err := s.Scan(ctxT(t), "")
	if err != nil || len(sc.Items) != 1 {
		t.Fatalf("scan: %v", err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var n int64
	err = s.Fetch(ctxT(t), sc.Items, func(_ mailbox.Item, r io.Reader) error {
		var err error
		n, err = io.CopyBuffer(io.Discard, r, make([]byte, 32<<10))
		return err
	})
	runtime.ReadMemStats(&after)
	if err != nil || n != int64(len(raw)) {
		t.Fatalf("fetch: got %d bytes, %v; want %d", n, err, len(raw))
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d KB", alloc>>10)
	if alloc > size/4 {
		t.Errorf("allocated %d MB streaming a %d MB message (client and server together), want it streamed", alloc>>20, size>>20)
	}
}

func TestAutodiscover(t *testing.T) {
	b := newBox(t)
	cfg := b.config()
	closed := "http://127.0.0.1:1/autodiscover/autodiscover.xml"
	good := b.srv.URL() + "/autodiscover/autodiscover.xml"
	url, attempts, err := ewsbox.Autodiscover(ctxT(t), cfg, b.user, []string{closed, good})
	if err != nil {
		t.Fatalf("autodiscover: %v", err)
	}
	if want := b.srv.URL() + "/EWS/Exchange.asmx"; url != want {
		t.Errorf("got EWS URL %q, want %q", url, want)
	}
	if len(attempts) != 2 || attempts[0].Err == nil || attempts[1].Err != nil {
		t.Errorf("got attempts %+v, want the closed port failed, then the server", attempts)
	}
	cfg.Endpoint = url
	open(t, cfg)
	if _, _, err := ewsbox.Autodiscover(ctxT(t), cfg, "stranger@contoso.example", []string{good}); err == nil {
		t.Errorf("autodiscover of an unknown address: got no error")
	}
	if got := ewsbox.Candidates("a@contoso.example"); len(got) != 2 || got[1] != "https://autodiscover.contoso.example/autodiscover/autodiscover.xml" {
		t.Errorf("got candidates %v", got)
	}
}

func TestHardDelete(t *testing.T) {
	b := newBox(t)
	ids := deliver(b, 2)
	cfg := b.config()
	cfg.HardDelete = true
	s := open(t, cfg)
	sc, err := s.Scan(ctxT(t), "")
	if err != nil || len(sc.Items) != 2 {
		t.Fatalf("scan: %v", err)
	}
	if errs := s.Dispose(ctxT(t), []mailbox.Disposition{{Source: sc.Items[0].Source, Action: mailbox.Delete}}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	got := b.srv.Messages(b.user)
	if len(got) != 1 || got[0].MessageID != ids[1] || got[0].Deleted {
		t.Errorf("got %+v, want only %s left, not in Deleted Items", got, ids[1])
	}
	errs := s.Dispose(ctxT(t), []mailbox.Disposition{{Source: sc.Items[0].Source, Action: mailbox.MarkRead}})
	if !errors.Is(errs[0], mailbox.ErrGone) {
		t.Errorf("mark read of a deleted message: got %v, want ErrGone", errs[0])
	}
}

func TestDelegate(t *testing.T) {
	b := newBox(t)
	const shared = "sales@contoso.example"
	b.srv.AddMailbox(shared)
	b.srv.Deliver(shared, "Inbox/Orders", mailboxtest.Message("order-1@ews", 100))
	cfg := b.config()
	cfg.Mailbox, cfg.Delegate, cfg.Server.Folder = shared, true, "Inbox/Orders"
	if step := connectStep(t, cfg); step != mailbox.StepAuth {
		t.Errorf("without full access: got step %s, want %s", step, mailbox.StepAuth)
	}
	b.srv.AllowDelegate(b.user, shared)
	s := open(t, cfg)
	sc, err := s.Scan(ctxT(t), "")
	if err != nil || len(sc.Items) != 1 {
		t.Fatalf("scan of the delegated mailbox: got %v with %d items, want its 1 message", err, len(sc.Items))
	}
	errs := s.Dispose(ctxT(t), []mailbox.Disposition{{Source: sc.Items[0].Source, Action: mailbox.Move, Folder: "Inbox/Orders/Done"}})
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	if m := b.srv.Messages(shared); len(m) != 1 || m[0].Folder != "Inbox/Orders/Done" {
		t.Errorf("got delegated mailbox %+v, want the message in Inbox/Orders/Done", m)
	}
	if own := b.srv.Messages(b.user); len(own) != 0 {
		t.Errorf("the sign-in account's mailbox got %d messages, want none", len(own))
	}
}
