package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"mailconnector/shared/mailbox/mailboxtest"
)

// TestCommandLine: flags before or after the arguments, the subject
// token as a request id, unknown job names, version, completion and the
// log flags.
func TestCommandLine(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := cli(t, "run", "--state", dir); err != nil {
		t.Fatalf("demo run: %v", err)
	}
	state := filepath.Join(dir, "demo")
	jobs := writeJobsServer(t, "{protocol: imap, host: h, security: tls, auth: {secret: s}}", "")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"flags before the argument", []string{"requests", "--state", state, "1"}, 0, "Request #1: Printer on 3rd floor not printing"},
		{"subject token", []string{"requests", "REQ-000001", "--state", state}, 0, "Request #1: Printer on 3rd floor not printing"},
		{"subject token in brackets", []string{"requests", "[REQ-000002]", "--state", state}, 0, "Request #2:"},
		{"unknown request", []string{"requests", "REQ-999999", "--state", state}, 1, "no request REQ-999999"},
		{"runs of an unknown job", []string{"runs", "nosuch", "--jobs", jobs, "--state", state}, 2, `no job "nosuch" in the jobs file (jobs: support)`},
		{"runs of a job never run", []string{"runs", "nosuch", "--state", state}, 1, `no runs of job "nosuch"`},
		{"runs of a known job", []string{"runs", "demo", "--state", state}, 0, "SIZE"},
		{"version", []string{"version"}, 0, "connector "},
		{"completion", []string{"completion", "bash"}, 0, "bash completion"},
		{"help", []string{"--help"}, 0, "Available Commands"},
		{"bad log format", []string{"runs", "demo", "--log-format", "xml", "--state", state}, 2, "want text or json"},
		{"too many arguments", []string{"requests", "1", "2", "--state", state}, 2, "usage: connector requests"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := cli(t, tt.args...)
			code, msg := exitMsg(err)
			if code != tt.code || !strings.Contains(out+msg, tt.want) {
				t.Errorf("got exit %d\n%s%s\nwant %d with %q", code, out, msg, tt.code, tt.want)
			}
		})
	}

	// -q keeps the log to warnings and errors; --log-format json writes
	// JSON lines.
	fresh := t.TempDir()
	_, errOut, err := cli(t, "run", "--state", fresh, "-v", "--log-format", "json")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	var rec map[string]any
	if len(lines) == 0 || json.Unmarshal([]byte(lines[0]), &rec) != nil || rec["level"] == nil {
		t.Errorf("--log-format json: got %q, want JSON lines", errOut)
	}
	u := userWith(t, mailboxtest.Message("q1@example.com", 100), mailboxtest.Message("q2@example.com", 100))
	mailJobs := writeJobs(t, plain, u, "")
	for _, tt := range []struct {
		name  string
		flags []string
		info  bool
	}{
		{"default", nil, true},
		{"quiet", []string{"-q"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"run", "--once", "--jobs", mailJobs, "--state", t.TempDir()}, tt.flags...)
			_, errOut, err := cli(t, args...)
			if code, msg := exitMsg(err); code > exitNothingNew {
				t.Fatalf("got exit %d %q", code, msg)
			}
			if got := strings.Contains(errOut, "level=INFO"); got != tt.info {
				t.Errorf("got info lines %v, want %v:\n%s", got, tt.info, errOut)
			}
		})
	}
}
