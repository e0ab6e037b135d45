package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/connect"
	"mailconnector/shared/fetch"
	"mailconnector/shared/job"
	"mailconnector/shared/mailbox/mailauth"
	"mailconnector/shared/pipeline"
	"mailconnector/shared/secrets"
	"mailconnector/shared/secrets/secretstest"
	"mailconnector/shared/testkit/ewstest"
)

// ewsEnv is an ews job on an ewstest mailbox, signed in with Basic
// authentication at the server's explicit URL.
type ewsEnv struct {
	*env
	srv     *ewstest.Server
	mailbox string
	opener  connect.Opener
}

func newEWSEnv(t *testing.T, edit func(j *job.Job)) *ewsEnv {
	t.Helper()
	srv := ewstest.Start(t)
	mbx := fmt.Sprintf("desk%d@contoso.example", userSeq.Add(1))
	srv.AddUser(mbx, "pw-ews", mbx)
	e := newEnv(t, func(j *job.Job) {
		j.Server = job.Server{Protocol: job.EWS, EWS: &job.EWSSettings{URL: srv.URL() + "/EWS/Exchange.asmx"},
			Auth: job.Auth{Secret: "ews-desk"}, Timeout: job.Duration(5 * time.Second)}
		if edit != nil {
			edit(j)
		}
	})
	o := connect.Opener{Secrets: secretstest.Map{"ews-desk": {Username: mbx, Password: "pw-ews"}}, Tokens: &mailauth.Tokens{}}
	return &ewsEnv{env: e, srv: srv, mailbox: mbx, opener: o}
}

func (w *ewsEnv) deliver(raws ...[]byte) {
	for _, raw := range raws {
		w.srv.Deliver(w.mailbox, "Inbox", raw)
	}
}

// folders counts the mailbox's messages by folder ("Inbox read",
// "Inbox unread", "Deleted Items", …).
func (w *ewsEnv) folders() map[string]int {
	got := map[string]int{}
	for _, m := range w.srv.Messages(w.mailbox) {
		switch {
		case m.Folder == "Inbox" && m.Read:
			got["Inbox read"]++
		case m.Folder == "Inbox":
			got["Inbox unread"]++
		default:
			got[m.Folder]++
		}
	}
	return got
}

func TestEWSJobEndToEnd(t *testing.T) {
	w := newEWSEnv(t, nil)
	raws, ids := generate(t, 12, 81)
	w.deliver(raws...)
	r := w.start(pipeline.Config{Opener: w.opener})
	runs := runJob(t, r, w.env)
	if runs[0].Fetched != len(ids) {
		t.Errorf("got %d fetched, want %d", runs[0].Fetched, len(ids))
	}
	w.assertExactlyOnce(ids)
	if got := w.folders(); got["Inbox read"] != len(ids) || len(got) != 1 {
		t.Errorf("got %v, want all %d read in the Inbox", got, len(ids))
	}
	// The sync state makes the next run find only new mail.
	more, moreIDs := generate(t, 3, 82)
	w.deliver(more...)
	if runs := runJob(t, r, w.env); runs[0].Fetched != 3 {
		t.Errorf("second run: got %d fetched, want 3", runs[0].Fetched)
	}
	w.assertExactlyOnce(append(ids, moreIDs...))
	if runs := runJob(t, r, w.env); runs[0].Fetched != 0 {
		t.Errorf("third run: got %d fetched, want 0", runs[0].Fetched)
	}
}

// TestEWSDispositions runs a job with each disposition: 3 messages that
// make requests and one the statements reject.
func TestEWSDispositions(t *testing.T) {
	tests := []struct {
		name string
		edit func(j *job.Job)
		want map[string]int
	}{
		{"markRead", nil, map[string]int{"Inbox read": 3, "Connector Errors": 1}},
		{"delete to Deleted Items", func(j *job.Job) { j.Incoming.OnSuccess = job.Delete }, map[string]int{"Deleted Items": 3, "Connector Errors": 1}},
		{"delete with hardDelete", func(j *job.Job) { j.Incoming.OnSuccess = job.Delete; j.Server.EWS.HardDelete = true }, map[string]int{"Connector Errors": 1}},
		{"delete with purge", func(j *job.Job) { j.Incoming.OnSuccess = job.Delete; j.Incoming.Purge = true }, map[string]int{"Connector Errors": 1}},
		{"move, errors to a named folder", func(j *job.Job) {
			j.Incoming.OnSuccess, j.Incoming.MoveTo = job.Move, "Inbox/Done"
			j.Incoming.OnError.Folder = "Inbox/Rejected"
		}, map[string]int{"Inbox/Done": 3, "Inbox/Rejected": 1}},
		{"rejected mail marked read", func(j *job.Job) { j.Incoming.OnError.Action = job.MarkRead }, map[string]int{"Inbox read": 4}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newEWSEnv(t, func(j *job.Job) {
				j.Processing.Statements = []job.Statement{
					{Name: "no spam", When: &job.Condition{Field: "subject", Op: "contains", Value: "[spam]"}, Action: "reject", Reason: "spam"},
					{Name: "all", Action: "create"},
				}
				if tt.edit != nil {
					tt.edit(j)
				}
			})
			raws, ids := generate(t, 3, int64(90+i))
			w.deliver(raws...)
			w.deliver([]byte("From: a@example.com\r\nTo: help@contoso.example\r\nSubject: [spam] buy\r\nMessage-ID: <spam1@example.com>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nbuy now\r\n"))
			r := w.start(pipeline.Config{Opener: w.opener})
			runJob(t, r, w.env)
			w.assertExactlyOnce(ids)
			if got := w.folders(); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if runs := runJob(t, r, w.env); runs[0].Fetched != 0 {
				t.Errorf("after the dispositions: got %d fetched, want 0", runs[0].Fetched)
			}
		})
	}
}

