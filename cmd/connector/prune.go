package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"mailconnector/shared/prune"
)

func newPruneCmd(a *app) *cobra.Command {
	var dry bool
	cmd := command("prune [--dry-run] [--jobs FILE] [--state DIR]",
		"remove the local raw and normalized messages past the jobs file's retention, keeping what mail not final yet needs", exactArgs(0),
		func(cmd *cobra.Command, _ []string) error {
			return cmdPrune(cmd.Context(), &a.common, dry, a.stdout)
		})
	cmd.Flags().BoolVar(&dry, "dry-run", false, "say what would be removed, and remove nothing")
	return cmd
}

// cmdPrune prunes the state directory to the jobs file's retention.
func cmdPrune(ctx context.Context, c *common, dry bool, stdout io.Writer) error {
	if c.aws {
		return &exitError{code: 2, msg: "connector: prune works on the local state directory; on AWS the bucket's lifecycle rules expire the objects, built from the same retention by `cdk deploy`"}
	}
	jobs, err := c.loadJobs()
	if err != nil {
		return err
	}
	loc, err := openLocal(c.stateDir)
	if err != nil {
		return err
	}
	defer loc.Close()
	rep, err := prune.Run(ctx, prune.Options{Dir: blobDir(loc.dir), Blobs: loc.blobs, Jobs: jobs, Ledger: loc.store, DryRun: dry})
	printPrune(stdout, rep)
	if err != nil {
		return fmt.Errorf("prune %s: %w", loc.dir, err)
	}
	return nil
}

// printPrune says, job by job, what a prune removed and what it kept.
func printPrune(w io.Writer, rep prune.Report) {
	verb := "removed"
	if rep.DryRun {
		verb = "would remove"
		fmt.Fprintln(w, "dry run: nothing is removed.")
	}
	for _, j := range rep.Jobs {
		keeps := fmt.Sprintf("raw %s, normalized %s", days(j.Retention.RawDays), days(j.Retention.NormalizedDays))
		if j.Gone {
			keeps = "no longer in the jobs file: kept as long as the longest retention, " + keeps
		}
		var parts []string
		for _, cl := range []struct {
			class prune.Class
			what  string
		}{{prune.Raw, "raw messages"}, {prune.Normalized, "normalized messages and attachments"}, {prune.Trace, "run traces"}} {
			if t := j.Removed[cl.class]; t.Objects > 0 {
				parts = append(parts, fmt.Sprintf("%s %s (%s)", thousands(int64(t.Objects)), cl.what, size(t.Bytes)))
			}
		}
		if len(parts) == 0 {
			fmt.Fprintf(w, "job %s (%s): nothing past retention", j.ID, keeps)
		} else {
			fmt.Fprintf(w, "job %s (%s): %s %s", j.ID, keeps, verb, strings.Join(parts, ", "))
		}
		if len(j.Kept) > 0 {
			fmt.Fprintf(w, "; kept %s past retention for mail not final yet:", thousands(int64(len(j.Kept))))
		}
		fmt.Fprintln(w)
		for _, k := range keptByMessage(j.Kept) {
			fmt.Fprintf(w, "  %s: %s (%s)\n", shown(k.Key), k.Why, plural(k.n, "object"))
		}
	}
	removed, kept := rep.Total()
	fmt.Fprintf(w, "in all: %s %s objects (%s)", verb, thousands(int64(removed.Objects)), size(removed.Bytes))
	if kept > 0 {
		fmt.Fprintf(w, ", kept %s past retention", thousands(int64(kept)))
	}
	fmt.Fprintln(w, ". The ledger, runs and requests stay.")
}

// keptMessage is a message whose objects a prune kept.
type keptMessage struct {
	prune.Kept
	n int // its objects kept
}

// keptByMessage groups kept objects by message, in key order.
func keptByMessage(ks []prune.Kept) []keptMessage {
	by := map[string]*keptMessage{}
	var out []*keptMessage
	for _, k := range ks {
		m, ok := by[k.Key]
		if !ok {
			m = &keptMessage{Kept: k}
			by[k.Key] = m
			out = append(out, m)
		}
		m.n++
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Key < out[b].Key })
	res := make([]keptMessage, len(out))
	for i, m := range out {
		res[i] = *m
	}
	return res
}

func days(n int) string { return plural(n, "day") }

// plural is "1 day", "30 days".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return thousands(int64(n)) + " " + what + "s"
}

// pruneEvery is how often the scheduled local runner prunes: once a day,
// as S3 runs the bucket's lifecycle rules.
const pruneEvery = 24 * time.Hour

// pruneDaily prunes the state directory now and then every pruneEvery
// until ctx ends.
func (l *localRun) pruneDaily(ctx context.Context) {
	for {
		l.pruneLocal(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(pruneEvery):
		}
	}
}

// pruneLocal prunes the state directory once, and logs what it did.
func (l *localRun) pruneLocal(ctx context.Context) {
	rep, err := prune.Run(ctx, prune.Options{Dir: blobDir(l.loc.dir), Blobs: l.loc.blobs, Jobs: l.jobs, Ledger: l.loc.store, Now: l.now})
	removed, kept := rep.Total()
	if err != nil && ctx.Err() == nil {
		l.log.Error("retention: prune of the state directory failed", "removed", removed.Objects, "err", err)
		return
	}
	l.log.Info("retention: removed the local objects past the jobs file's retention (daily, like the bucket's lifecycle rules on AWS; `connector prune --dry-run` shows them)",
		"removed", removed.Objects, "size", size(removed.Bytes), "keptForMailNotFinal", kept)
	for _, j := range rep.Jobs {
		if t := j.Total(); t.Objects > 0 || len(j.Kept) > 0 {
			l.log.Debug("retention", "job", j.ID, "removed", t.Objects, "size", size(t.Bytes), "keptForMailNotFinal", len(j.Kept))
		}
	}
}
