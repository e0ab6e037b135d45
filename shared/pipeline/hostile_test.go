package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/fetch"
	"mailconnector/shared/job"
	"mailconnector/shared/mailgen"
	"mailconnector/shared/pipeline"
	"mailconnector/shared/store"
	"mailconnector/shared/testkit/dovecottest"
)

// TestHostileCorpusGetsAnOutcome delivers the hostile corpus (the small
// variants of its huge messages) to Dovecot and runs a job over IMAP and
// over POP3 through the whole local pipeline: the run finishes, every
// message is fetched and ends with a recorded outcome, and those over a
// hard limit fail with the limit named.
func TestHostileCorpusGetsAnOutcome(t *testing.T) {
	corpus := mailgen.Hostile(&mailgen.HostileOptions{Small: true})
	raws := make([][]byte, len(corpus))
	for i, c := range corpus {
		raws[i] = c.Raw
	}
	tests := []struct {
		name   string
		env    func(t *testing.T) *env
		opener func(e *env) fetch.Opener
	}{
		{"imap", func(t *testing.T) *env {
			return newEnv(t, func(j *job.Job) { j.Limits.BatchSize = 50 })
		}, func(e *env) fetch.Opener { return e.opener("") }},
		{"pop3", func(t *testing.T) *env {
			return newEnv(t, func(j *job.Job) {
				j.Server.Protocol = job.POP3
				j.Server.Port = dovecot.Port(dovecottest.POP3)
				j.Limits.BatchSize = 50
			})
		}, func(e *env) fetch.Opener { return e.pop3Opener(nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.env(t)
			e.deliver(raws...)
			r := e.start(pipeline.Config{Opener: tt.opener(e), Visibility: 5 * time.Second})
			start := time.Now()
			runs := runJob(t, r, e)
			fetched := 0
			for _, run := range runs {
				fetched += run.Fetched + run.Duplicates
			}
			if fetched != len(corpus) {
				t.Errorf("got %d messages fetched, want %d (errors %q)", fetched, len(corpus), runs[len(runs)-1].Errors)
			}
			ctx := context.Background()
			left, err := e.store.Unfinished(ctx, e.job.ID, time.Now().Add(time.Hour), 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range left {
				t.Errorf("message %s (%s): got state %s, want an outcome", l.Key, l.MessageID, l.State)
			}
			checked, unread := 0, []string(nil)
			for _, c := range corpus {
				if !bytes.Contains(c.Raw, []byte("<"+c.Name+"@hostile.example>")) {
					continue
				}
				ent, err := e.store.EntryByMessageID(ctx, e.job.ID, c.Name+"@hostile.example")
				if errors.Is(err, store.ErrNotFound) {
					// The fetch stage could not read this header's
					// Message-ID; the entry is still counted above and
					// was not left unfinished.
					unread = append(unread, c.Name)
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				checked++
				switch {
				case !ent.State.Final():
					t.Errorf("%s: got state %s, want an outcome", c.Name, ent.State)
				case c.Want == mailgen.Failed && (ent.State != "failed" || !strings.Contains(ent.Reason, "limits.")):
					t.Errorf("%s: got state %s reason %q, want failed naming the limit", c.Name, ent.State, ent.Reason)
				case c.Want == mailgen.Failed && ent.RawKey == "":
					t.Errorf("%s: got no raw copy, want it kept", c.Name)
				}
			}
			t.Logf("%d messages, %d checked by Message-ID (recorded without it: %q), in %v", len(corpus), checked, unread, time.Since(start))
		})
	}
}
