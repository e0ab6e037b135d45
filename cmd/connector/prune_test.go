package main

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/ledger"
)

// age sets the modification time of every object in the state's blob
// directory days back.
func age(t *testing.T, state string, days int) {
	t.Helper()
	at := time.Now().AddDate(0, 0, -days)
	err := filepath.WalkDir(blobDir(state), func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		return os.Chtimes(p, at, at)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func exists(state, key string) bool {
	_, err := os.Stat(filepath.Join(blobDir(state), filepath.FromSlash(key)))
	return err == nil
}

// TestPruneKeepsPendingMail, against Dovecot: prune removes the objects
// of processed mail past retention and keeps the old raw copy of a mail
// fetched but not processed yet, which the next run then processes; a dry
// run removes nothing.
func TestPruneKeepsPendingMail(t *testing.T) {
	u := userWith(t,
		mail("Alice <alice@contoso.example>", "p1@contoso.example", "VPN down"),
		mail("Bob <bob@contoso.example>", "p2@contoso.example", "Printer jammed"),
	)
	jobs := writeJobs(t, plain, u, "    retention: {rawDays: 30, normalizedDays: 90}\n")
	state := firstRun(t, jobs)
	if err := plain.Deliver(u, "INBOX", mail("Carol <carol@contoso.example>", "p3@contoso.example", "Mail quota")); err != nil {
		t.Fatal(err)
	}
	if out, errOut, err := cli(t, "run", "--once", "--fetch-only", "--jobs", jobs); err != nil {
		t.Fatalf("run --fetch-only: %v\n%s\n%s", err, out, errOut)
	}
	var done, pending []string // raw keys
	for _, m := range listed(t) {
		if m.State.Final() {
			done = append(done, m.RawKey)
		} else {
			pending = append(pending, m.RawKey)
		}
	}
	if len(done) != 2 || len(pending) != 1 {
		t.Fatalf("got %d processed and %d pending messages, want 2 and 1", len(done), len(pending))
	}
	age(t, state, 100)

	out, _, err := cli(t, "prune", "--dry-run", "--jobs", jobs)
	for _, want := range []string{"dry run: nothing is removed.", "job support (raw 30 days, normalized 90 days): would remove 2 raw messages",
		"kept 1 past retention for mail not final yet", "not processed yet (queued) (1 object)", "in all: would remove"} {
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("prune --dry-run: got %v, want %q in\n%s", err, want, out)
		}
	}
	for _, k := range append(done, pending...) {
		if !exists(state, k) {
			t.Errorf("prune --dry-run removed %s", k)
		}
	}

	out, _, err = cli(t, "prune", "--jobs", jobs)
	for _, want := range []string{"job support (raw 30 days, normalized 90 days): removed 2 raw messages", "normalized messages and attachments",
		"kept 1 past retention for mail not final yet:", "not processed yet (queued) (1 object)", ". The ledger, runs and requests stay."} {
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("prune: got %v, want %q in\n%s", err, want, out)
		}
	}
	for _, k := range done {
		if exists(state, k) {
			t.Errorf("prune kept %s, past retention", k)
		}
	}
	if !exists(state, pending[0]) {
		t.Fatalf("prune removed %s, which a pending message needs", pending[0])
	}
	if out, errOut, err := cli(t, "run", "--once", "--jobs", jobs); err != nil || !strings.Contains(out, "Mail quota") {
		t.Errorf("run after prune: got %v, want the pending mail made a request\n%s\n%s", err, out, errOut)
	}
	if got := listed(t); len(got) != 3 {
		t.Errorf("messages after prune: got %d, want the ledger kept whole (3)", len(got))
	}

	_, _, err = cli(t, "prune", "--aws", "--jobs", jobs)
	if code, msg := exitMsg(err); code != 2 || !strings.Contains(msg, "lifecycle rules") {
		t.Errorf("prune --aws: got exit %d %q, want 2 pointing to the bucket's lifecycle rules", code, msg)
	}
	_, _, err = cli(t, "prune")
	if code, msg := exitMsg(err); code != 2 || !strings.Contains(msg, "--jobs FILE is required") {
		t.Errorf("prune without a jobs file: got exit %d %q", code, msg)
	}
}

// TestRunnerPrunesDaily: the scheduled runner's prune removes what is
// past retention and says so in the log.
func TestRunnerPrunesDaily(t *testing.T) {
	dir := t.TempDir()
	jobsFile := filepath.Join(dir, "jobs.yaml")
	if err := os.WriteFile(jobsFile, []byte(`jobs:
  - id: support
    server: {protocol: imap, host: 127.0.0.1, port: 1, security: none, auth: {secret: x}}
    retention: {rawDays: 7}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	c := &common{jobsFile: jobsFile, stateDir: dir, logFormat: "text"}
	l, err := startLocalRun(context.Background(), c, &runFlags{}, io.Discard, &log)
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	key := ledger.RawKey("support", "imap/INBOX/1/1")
	if _, err := l.loc.blobs.Put(context.Background(), key, strings.NewReader("From: a@example.com\r\n\r\nhi\r\n")); err != nil {
		t.Fatal(err)
	}
	age(t, dir, 8)
	l.pruneLocal(context.Background())
	if exists(dir, key) {
		t.Errorf("the runner's prune kept %s, past retention", key)
	}
	if !strings.Contains(log.String(), "retention: removed the local objects past the jobs file's retention") || !strings.Contains(log.String(), "removed=1") {
		t.Errorf("log: got\n%s\nwant the prune said with what it removed", log.String())
	}
}
