package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"mailconnector/shared/fetch"
)

// progress shows how a backlog drains, one line per batch of fetched
// mail: taken so far, about how many are left, the rate and the time
// left. On a terminal the line is rewritten in place; otherwise each is
// a plain line. A job's follow-up runs add up on the same line.
type progress struct {
	w   io.Writer
	tty bool
	now func() time.Time

	mu   sync.Mutex
	jobs map[string]*jobProgress
	open bool // a line stands on the terminal without its newline
}

// jobProgress adds up a job's runs since the first batch was reported.
type jobProgress struct {
	start   time.Time
	first   int // taken when the first batch was reported, at start
	run     string
	before  int   // taken by the job's earlier runs
	bytesB  int64 // their bytes
	fetched int
	bytes   int64
}

func newProgress(w io.Writer, tty bool, now func() time.Time) *progress {
	return &progress{w: w, tty: tty, now: now, jobs: map[string]*jobProgress{}}
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// update shows p, the advance of one run after a batch.
func (pr *progress) update(p fetch.Progress) {
	if pr == nil {
		return
	}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	jp := pr.jobs[p.JobID]
	if jp == nil {
		jp = &jobProgress{start: pr.now(), first: p.Fetched}
		pr.jobs[p.JobID] = jp
	}
	if jp.run != p.RunID {
		jp.before, jp.bytesB = jp.before+jp.fetched, jp.bytesB+jp.bytes
		jp.run = p.RunID
	}
	jp.fetched, jp.bytes = p.Fetched, p.Bytes
	taken := jp.before + jp.fetched
	line := fmt.Sprintf("job %s: %s taken (%s), about %s left", p.JobID, thousands(int64(taken)), size(jp.bytesB+jp.bytes), thousands(int64(p.Left)))
	if el := pr.now().Sub(jp.start); el > 0 && taken > jp.first {
		// The rate counts from the first batch reported: its own time
		// is unknown.
		rate := float64(taken-jp.first) / el.Seconds()
		eta := time.Duration(float64(p.Left) / rate * float64(time.Second)).Round(time.Second)
		line += fmt.Sprintf(", %s/s, ETA %s", thousands(int64(rate+0.5)), eta)
	}
	if !pr.tty {
		fmt.Fprintln(pr.w, line)
		return
	}
	// Back to the start of the line, the new text, then clear what is
	// left of a longer old line.
	fmt.Fprint(pr.w, "\r"+line+"\x1b[K")
	pr.open = true
	if p.Left == 0 {
		pr.endLocked()
	}
}

// end finishes the line on the terminal, so other output starts on a
// line of its own.
func (pr *progress) end() {
	if pr == nil {
		return
	}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	pr.endLocked()
}

func (pr *progress) endLocked() {
	if pr.open {
		fmt.Fprint(pr.w, "\n")
		pr.open = false
	}
}

// forget drops what the job's runs added up: its next backlog starts anew.
func (pr *progress) forget(jobID string) {
	if pr == nil {
		return
	}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	delete(pr.jobs, jobID)
}

type progressKey struct{}

type progressOut struct {
	w   io.Writer
	tty bool
}

// withProgressOut carries where progress goes (stderr, raw on a terminal).
func withProgressOut(ctx context.Context, w io.Writer, tty bool) context.Context {
	return context.WithValue(ctx, progressKey{}, progressOut{w: w, tty: tty})
}

// progressFor is the progress of a run command: nil with -q or JSON logs
// (a program reads them), else on the writer withProgressOut set, or w.
func progressFor(ctx context.Context, c *common, w io.Writer) *progress {
	if c.quiet || c.logFormat == "json" {
		return nil
	}
	out := progressOut{w: w}
	if o, ok := ctx.Value(progressKey{}).(progressOut); ok {
		out = o
	}
	return newProgress(out.w, out.tty, time.Now)
}
