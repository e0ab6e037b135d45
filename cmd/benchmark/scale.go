package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"mailconnector/shared/testkit/dovecottest"
)

// runScale runs the pipeline end to end once on a mailbox of each size in
// sizes ("1000,10000,50000"), each its own Dovecot user seeded from the
// same generator and seed (so the mix is the same), into a fresh state.
// It prints a row per size and how the time per message at each size
// compares with the smallest and with the size before: whether a message
// costs more as the backlog grows.
//
// Unless keep, a size's mailbox and state are deleted once its run is
// measured: a 50,000-message mailbox is 7 GB, its blobs as much again, and
// on a machine with less memory than every size's files together the
// kernel would be reclaiming page cache while the largest run is timed.
func runScale(ctx context.Context, bin, work string, srv *dovecottest.Server, sizes string, seed int64, keep bool) error {
	var ns []int
	for _, f := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return fmt.Errorf("-scale %q: %q is not a number of messages", sizes, f)
		}
		ns = append(ns, n)
	}
	fmt.Printf("Mail Connector scaling: end to end on mailboxes of %s messages (mailgen's mix, seed %d), work directory %s\n", sizes, seed, work)
	type result struct {
		n  int
		mb float64
		m  measure
	}
	var rs []result
	for _, n := range ns {
		name := fmt.Sprintf("scale%d", n)
		if err := addUser(ctx, srv, name); err != nil {
			return err
		}
		start := time.Now()
		total, err := seedMailbox(srv, name, n, seed)
		if err != nil {
			return err
		}
		fmt.Printf("seeded %d messages, %.1f MB, in %s\n", n, float64(total)/(1<<20), time.Since(start).Round(time.Millisecond))
		jobs := filepath.Join(work, name+".yaml")
		if err := writeJobs(jobs, srv, name); err != nil {
			return err
		}
		state := filepath.Join(work, "state-"+name)
		m, err := runConnector(ctx, bin, userEnv(name), "run", "--once", "--jobs", jobs, "--state", state)
		if err != nil {
			return fmt.Errorf("end-to-end run on %d messages: %w", n, err)
		}
		if !keep {
			if _, err := srv.Doveadm(ctx, "expunge", "-u", name, "mailbox", "INBOX", "all"); err != nil {
				return fmt.Errorf("empty the %d-message mailbox: %w", n, err)
			}
			if err := os.RemoveAll(state); err != nil {
				return err
			}
		}
		rs = append(rs, result{n, float64(total) / (1 << 20), m})
	}
	fmt.Println()
	tableHead()
	for _, r := range rs {
		tableRow(fmt.Sprintf("connector end to end, %d messages", r.n), r.n, r.mb, r.m)
	}
	fmt.Println()
	// Against the smallest, and against the size before: the smallest
	// run's time per message carries the process start and the run's
	// fixed steps, so the step from one size to the next is what tells
	// whether a message costs more as the backlog grows.
	per := func(r result) float64 { return r.m.wall.Seconds() / float64(r.n) }
	for i, r := range rs[1:] {
		fmt.Printf("time per message at %d / at %d: %+.0f%%", r.n, rs[0].n, (per(r)/per(rs[0])-1)*100)
		if i > 0 {
			fmt.Printf("   at %d / at %d: %+.0f%%", r.n, rs[i].n, (per(r)/per(rs[i])-1)*100)
		}
		fmt.Println()
	}
	return nil
}
