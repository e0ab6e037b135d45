package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// terminal opens a pseudo-terminal (pty(7)): what the test writes to
// keyboard, reset reads from screen as typed on a terminal.
func terminal(t *testing.T) (keyboard, screen *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("name the pseudo-terminal: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open the pseudo-terminal's end: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// TestResetAsks: on a terminal reset says what it forgets, warns that
// the mail will be fetched again, and resets on y only.
func TestResetAsks(t *testing.T) {
	jobs, state := resetFixture(t)
	keyboard, screen := terminal(t)
	withConfirmIn(t, screen)

	if _, err := keyboard.WriteString("n\n"); err != nil {
		t.Fatal(err)
	}
	_, errOut, err := cli(t, "reset", "support", "--jobs", jobs)
	if code, msg := exitMsg(err); code != 1 || !strings.Contains(msg, "job support not reset: nothing changed") {
		t.Errorf("reset answered n: got exit %d %q", code, msg)
	}
	for _, want := range []string{"Reset job support in " + state + ":", "forget its cursor and its ledger", "delete its local objects",
		"fetched again at its next run", "it may make requests again", "Reset job support? [y/N] "} {
		if !strings.Contains(errOut, want) {
			t.Errorf("prompt: got\n%s\nwant %q", errOut, want)
		}
	}
	if got := listed(t); len(got) != 2 {
		t.Fatalf("messages after reset answered n: got %d, want 2", len(got))
	}

	if _, err := keyboard.WriteString("y\n"); err != nil {
		t.Fatal(err)
	}
	out, _, err := cli(t, "reset", "support", "--jobs", jobs)
	if err != nil || !strings.Contains(out, "forgot its ledger (2 entries) and its cursor") {
		t.Fatalf("reset answered y: got %v\n%s", err, out)
	}
	if got := listed(t); len(got) != 0 {
		t.Errorf("messages after reset: got %d, want none", len(got))
	}
}
