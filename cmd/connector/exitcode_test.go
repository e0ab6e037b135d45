package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mailconnector/shared/mailbox/mailboxtest"
	"mailconnector/shared/testkit/dovecottest"
)

// TestRunOnceExitCodes runs `connector run --once` against Dovecot and bad
// jobs files, and checks each documented exit code.
func TestRunOnceExitCodes(t *testing.T) {
	u := userWith(t, mailboxtest.Message("exit-code@example.com", 100))
	wrong := newUser(t, plain, true)
	empty := newUser(t, plain, false)
	imap := func(port int, user string) string {
		return fmt.Sprintf("{protocol: imap, host: %s, port: %d, security: none, auth: {secret: %s}}", plain.Host, port, user)
	}
	port := plain.Port(dovecottest.IMAP)
	notAFile := filepath.Join(t.TempDir(), "state-is-a-file")
	if err := os.WriteFile(notAFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		jobs  string
		extra []string
		state string
		code  int
		msg   string
	}{
		{name: "processed", jobs: writeJobsServer(t, imap(port, u), ""), code: exitProcessed},
		{name: "nothing new", jobs: writeJobsServer(t, imap(port, empty), ""), code: exitNothingNew},
		{name: "connection", jobs: writeJobsServer(t, imap(1, u), ""), code: exitConnection, msg: "TCP failed"},
		{name: "authentication", jobs: writeJobsServer(t, imap(port, wrong), ""), code: exitAuth, msg: "authentication failed"},
		{name: "bad jobs file", jobs: writeJobsServer(t, imap(port, u), "    incoming: {onSuccess: shred}\n"), code: exitConfig, msg: `incoming.onSuccess: "shred"`},
		{name: "unknown job", jobs: writeJobsServer(t, imap(port, u), ""), extra: []string{"--job", "nosuch"}, code: exitConfig, msg: `no job "nosuch"`},
		{name: "missing secret", jobs: writeJobsServer(t, imap(port, "no-such-secret"), ""), code: exitConfig, msg: "no-such-secret"},
		{name: "unknown flag", jobs: writeJobsServer(t, imap(port, u), ""), extra: []string{"--frobnicate"}, code: exitConfig, msg: "unknown flag"},
		{name: "state unusable", jobs: writeJobsServer(t, imap(port, u), ""), state: notAFile, code: exitOther, msg: "state directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := tt.state
			if state == "" {
				state = t.TempDir()
			}
			args := append([]string{"run", "--once", "--jobs", tt.jobs, "--state", state}, tt.extra...)
			out, _, err := cli(t, args...)
			code, msg := exitMsg(err)
			if code != tt.code {
				t.Fatalf("got exit %d (%q)\n%s\nwant %d", code, msg, out, tt.code)
			}
			if !strings.Contains(out+msg, tt.msg) {
				t.Errorf("got %q, want it to contain %q", out+msg, tt.msg)
			}
			if strings.Count(out+msg, "job support: job support") > 0 {
				t.Errorf("got %q, want the job named once", out+msg)
			}
		})
	}
}
