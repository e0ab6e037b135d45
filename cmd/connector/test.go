package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"mailconnector/shared/mailbox"
)

// cmdTest is Test Connection: connect, secure, authenticate, open the
// folder, and report what the server offers. On failure it prints one
// line naming the step that failed and exits 1.
func cmdTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlagSet("test", stderr)
	c.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &exitError{code: 2, msg: "usage: connector test JOB [--jobs FILE] [--state DIR]"}
	}
	jobs, err := c.loadJobs()
	if err != nil {
		return err
	}
	j, err := findJob(jobs, pos[0])
	if err != nil {
		return err
	}
	b, err := c.backend(ctx)
	if err != nil {
		return err
	}
	defer b.close()
	o := opener{Secrets: b.secrets, Logger: c.logger(io.Discard)}
	sess, err := o.Open(ctx, j)
	if err != nil {
		var ce *mailbox.ConnectError
		if errors.As(err, &ce) {
			return &exitError{code: 1, msg: fmt.Sprintf("job %s: %s failed: %v", j.ID, ce.Step, ce.Err)}
		}
		return &exitError{code: 1, msg: fmt.Sprintf("job %s: %v", j.ID, err)}
	}
	defer sess.Close()
	info := sess.Info()
	fmt.Fprintf(stdout, "job %s: connection OK\n", j.ID)
	fmt.Fprintf(stdout, "  server:       %s (%s, security %s)\n", info.Server, info.Protocol, info.Security)
	fmt.Fprintf(stdout, "  folder:       %s (delimiter %q)\n", info.Folder, info.Delimiter)
	unseen := fmt.Sprint(info.Unseen)
	if info.Unseen < 0 {
		unseen = "unknown"
	}
	fmt.Fprintf(stdout, "  messages:     %d (%s unseen)\n", info.Messages, unseen)
	fmt.Fprintf(stdout, "  capabilities: %s\n", strings.Join(info.Capabilities, " "))
	for _, n := range info.Notes {
		fmt.Fprintf(stdout, "  note:         %s\n", n)
	}
	return nil
}
