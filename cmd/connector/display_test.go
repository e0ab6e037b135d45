package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/ledger"
	"mailconnector/shared/message"
	"mailconnector/shared/request"
	"mailconnector/shared/run"
	"mailconnector/shared/store"
)

// hostile holds what a raw header value stored before normalization
// stripped it could carry: a window title, a clear screen, a C1 CSI, a
// bidi override and a CR/LF.
const hostile = "hi\x1b]0;title\x07\x1b[2J\u009b2J\u202etxt.exe\r\nBcc: x@y"

// seedHostile stores a request, a conversation and a run whose header
// derived values hold control characters, as a state written by an older
// version might.
func seedHostile(tb testing.TB, dir string) {
	tb.Helper()
	st := openState(tb, dir)
	defer st.Close()
	ctx := context.Background()
	now := time.Now()
	e := ledger.Entry{JobID: "demo", Key: "k1", Source: ledger.Source{Protocol: "imap", Folder: "INBOX", Validity: 1, UID: 1},
		Fingerprint: ledger.Fingerprint("<k1@example.com>", strings.Repeat("0", 64)), MessageID: "<k1@example.com>",
		RawKey: "raw/demo/k1", State: ledger.Queued, RunID: "run-1", FetchedAt: now, UpdatedAt: now}
	if res, err := st.Record(ctx, []ledger.Entry{e}); err != nil || res[0].Err != nil {
		tb.Fatalf("Record: %v %v", err, res)
	}
	e.Version, e.State, e.UpdatedAt = 1, ledger.Processed, now
	evil := message.Address{Name: hostile, Address: "evil\x1b[2J@example.org"}
	_, err := st.Commit(ctx, store.Outcome{
		Entry:        e,
		NewRequest:   &request.Request{JobID: "demo", Title: hostile, Requester: evil, Status: request.Open, CreatedAt: now, UpdatedAt: now, SourceKey: "k1"},
		Conversation: &request.Conversation{ID: "c1", JobID: "demo", From: evil, Subject: hostile, Text: "text " + hostile, SourceKey: "k1", CreatedAt: now, Attachments: []message.Attachment{{Filename: hostile + ".pdf", Dropped: hostile}}},
	})
	if err != nil {
		tb.Fatalf("Commit: %v", err)
	}
	if err := st.PutRun(ctx, run.Run{ID: "run-1", JobID: "demo", StartedAt: now, EndedAt: now, Status: "ok", Trigger: "manual",
		Notes: []string{"note " + hostile}, Errors: []string{"error " + hostile}}); err != nil {
		tb.Fatalf("PutRun: %v", err)
	}
}

// TestOutputHasNoControlCharacters shows stored hostile values through the
// CLI: they appear escaped, never raw.
func TestOutputHasNoControlCharacters(t *testing.T) {
	dir := t.TempDir()
	seedHostile(t, dir)
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{name: "requests", args: []string{"requests", "--state", dir}, want: `hi\x1b]0;title`},
		{name: "one request", args: []string{"requests", "1", "--state", dir}, want: `Bcc: x@y`},
		{name: "runs", args: []string{"runs", "demo", "--state", dir}, want: `note hi\x1b]0;title`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := cli(t, tt.args...)
			if err != nil {
				t.Fatalf("%v: %v\n%s", tt.args, err, errOut)
			}
			for _, s := range []string{out, errOut} {
				for _, r := range s {
					if r == 0x1b || r == 0x07 || r == '\r' || r >= 0x80 && r <= 0x9f || r == 0x202e {
						t.Errorf("output: got %U in %q, want no control character", r, s)
						break
					}
				}
			}
			if !strings.Contains(out, tt.want) {
				t.Errorf("output: got %q, want it to contain %q", out, tt.want)
			}
		})
	}
}
