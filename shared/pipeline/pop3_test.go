package pipeline_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"mailconnector/shared/fetch"
	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/mailboxtest"
	"mailconnector/shared/mailbox/pop3box"
	"mailconnector/shared/pipeline"
	"mailconnector/shared/secrets"
	"mailconnector/shared/testkit/dovecottest"
)

// newPOP3Env is a POP3 job on the env's Dovecot user.
func newPOP3Env(t *testing.T, keepOnServer bool) *env {
	t.Helper()
	return newEnv(t, func(j *job.Job) {
		j.Server.Protocol = job.POP3
		j.Server.Port = dovecot.Port(dovecottest.POP3)
		j.Incoming.KeepOnServer = keepOnServer
	})
}

// crashedSession ends like a crashed process: once the crash fired, Close
// drops the connection without QUIT, so nothing marked is deleted (RFC
// 1939 section 6). fetch.Run's deferred Close would otherwise send QUIT.
type crashedSession struct {
	*pop3box.Session
	crashed *atomic.Bool
}

func (s crashedSession) Close() error {
	if s.crashed.Load() {
		return s.Session.Abort()
	}
	return s.Session.Close()
}

// pop3Opener opens POP3 sessions for the env's user; after crashed is
// set, sessions end without QUIT.
func (e *env) pop3Opener(crashed *atomic.Bool) fetch.Opener {
	return fetch.OpenerFunc(func(ctx context.Context, j *job.Job) (mailbox.Session, error) {
		s, err := pop3box.Open(ctx, pop3box.Config{Server: j.Server, Credentials: secrets.Credentials{Username: e.user, Password: password}})
		if err != nil {
			return nil, err
		}
		if crashed == nil {
			return s, nil
		}
		return crashedSession{Session: s, crashed: crashed}, nil
	})
}

func TestPOP3JobDeletesAfterTheOutcome(t *testing.T) {
	e := newPOP3Env(t, false)
	raws, ids := generate(t, 12, 31)
	e.deliver(raws...)
	r := e.start(pipeline.Config{Opener: e.pop3Opener(nil)})
	runs := runJob(t, r, e)
	if runs[0].Fetched != len(ids) {
		t.Errorf("got %d fetched, want %d", runs[0].Fetched, len(ids))
	}
	e.assertExactlyOnce(ids)
	if left := e.serverState(); len(left) != 0 {
		t.Errorf("got %d messages left on the server, want none (deleted once their outcome was recorded)", len(left))
	}
	// New mail after that: only it is fetched.
	more, moreIDs := generate(t, 3, 32)
	e.deliver(more...)
	runs = runJob(t, r, e)
	if runs[0].Fetched != 3 {
		t.Errorf("second run: got %d fetched, want 3", runs[0].Fetched)
	}
	e.assertExactlyOnce(append(ids, moreIDs...))
}

func TestPOP3KeepOnServerFetchesEachMessageOnce(t *testing.T) {
	e := newPOP3Env(t, true)
	raws, ids := generate(t, 10, 33)
	e.deliver(raws...)
	r := e.start(pipeline.Config{Opener: e.pop3Opener(nil)})
	runJob(t, r, e)
	e.assertExactlyOnce(ids)
	if left := e.serverState(); len(left) != len(ids) {
		t.Errorf("got %d messages on the server, want all %d kept", len(left), len(ids))
	}
	runs := runJob(t, r, e)
	if runs[0].Fetched != 0 {
		t.Errorf("second run: got %d fetched, want 0 (the ledger knows every UIDL)", runs[0].Fetched)
	}
	e.assertExactlyOnce(ids)
	if left := e.serverState(); len(left) != len(ids) {
		t.Errorf("after the second run: got %d messages on the server, want all %d kept", len(left), len(ids))
	}
}

