package rules

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"mailconnector/shared/blob/fileblob"
	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/message"
	"mailconnector/shared/notify"
	"mailconnector/shared/notify/notifytest"
	"mailconnector/shared/request"
	"mailconnector/shared/store"
	"mailconnector/shared/store/boltstore"
	"mailconnector/shared/testkit/localtest"
)

func TestReplyReopensAClosedRequestWhenAsked(t *testing.T) {
	for _, reopen := range []bool{true, false} {
		ctx := context.Background()
		st := localtest.Store(t, t.TempDir())
		blobs := localtest.Blobs(t, t.TempDir())
		yaml := ""
		if reopen {
			yaml = "    processing: {reopenClosed: true}\n"
		}
		j := jobWith(t, yaml)
		stage := NewStage(StageOptions{Store: st, Blobs: blobs, Jobs: &job.File{Jobs: []job.Job{*j}}})
		now := time.Now()
		put := func(key string, m message.Message) {
			b, _ := json.Marshal(m)
			if _, err := blobs.Put(ctx, ledger.NormKey("support", key), bytes.NewReader(b)); err != nil {
				t.Fatal(err)
			}
			e := ledger.Entry{JobID: "support", Key: key, State: ledger.Preprocessed, NormKey: ledger.NormKey("support", key), FetchedAt: now, UpdatedAt: now}
			if _, err := st.Record(ctx, []ledger.Entry{e}); err != nil {
				t.Fatal(err)
			}
			if err := stage.Handle(ctx, ledger.Pointer{JobID: "support", Key: key}); err != nil {
				t.Fatal(err)
			}
		}
		put("k1", message.Message{Subject: "VPN", MessageID: "v1@example.com", From: message.Address{Address: "a@customer.example"}, VisibleText: "down"})
		r, err := st.RequestByNumber(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		// An agent closes it.
		r.Status = request.Closed
		closer := ledger.Entry{JobID: "support", Key: "close", State: ledger.Queued, FetchedAt: now, UpdatedAt: now}
		if _, err := st.Record(ctx, []ledger.Entry{closer}); err != nil {
			t.Fatal(err)
		}
		closer, _ = st.Entry(ctx, "support", "close")
		closer.State = ledger.Processed
		if _, err := st.Commit(ctx, store.Outcome{Entry: closer, UpdateRequest: &r}); err != nil {
			t.Fatal(err)
		}
		put("k2", message.Message{Subject: "Re: VPN", MessageID: "v2@example.com", InReplyTo: []string{"v1@example.com"}, From: message.Address{Address: "a@customer.example"}, VisibleText: "still down"})
		r, _ = st.RequestByNumber(ctx, 1)
		want := request.Closed
		if reopen {
			want = request.Open
		}
		convs, _ := st.Conversations(ctx, r.ID)
		if r.Status != want || len(convs) != 2 {
			t.Errorf("reopenClosed %v: got status %s with %d conversations, want %s with 2", reopen, r.Status, len(convs), want)
		}
	}
}

// stageEnv is a Stage over an embedded store and blob directory.
type stageEnv struct {
	t      testing.TB
	st     *boltstore.Store
	blobs  *fileblob.Store
	stage  *Stage
	now    time.Time
	record func(key string, state ledger.State, m message.Message)
}

// oneNotice returns the one notice box holds and fails the test unless it
// holds exactly one.
func oneNotice(t *testing.T, box *notifytest.Recorder) notify.Notice {
	t.Helper()
	notices := box.Notices()
	if len(notices) != 1 {
		t.Fatalf("got %d notices, want 1", len(notices))
	}
	return notices[0]
}

// sentBox reports the Message-ID its transport "assigned".
type sentBox struct {
	*notifytest.Recorder
	sentID string
}

func (b sentBox) NotifySent(ctx context.Context, n notify.Notice) (string, error) {
	return b.sentID, b.Notify(ctx, n)
}

func newStageEnv(tb testing.TB, yaml string, notifier notify.Notifier) *stageEnv {
	tb.Helper()
	ctx := context.Background()
	st := localtest.Store(tb, tb.TempDir())
	blobs := localtest.Blobs(tb, tb.TempDir())
	f, err := job.Parse([]byte("jobs:\n  - id: support\n    server: {protocol: imap, host: h, security: tls, auth: {secret: s}}\n" + yaml))
	if err != nil {
		tb.Fatal(err)
	}
	e := &stageEnv{t: tb, st: st, blobs: blobs, now: time.Now()}
	e.stage = NewStage(StageOptions{Store: st, Blobs: blobs, Jobs: f, Notifier: notifier,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	e.record = func(key string, state ledger.State, m message.Message) {
		tb.Helper()
		b, _ := json.Marshal(m)
		if _, err := blobs.Put(ctx, ledger.NormKey("support", key), bytes.NewReader(b)); err != nil {
			tb.Fatal(err)
		}
		le := ledger.Entry{JobID: "support", Key: key, State: state, MessageID: m.MessageID, FetchedAt: e.now, UpdatedAt: e.now}
		if state == ledger.Preprocessed {
			le.NormKey, le.Attempts = ledger.NormKey("support", key), 1
		}
		res, err := st.Record(ctx, []ledger.Entry{le})
		if err != nil || res[0].Err != nil {
			tb.Fatalf("record %s: %v %v", key, err, res)
		}
	}
	return e
}

func (e *stageEnv) handle(key string) error {
	return e.stage.Handle(context.Background(), ledger.Pointer{JobID: "support", Key: key})
}

func TestNoticesCarryTheTokenAndThreadReplies(t *testing.T) {
	const yaml = "    attachments: {blockExtensions: [exe], notifyOnDrop: {sender: true}}\n    processing: {noticeMessageIdDomain: notices.helpdesk.example}\n"
	withExe := message.Message{Subject: "tool", MessageID: "exe@customer.example", From: message.Address{Address: "ann@customer.example"},
		Headers:     authHeader("mx.helpdesk.example; dmarc=pass header.from=customer.example"),
		VisibleText: "see attached", Attachments: []message.Attachment{{Filename: "setup.exe", Dropped: "blocked extension"}}}
	t.Run("own Message-ID", func(t *testing.T) {
		box := &notifytest.Recorder{}
		e := newStageEnv(t, yaml, box)
		e.record("k1", ledger.Preprocessed, withExe)
		if err := e.handle("k1"); err != nil {
			t.Fatal(err)
		}
		n := oneNotice(t, box)
		if !strings.HasSuffix(n.Subject, "[REQ-000001]") || !strings.HasSuffix(n.MessageID, "@notices.helpdesk.example") || n.InReplyTo != "exe@customer.example" {
			t.Fatalf("got notice %+v, want the request token, our Message-ID and In-Reply-To", n)
		}
		// The customer answers the notice (not the original message).
		e.record("k2", ledger.Preprocessed, message.Message{Subject: "Re: " + n.Subject, MessageID: "r@customer.example",
			InReplyTo: []string{n.MessageID}, From: message.Address{Address: "ann@customer.example"}, VisibleText: "here is a link"})
		if err := e.handle("k2"); err != nil {
			t.Fatal(err)
		}
		r, err := e.st.RequestByMessageID(context.Background(), n.MessageID)
		if err != nil || r.Number != 1 {
			t.Fatalf("the notice's Message-ID is not indexed to request 1: %v", err)
		}
		convs, _ := e.st.Conversations(context.Background(), r.ID)
		if len(convs) != 2 {
			t.Errorf("got %d conversations, want the message and the reply to the notice", len(convs))
		}
	})
	t.Run("transport-assigned Message-ID", func(t *testing.T) {
		box := sentBox{Recorder: &notifytest.Recorder{}, sentID: "0100abc@email.amazonses.com"}
		e := newStageEnv(t, yaml, box)
		e.record("k1", ledger.Preprocessed, withExe)
		if err := e.handle("k1"); err != nil {
			t.Fatal(err)
		}
		r, err := e.st.RequestByMessageID(context.Background(), box.sentID)
		if err != nil || r.Number != 1 {
			t.Errorf("the Message-ID the transport reported is not indexed to request 1: %v", err)
		}
	})
}

// TestReplyWaitsForItsOriginalBoundedByAttempts: a reply whose original
// is still being preprocessed waits (a retryable error), and is decided
// on its own once its attempts reach the limit.
func TestReplyWaitsForItsOriginalBoundedByAttempts(t *testing.T) {
	e := newStageEnv(t, "", nil)
	ctx := context.Background() // each call is one delivery (it pauses about a second inside)
	orig := message.Message{Subject: "VPN", MessageID: "o@x", From: message.Address{Address: "a@x.example"}, VisibleText: "down"}
	e.record("orig", ledger.Queued, orig)
	e.record("reply", ledger.Preprocessed, message.Message{Subject: "Re: VPN", MessageID: "r@x", InReplyTo: []string{"o@x"},
		From: message.Address{Address: "a@x.example"}, VisibleText: "still"})
	var waits int
	for i := 0; i < 10; i++ {
		err := e.stage.Handle(ctx, ledger.Pointer{JobID: "support", Key: "reply"})
		var w *WaitingError
		if errors.As(err, &w) {
			waits++
			if w.Original != "orig" || w.Ready {
				t.Errorf("got %+v, want a wait for orig, not ready", w)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	if want := 2; waits != want { // attempts 1 (preprocessed) → 2 → 3 = the limit
		t.Errorf("got %d waits, want %d", waits, want)
	}
	got, _ := e.st.Entry(context.Background(), "support", "reply")
	if got.State != ledger.Processed {
		t.Errorf("got reply state %s, want processed after the waits", got.State)
	}
}

// TestOriginalDecidedInlineBeforeItsReply: when the original is already
// preprocessed, the reply decides it first, so both land on one request.
func TestOriginalDecidedInlineBeforeItsReply(t *testing.T) {
	e := newStageEnv(t, "", nil)
	e.record("orig", ledger.Preprocessed, message.Message{Subject: "VPN", MessageID: "o@x", From: message.Address{Address: "a@x.example"}, VisibleText: "down"})
	e.record("reply", ledger.Preprocessed, message.Message{Subject: "Re: VPN", MessageID: "r@x", References: []string{"o@x"},
		From: message.Address{Address: "a@x.example"}, VisibleText: "still"})
	if err := e.handle("reply"); err != nil {
		t.Fatal(err)
	}
	if err := e.handle("orig"); err != nil { // its own delivery finds it done
		t.Fatal(err)
	}
	reqs, _ := e.st.ListRequests(context.Background(), "support", 0)
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	convs, _ := e.st.Conversations(context.Background(), reqs[0].ID)
	if len(convs) != 2 || reqs[0].MessageID != "o@x" {
		t.Errorf("got %d conversations on a request from %q, want 2 on the original's", len(convs), reqs[0].MessageID)
	}
}

// TestAtMostOneRequestPerMessage is a property test: random messages
// (new, replies by each threading source, auto-generated, refused), each
// delivered three times at once, give every message exactly one outcome
// and at most one request or conversation.
func TestAtMostOneRequestPerMessage(t *testing.T) {
	e := newStageEnv(t, `    processing:
      allowNewRequestsFrom: ["*@customer.example"]
      subjectWindow: 1h
      statements:
        - {name: spam, action: reject, when: {field: subject, op: contains, value: spam}}
        - {name: quiet, action: ignore, when: {field: subject, op: contains, value: quiet}}
`, nil)
	r := rand.New(rand.NewPCG(7, 11))
	const n = 60
	var keys []string
	for i := 0; i < n; i++ {
		m := message.Message{MessageID: fmt.Sprintf("m%d@x", i), VisibleText: "text",
			From:    message.Address{Address: []string{"a@customer.example", "b@customer.example", "x@elsewhere.example"}[r.IntN(3)]},
			Subject: []string{"printer", "vpn", "spam offer", "quiet please", "Re: printer"}[r.IntN(5)]}
		if i > 0 {
			switch r.IntN(4) {
			case 0:
				m.InReplyTo = []string{fmt.Sprintf("m%d@x", r.IntN(i))}
			case 1:
				m.References = []string{"unknown@x", fmt.Sprintf("m%d@x", r.IntN(i))}
			case 2:
				m.Subject = fmt.Sprintf("Re: [REQ-%06d] %s", 1+r.IntN(i), m.Subject)
			}
		}
		if r.IntN(6) == 0 {
			m.AutoGenerated = message.AutoReply
		}
		key := fmt.Sprintf("k%03d", i)
		keys = append(keys, key)
		e.record(key, ledger.Preprocessed, m)
	}
	var wg sync.WaitGroup
	for _, k := range keys {
		for c := 0; c < 3; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 5; i++ {
					if err := e.handle(k); err == nil {
						return
					}
				}
				t.Errorf("message %s: no outcome after retries", k)
			}()
		}
	}
	wg.Wait()
	ctx := context.Background()
	reqs, err := e.st.ListRequests(ctx, "support", 0)
	if err != nil {
		t.Fatal(err)
	}
	made := map[string]int{} // ledger key → requests and conversations
	for _, rq := range reqs {
		convs, _ := e.st.Conversations(ctx, rq.ID)
		for _, c := range convs {
			made[c.SourceKey]++
		}
	}
	for _, k := range keys {
		en, err := e.st.Entry(ctx, "support", k)
		if err != nil || !en.State.Final() {
			t.Errorf("message %s: got state %s (%v), want an outcome", k, en.State, err)
			continue
		}
		want := 0
		if en.Conversation != "" {
			want = 1
		}
		if made[k] != want {
			t.Errorf("message %s (%s): got %d conversations, want %d", k, en.State, made[k], want)
		}
	}
	var created int
	for _, rq := range reqs {
		created++
		if made[rq.SourceKey] != 1 {
			t.Errorf("request %d: its source message %s has %d conversations", rq.Number, rq.SourceKey, made[rq.SourceKey])
		}
	}
	if created == 0 || created == n {
		t.Errorf("got %d requests of %d messages: the mix should both create and thread", created, n)
	}
}
