package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"mailconnector/shared/mailbox/mailboxtest"
	"mailconnector/shared/testkit/ewstest"
)

// TestTraceOfTestAndRuns: connector test --trace prints the conversation;
// a job with debug.trace stores its run's trace, runs names it and
// runs --trace RUN prints it; neither holds the password or the message.
func TestTraceOfTestAndRuns(t *testing.T) {
	srv := ewstest.Start(t)
	address, secret := ewsUser(t, srv)
	srv.Deliver(address, "Inbox", mailboxtest.Message("traced@ews.example", 200))
	url := srv.URL() + "/EWS/Exchange.asmx"
	jobs := writeJobsServer(t, fmt.Sprintf("{protocol: ews, ews: {url: %q}, auth: {secret: %s}}", url, secret), "    debug: {trace: true}\n")
	clean := func(what, out string) {
		t.Helper()
		if strings.Contains(out, "pw-"+secret) || strings.Contains(out, "traced@ews.example") {
			t.Errorf("%s: the trace shows the password or the message:\n%s", what, out)
		}
		for _, w := range []string{"http C: POST " + url, "Authorization: [not recorded]", `ResponseClass="Success"`} {
			if !strings.Contains(out, w) {
				t.Errorf("%s: got\n%s\nwant it to contain %q", what, out, w)
			}
		}
	}

	out, _, err := cli(t, "test", "support", "--trace", "--jobs", jobs)
	if err != nil {
		t.Fatalf("test --trace: %v\n%s", err, out)
	}
	if !strings.Contains(out, "connection OK") || !strings.Contains(out, "protocol trace") {
		t.Errorf("test --trace: got\n%s", out)
	}
	clean("test --trace", out)

	state := t.TempDir()
	if out, _, err := cli(t, "run", "--once", "--jobs", jobs, "--state", state); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	out, _, err = cli(t, "runs", "support", "--jobs", jobs, "--state", state)
	if err != nil {
		t.Fatalf("runs: %v", err)
	}
	m := regexp.MustCompile(`trace: connector runs support --trace (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("runs: got\n%s\nwant a trace named", out)
	}
	out, _, err = cli(t, "runs", "support", "--trace", m[1], "--state", state)
	if err != nil {
		t.Fatalf("runs --trace: %v", err)
	}
	clean("runs --trace", out)
	// The stored trace is sealed with the error details' key: the state
	// directory holds no readable copy.
	stored, err := os.ReadFile(filepath.Join(state, "blobs", "traces", "support", m[1]+".txt"))
	if err != nil {
		t.Fatalf("the stored trace: %v", err)
	}
	if strings.Contains(string(stored), "ResponseClass") || strings.Contains(string(stored), "POST") {
		t.Errorf("the trace is stored readable in the state directory:\n%.300s", stored)
	}

	// run --once --trace records a trace for a job whose debug.trace is off.
	plain := writeJobsServer(t, fmt.Sprintf("{protocol: ews, ews: {url: %q}, auth: {secret: %s}}", url, secret), "")
	srv.Deliver(address, "Inbox", mailboxtest.Message("second@ews.example", 200))
	state2 := t.TempDir()
	out, _, err = cli(t, "run", "--once", "--trace", "--jobs", plain, "--state", state2)
	if err != nil {
		t.Fatalf("run --trace: %v\n%s", err, out)
	}
	m = regexp.MustCompile(`trace: connector runs support --trace (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("run --once --trace: got\n%s\nwant the trace named", out)
	}
	out, _, err = cli(t, "runs", "support", "--trace", m[1], "--state", state2)
	if err != nil {
		t.Fatalf("runs --trace after run --trace: %v", err)
	}
	if !strings.Contains(out, "http C: POST "+url) || strings.Contains(out, "pw-"+secret) {
		t.Errorf("runs --trace after run --trace: got\n%s", out)
	}

	_, _, err = cli(t, "runs", "support", "--trace", "20260101T000000Z-00000000", "--state", state)
	if code, msg := exitMsg(err); code != 1 || !strings.Contains(msg, "has no trace") {
		t.Errorf("runs --trace of a run without one: got exit %d %q, want 1 saying it has no trace", code, msg)
	}
}
