package pipeline_test

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mailconnector/shared/fetch"
	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/pipeline"
	"mailconnector/shared/run"
	"mailconnector/shared/testkit/dovecottest"
)

// errorMail is one accepted, one rejected (stranger) and one oversized
// (never downloaded, so no raw copy) message.
func errorMail(t testing.TB, e *env) {
	t.Helper()
	ok := []byte("Message-ID: <ok@allowed.example>\r\nFrom: a@allowed.example\r\nSubject: fine\r\n\r\nhello\r\n")
	rejected := []byte("Message-ID: <who@stranger.example>\r\nFrom: b@stranger.example\r\nSubject: hi\r\n\r\nhello\r\n")
	oversized := []byte("Message-ID: <big@allowed.example>\r\nFrom: a@allowed.example\r\nSubject: big\r\n\r\n" + strings.Repeat("x", 100<<10) + "\r\n")
	e.deliver(ok, rejected, oversized)
}

// oversizedEntry finds the ledger entry of the one message over 64 KB
// still on the server (never downloaded, it has no Message-ID in the
// ledger) by listing the mailbox through opener.
func (e *env) oversizedEntry(t testing.TB, opener fetch.Opener) ledger.Entry {
	t.Helper()
	ctx := context.Background()
	s, err := opener.Open(ctx, e.job)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sc, err := s.Scan(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range sc.Items {
		if it.Size > 64<<10 {
			en, err := e.store.Entry(ctx, e.job.ID, it.Source.Key())
			if err != nil {
				t.Fatalf("ledger entry of %s: %v", it.Source, err)
			}
			return en
		}
	}
	t.Fatalf("the oversized message is no longer on the server")
	return ledger.Entry{}
}

var keptNote = regexp.MustCompile(`kept on server: (\d+)`)

// kept adds up the "kept on server: N" notes of runs.
func kept(runs []run.Run) int {
	n := 0
	for _, r := range runs {
		for _, note := range r.Notes {
			if m := keptNote.FindStringSubmatch(note); m != nil {
				k, _ := strconv.Atoi(m[1])
				n += k
			}
		}
	}
	return n
}

// TestPOP3KeepsFailedMailUnlessTheJobSaysDelete: on POP3, failed and
// rejected mail stays on the server by default and with onError leave;
// only an explicit onError delete removes it, and never a message whose
// raw copy is not stored.
func TestPOP3KeepsFailedMailUnlessTheJobSaysDelete(t *testing.T) {
	tests := []struct {
		name    string
		onError job.SourceAction
		want    []string // Message-IDs left on the server
		kept    int      // "kept on server" in the run notes
	}{
		{name: "default", want: []string{"<who@stranger.example>", "<big@allowed.example>"}, kept: 2},
		{name: "leave", onError: job.Leave, want: []string{"<who@stranger.example>", "<big@allowed.example>"}, kept: 2},
		{name: "delete", onError: job.Delete, want: []string{"<big@allowed.example>"}, kept: 1},
		{name: "markRead", onError: job.MarkRead, want: []string{"<big@allowed.example>"}, kept: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(j *job.Job) {
				j.Server.Protocol = job.POP3
				j.Server.Port = dovecot.Port(dovecottest.POP3)
				j.Incoming.OnError.Action = tc.onError
				j.Limits.MaxMessageSize = 64 << 10
				j.Processing.AllowNewRequestsFrom = []string{"*@allowed.example"}
			})
			errorMail(t, e)
			r := e.start(pipeline.Config{Opener: e.pop3Opener(nil)})
			runs := runJob(t, r, e)
			runs = append(runs, runJob(t, r, e)...)
			var left []string
			for _, m := range e.serverState() {
				left = append(left, m.MessageID)
			}
			if strings.Join(left, " ") != strings.Join(tc.want, " ") {
				t.Errorf("got %v on the server, want %v", left, tc.want)
			}
			if got := kept(runs); got != tc.kept {
				t.Errorf("got %d kept on server in the run notes, want %d", got, tc.kept)
			}
			big := e.oversizedEntry(t, e.pop3Opener(nil))
			if big.State != ledger.Failed || big.Disposition == string(job.Delete) {
				t.Errorf("oversized: got state %s disposition %q, want failed and not deleted", big.State, big.Disposition)
			}
			// The UIDLs in the ledger keep what stayed from being fetched again.
			last := runJob(t, r, e)
			if last[0].Fetched != 0 || last[0].Oversized != 0 {
				t.Errorf("last run: got %d fetched, %d oversized, want 0 and 0", last[0].Fetched, last[0].Oversized)
			}
		})
	}
}

