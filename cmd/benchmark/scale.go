package main

import (
	"context"
	"fmt"
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
// compares with the smallest: whether a message costs more as the backlog
// grows.
func runScale(ctx context.Context, bin, work string, srv *dovecottest.Server, sizes string, seed int64) error {
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
		m, err := runConnector(ctx, bin, userEnv(name), "run", "--once", "--jobs", jobs, "--state", filepath.Join(work, "state-"+name))
		if err != nil {
			return fmt.Errorf("end-to-end run on %d messages: %w", n, err)
		}
		rs = append(rs, result{n, float64(total) / (1 << 20), m})
	}
	fmt.Println()
	tableHead()
	for _, r := range rs {
		tableRow(fmt.Sprintf("connector end to end, %d messages", r.n), r.n, r.mb, r.m)
	}
	fmt.Println()
	base := rs[0].m.wall.Seconds() / float64(rs[0].n)
	for _, r := range rs[1:] {
		per := r.m.wall.Seconds() / float64(r.n)
		fmt.Printf("time per message at %d / at %d: %+.0f%%\n", r.n, rs[0].n, (per/base-1)*100)
	}
	return nil
}