func TestEWSCrashAtEveryStepLosesNothingAndDuplicatesNothing(t *testing.T) {
	steps := []fetch.Step{fetch.AfterBlob, fetch.AfterLedger, fetch.AfterEnqueue,
		fetch.AfterCursor, fetch.BeforeDispose, fetch.AfterDispose}
	for _, step := range steps {
		t.Run(string(step), func(t *testing.T) {
			w := newEWSEnv(t, func(j *job.Job) { j.Limits.BatchSize = 4 })
			raws, ids := generate(t, 10, int64(100+len(step)))
			w.deliver(raws...)
			// The first time: a run of 10 reaches some steps once only.
			crash, fired := crashOnce(step, 1)
			r := w.start(pipeline.Config{Opener: w.opener, Crash: crash})
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			_, err := r.RunJob(ctx, w.job, "manual", true)
			if !fired.Load() || !errors.Is(err, fetch.ErrCrash) {
				t.Fatalf("got %v (fired %v), want the injected crash at %s", err, fired.Load(), step)
			}
			if err := w.store.ReleaseLease(ctx, w.job.ID, leaseOwner(t, w.env)); err != nil {
				t.Fatal(err)
			}
			r.stop()
			r = w.start(pipeline.Config{Opener: w.opener})
			if _, err := r.RunJob(ctx, w.job, "manual", true); err != nil {
				t.Fatalf("rerun: %v", err)
			}
			if runs := runJob(t, r, w.env); runs[0].Fetched != 0 {
				t.Errorf("final run fetched %d, want 0", runs[0].Fetched)
			}
			w.assertExactlyOnce(ids)
			if got := w.folders(); got["Inbox read"] != len(ids) || len(got) != 1 {
				t.Errorf("got %v, want all %d read in the Inbox", got, len(ids))
			}
		})
	}
}

// TestEWSAutodiscoverJob finds the EWS URL from the mailbox address
// through the DNS SRV record, as a job with server.ews.autodiscover does.
func TestEWSAutodiscoverJob(t *testing.T) {
	srv, ca := ewstest.StartTLS(t)
	mbx := fmt.Sprintf("desk%d@example.com", userSeq.Add(1))
	srv.AddUser(mbx, "pw-ews", mbx)
	dns := ewstest.StartDNS(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.TLSURL(), "https://"))
	p, _ := net.LookupPort("tcp", port)
	dns.AddA("example.com", net.IPv4(127, 0, 0, 1))
	dns.AddSRV("_autodiscover._tcp.example.com", "example.com", uint16(p))
	e := newEnv(t, func(j *job.Job) {
		j.Server = job.Server{Protocol: job.EWS, EWS: &job.EWSSettings{Autodiscover: true, Mailbox: mbx}, CAFile: ca,
			Auth: job.Auth{Secret: "ews-desk"}, Timeout: job.Duration(5 * time.Second)}
	})
	raws, ids := generate(t, 5, 110)
	for _, raw := range raws {
		srv.Deliver(mbx, "Inbox", raw)
	}
	o := connect.Opener{Secrets: secretstest.Map{"ews-desk": secrets.Credentials{Username: mbx, Password: "pw-ews"}}, Resolver: dns.Resolver()}
	r := e.start(pipeline.Config{Opener: o})
	if runs := runJob(t, r, e); runs[0].Fetched != len(ids) {
		t.Errorf("got %d fetched, want %d", runs[0].Fetched, len(ids))
	}
	e.assertExactlyOnce(ids)
	if srv.Count("GetUserSettings") == 0 {
		t.Error("the job did not ask SOAP Autodiscover")
	}
}