// TestIMAPNeverDeletesMailWithoutARawCopy: onError delete flags a failed
// message deleted only when its raw copy is stored; the oversized one,
// never downloaded, is only marked read, and purge leaves it.
func TestIMAPNeverDeletesMailWithoutARawCopy(t *testing.T) {
	e := newEnv(t, func(j *job.Job) {
		j.Incoming.OnError.Action = job.Delete
		j.Incoming.Purge = true
		j.Limits.MaxMessageSize = 64 << 10
		j.Processing.AllowNewRequestsFrom = []string{"*@allowed.example"}
	})
	errorMail(t, e)
	r := e.start(pipeline.Config{})
	runJob(t, r, e)
	runJob(t, r, e)
	got := map[string]dovecottest.Message{}
	for _, m := range e.serverState() {
		got[m.MessageID] = m
	}
	if _, ok := got["<who@stranger.example>"]; ok {
		t.Errorf("rejected message with a stored raw copy: still on the server, want deleted")
	}
	if m, ok := got["<big@allowed.example>"]; !ok || m.Deleted || !m.Seen {
		t.Errorf("oversized message: got %+v (present %v), want kept, marked read, not deleted", m, ok)
	}
	if big := e.oversizedEntry(t, e.opener("")); big.Disposition != string(job.MarkRead) {
		t.Errorf("oversized: got disposition %q, want %q", big.Disposition, job.MarkRead)
	}
}

// TestPurgeAfterAKilledSession: a run flags messages deleted and records
// it in the ledger, then dies before its purge. The next run purges them,
// though it flagged none of them itself.
func TestPurgeAfterAKilledSession(t *testing.T) {
	e := newEnv(t, func(j *job.Job) {
		j.Incoming.OnSuccess = job.Delete
		j.Incoming.Purge = true
	})
	raws, ids := generate(t, 9, 91)
	e.deliver(raws...)
	var fired atomic.Bool
	crash := func(step fetch.Step, _ []string) error {
		if step != fetch.BeforePurge || fired.Load() {
			return nil
		}
		for _, m := range e.serverState() {
			if m.Deleted && fired.CompareAndSwap(false, true) {
				return fetch.ErrCrash
			}
		}
		return nil
	}
	// A short lease: the killed run's lease runs out before the next run.
	r := e.start(pipeline.Config{Crash: crash, LeaseTTL: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := r.RunJob(ctx, e.job, "manual", true); !errors.Is(err, fetch.ErrCrash) {
		// The first run's own dispositions come at its end: crash there.
		if _, err := r.RunJob(ctx, e.job, "manual", true); !errors.Is(err, fetch.ErrCrash) {
			t.Fatalf("got %v, want the injected crash before the purge", err)
		}
	}
	flagged := 0
	for _, m := range e.serverState() {
		if m.Deleted {
			flagged++
		}
	}
	if flagged == 0 {
		t.Fatalf("no message flagged deleted before the crash")
	}
	r.stop()
	time.Sleep(400 * time.Millisecond)
	r = e.start(pipeline.Config{})
	runJob(t, r, e)
	for _, m := range e.serverState() {
		t.Errorf("message %s: still on the server (deleted %v), want purged", m.MessageID, m.Deleted)
	}
	e.assertExactlyOnce(ids)
}
