package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"mailconnector/shared/prune"
	"mailconnector/shared/store"
)

// confirmIn is where reset reads its confirmation.
var confirmIn = os.Stdin

// resetLease is how long reset holds the job's lease at a time: while it
// asks, and again while it forgets.
const resetLease = 10 * time.Minute

func newResetCmd(a *app) *cobra.Command {
	var yes bool
	cmd := command("reset JOB [--yes] [--jobs FILE] [--state DIR] [--aws]",
		"forget a job's cursor and ledger, and its local objects, after a confirmation: its next run takes every mail in its folder again", exactArgs(1),
		func(cmd *cobra.Command, args []string) error {
			return cmdReset(cmd.Context(), &a.common, args[0], yes, confirmIn, a.stdout, a.stderr)
		})
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "reset without asking")
	return cmd
}

// cmdReset forgets where job id stands in its mailbox: its cursor, its
// ledger and (locally) its message objects, under the job's lease, once
// the user said yes on the terminal in (or yes is set).
func cmdReset(ctx context.Context, c *common, id string, yes bool, in *os.File, stdout, stderr io.Writer) error {
	if err := c.knownJob(id); err != nil {
		return err
	}
	if !yes && !isTerminal(in) {
		return &exitError{code: 2, msg: fmt.Sprintf("connector: reset asks before it forgets job %s, and the standard input is not a terminal: pass --yes to reset without asking", id)}
	}
	b, err := c.backend(ctx)
	if err != nil {
		return err
	}
	defer b.close()
	owner := "reset-" + time.Now().UTC().Format("20060102T150405Z")
	if err := takeLease(ctx, b.store, id, owner); err != nil {
		return err
	}
	defer b.store.ReleaseLease(context.WithoutCancel(ctx), id, owner)
	if !yes {
		if err := askReset(ctx, c, b.store, id, in, stderr); err != nil {
			return err
		}
		// The answer may have taken a while: hold the lease afresh.
		if err := takeLease(ctx, b.store, id, owner); err != nil {
			return err
		}
	}
	f, err := b.store.ForgetJob(ctx, id)
	if err != nil {
		return fmt.Errorf("reset job %s: %w (reset it again to forget the rest)", id, err)
	}
	fmt.Fprintf(stdout, "job %s reset in %s: forgot its ledger (%s entries)", id, where(c), thousands(int64(f.Entries)))
	if f.Cursor {
		fmt.Fprint(stdout, " and its cursor")
	}
	if c.aws {
		fmt.Fprint(stdout, "; its objects in the bucket stay until the bucket's lifecycle rules expire them")
	} else {
		t, err := prune.RemoveJob(blobDir(c.stateDir), id)
		fmt.Fprintf(stdout, "; removed its %s local objects (%s)", thousands(int64(t.Objects)), size(t.Bytes))
		if err != nil {
			fmt.Fprintln(stdout)
			return fmt.Errorf("reset job %s: %w", id, err)
		}
	}
	fmt.Fprintf(stdout, ". Its runs, requests and conversations stay. Its next run takes every mail in its folder again.\n")
	return nil
}

// takeLease takes the job's lease for owner, or says who holds it.
func takeLease(ctx context.Context, st store.Store, id, owner string) error {
	err := st.AcquireLease(ctx, id, owner, resetLease)
	if errors.Is(err, store.ErrLeaseHeld) {
		held := "another run"
		if l, err := st.Lease(ctx, id); err == nil {
			held = describeLease(l)
		}
		return &exitError{code: 1, msg: fmt.Sprintf("connector: job %s is running: its lease is held by %s; nothing reset: reset it once that run has ended", id, held)}
	}
	if err != nil {
		return fmt.Errorf("reset job %s: take its lease: %w", id, err)
	}
	return nil
}

// describeLease names a lease's holder: "run 20261205T100000Z-1a2b3c4d
// (pid 1234 on host) until 2026-12-05 10:10:00 UTC".
func describeLease(l store.Lease) string {
	s := "run " + l.Owner
	if l.Holder != "" {
		s += " (" + l.Holder + ")"
	}
	return s + " until " + l.Expires.UTC().Format("2006-01-02 15:04:05 UTC")
}

// askReset says what a reset of job id forgets and asks on in; nil when
// the answer is yes.
func askReset(ctx context.Context, c *common, st store.Store, id string, in io.Reader, w io.Writer) error {
	pending, err := st.Unfinished(ctx, id, time.Now().Add(time.Hour), 0)
	if err != nil {
		return fmt.Errorf("reset job %s: %w", id, err)
	}
	waiting, err := st.Undisposed(ctx, id, 0)
	if err != nil {
		return fmt.Errorf("reset job %s: %w", id, err)
	}
	fmt.Fprintf(w, "Reset job %s in %s:\n", id, where(c))
	fmt.Fprintln(w, "  - forget its cursor and its ledger, what became of each message it fetched (its runs, requests and conversations stay);")
	if n := len(pending) + len(waiting); n > 0 {
		fmt.Fprintf(w, "  - %s of its messages have no final outcome yet, or one not yet applied on the server: they are forgotten too;\n", thousands(int64(n)))
	}
	if c.aws {
		fmt.Fprintln(w, "  - its objects in the bucket stay until the bucket's lifecycle rules expire them;")
	} else {
		fmt.Fprintln(w, "  - delete its local objects: raw and normalized messages, attachments, sealed error details.")
	}
	fmt.Fprintln(w, "The mail still in its folder on the server is fetched again at its next run and goes through the processing statements again:")
	fmt.Fprintln(w, "it may make requests again (a message whose Message-ID already made a request makes none).")
	fmt.Fprintf(w, "Reset job %s? [y/N] ", id)
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(in).ReadString('\n')
		answer <- line
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(w)
		return ctx.Err()
	case a := <-answer:
		if a == "" {
			fmt.Fprintln(w)
		}
		switch strings.ToLower(strings.TrimSpace(a)) {
		case "y", "yes":
			return nil
		}
	}
	return &exitError{code: 1, msg: fmt.Sprintf("connector: job %s not reset: nothing changed", id)}
}