// TestPOP3CrashBeforeQUITDeletesNothing crashes a run at each step, so
// the session ends without QUIT: nothing is deleted, and the rerun makes
// no duplicate and then deletes everything.
func TestPOP3CrashBeforeQUITDeletesNothing(t *testing.T) {
	for _, step := range []fetch.Step{fetch.AfterBlob, fetch.AfterLedger, fetch.AfterEnqueue, fetch.AfterCursor, fetch.BeforeDispose, fetch.AfterDispose} {
		t.Run(string(step), func(t *testing.T) {
			e := newPOP3Env(t, false)
			raws, ids := generate(t, 15, int64(40+len(step)))
			e.deliver(raws...)
			crash, fired := crashOnce(step, crashCall(step))
			r := e.start(pipeline.Config{Crash: crash, Opener: e.pop3Opener(fired)})
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			_, err := r.RunJob(ctx, e.job, "manual", true)
			if !fired.Load() {
				// Dispositions happen in a later run: crash there.
				_, err = r.RunJob(ctx, e.job, "manual", true)
			}
			if !fired.Load() || !errors.Is(err, fetch.ErrCrash) {
				t.Fatalf("got %v (fired %v), want the injected crash", err, fired.Load())
			}
			if left := e.serverState(); len(left) != len(ids) {
				t.Fatalf("after the crash: got %d messages on the server, want all %d (no QUIT, no deletion)", len(left), len(ids))
			}
			if err := e.store.ReleaseLease(ctx, e.job.ID, leaseOwner(t, e)); err != nil {
				t.Fatal(err)
			}
			r.stop()
			r = e.start(pipeline.Config{Opener: e.pop3Opener(nil)})
			runJob(t, r, e)
			last := runJob(t, r, e)
			if last[0].Fetched != 0 {
				t.Errorf("final run fetched %d, want 0", last[0].Fetched)
			}
			e.assertExactlyOnce(ids)
			if left := e.serverState(); len(left) != 0 {
				t.Errorf("got %d messages left, want none once every outcome was recorded", len(left))
			}
		})
	}
}

// TestPOP3QUITLostDeletesNothingAndIsRetried: the connection breaks after
// the DELEs, before QUIT reaches the server. The server deletes nothing
// (RFC 1939 section 6), so the ledger must not say the messages were
// disposed: the next run deletes them, and no message makes two requests.
func TestPOP3QUITLostDeletesNothingAndIsRetried(t *testing.T) {
	e := newPOP3Env(t, false)
	raws, ids := generate(t, 6, 71)
	e.deliver(raws...)
	proxy := mailboxtest.NewFaultProxy(t, net.JoinHostPort(e.job.Server.Host, strconv.Itoa(e.job.Server.Port)))
	viaProxy := fetch.OpenerFunc(func(ctx context.Context, j *job.Job) (mailbox.Session, error) {
		srv := j.Server
		srv.Host, srv.Port = "127.0.0.1", proxy.Addr().Port
		return pop3box.Open(ctx, pop3box.Config{Server: srv, Credentials: secrets.Credentials{Username: e.user, Password: password}})
	})
	var cut atomic.Bool
	crash := func(step fetch.Step, _ []string) error {
		if step == fetch.AfterDispose && cut.CompareAndSwap(false, true) {
			proxy.Close() // DELE went through; QUIT will not
		}
		return nil
	}
	r := e.start(pipeline.Config{Opener: viaProxy, Crash: crash})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := r.RunJob(ctx, e.job, "manual", true); err != nil {
		t.Logf("first run: %v", err)
	}
	if !cut.Load() {
		t.Fatal("no disposition happened")
	}
	if left := e.serverState(); len(left) != len(ids) {
		t.Fatalf("after the lost QUIT: got %d messages on the server, want all %d", len(left), len(ids))
	}
	pending, err := e.store.Undisposed(ctx, e.job.ID, 0)
	if err != nil || len(pending) != len(ids) {
		t.Fatalf("got %d undisposed ledger entries (%v), want %d: a deletion the server never committed is not done", len(pending), err, len(ids))
	}
	r.stop()
	r = e.start(pipeline.Config{Opener: e.pop3Opener(nil)})
	runJob(t, r, e)
	if left := e.serverState(); len(left) != 0 {
		t.Errorf("after the next run: got %d messages left, want none", len(left))
	}
	e.assertExactlyOnce(ids)
}
