package preprocess

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/mailgen"
	"mailconnector/shared/message"
	"mailconnector/shared/testkit/localtest"
)

// hostileDeadline is far beyond what any message takes: a message that
// needs it hangs.
const hostileDeadline = 20 * time.Second

// outcomeOf is the outcome class of one Process call.
func outcomeOf(m *message.Message, err error) (mailgen.Outcome, error) {
	var le *LimitError
	switch {
	case errors.As(err, &le):
		return mailgen.Failed, nil
	case err != nil:
		return "", err
	case len(m.Warnings) > 0:
		return mailgen.Warned, nil
	}
	return mailgen.Processed, nil
}

// listFiles lists every file below dir, relative to it.
func listFiles(tb testing.TB, dir string) map[string]bool {
	tb.Helper()
	out := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			tb.Errorf("got a symbolic link %s, want none", p)
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = true
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// TestHostileCorpus runs every message of the hostile corpus through
// preprocessing with the default limits and a blob store in a directory:
// each ends with an outcome of its class, within the deadline, and nothing
// is written outside the store's directory.
func TestHostileCorpus(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	before := listFiles(t, cwd)
	dir := t.TempDir()
	store := localtest.Blobs(t, dir)
	counts := map[mailgen.Outcome]int{}
	var slowest string
	var slowestTime time.Duration
	for _, c := range mailgen.Hostile(nil) {
		t.Run(c.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), hostileDeadline)
			defer cancel()
			start := time.Now()
			m, err := Process(ctx, bytes.NewReader(c.Raw), &Options{Job: &job.Job{ID: "hostile"}, Blobs: store, KeyPrefix: "att/hostile/" + c.Name + "/"})
			took := time.Since(start)
			if took > slowestTime {
				slowest, slowestTime = c.Name, took
			}
			got, err := outcomeOf(m, err)
			if err != nil {
				t.Fatalf("got error %v after %v, want an outcome", err, took)
			}
			counts[got]++
			if c.Want != mailgen.Recorded && got != c.Want {
				var warnings []string
				if m != nil {
					warnings = m.Warnings
				}
				t.Errorf("got outcome %s (warnings %.300q), want %s", got, warnings, c.Want)
			}
			if m != nil {
				for _, a := range m.Attachments {
					if a.BlobKey != "" && !strings.HasPrefix(a.BlobKey, "att/hostile/"+c.Name+"/") {
						t.Errorf("got blob key %q, want it under the message's prefix", a.BlobKey)
					}
					if strings.ContainsAny(a.SafeName, "/\\\x00") || strings.Contains(a.SafeName, "..") || len(a.SafeName) > maxSafeName {
						t.Errorf("got SafeName %q, want a plain file name of at most %d bytes", a.SafeName, maxSafeName)
					}
				}
			}
		})
	}
	for f := range listFiles(t, dir) {
		if f != "." && !strings.HasPrefix(f, "blobs") {
			t.Errorf("got %s in the temporary directory, want only the blob store", f)
		}
	}
	for f := range listFiles(t, cwd) {
		if !before[f] {
			t.Errorf("got a new file %s in the package directory, want none", f)
		}
	}
	t.Logf("outcomes %v; slowest %s in %v", counts, slowest, slowestTime)
}
