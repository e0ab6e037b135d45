package boltstore_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/run"
	"mailconnector/shared/store/boltstore"
)

// mappedRSS is how much of the file at path this process has resident
// through its mappings (/proc/self/smaps).
func mappedRSS(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatalf("read the mappings (Linux keeps them in /proc/self/smaps): %v", err)
	}
	defer f.Close()
	var total int64
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		switch {
		case len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":"):
			in = len(fields) >= 6 && fields[5] == path
		case in && fields[0] == "Rss:":
			kb, _ := strconv.ParseInt(fields[1], 10, 64)
			total += kb << 10
		}
	}
	return total
}

// TestDropMapped: reading a large history maps its pages into the
// process; the store lets go of them soon after, so the resident memory
// of a long run does not grow with the state file.
func TestDropMapped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	ctx := context.Background()
	fill := func(s *boltstore.Store) {
		note := strings.Repeat("a note that makes the run record long enough to span pages ", 60)
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range 2000 {
			r := run.Run{JobID: "job-a", ID: fmt.Sprintf("run-%05d", i), StartedAt: start.Add(time.Duration(i) * time.Minute), Status: run.OK, Notes: []string{note}}
			if err := s.PutRun(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	readAll := func(s *boltstore.Store) {
		runs, err := s.Runs(ctx, "job-a", 100000)
		if err != nil || len(runs) < 2000 {
			t.Fatalf("read the runs back: %d, %v", len(runs), err)
		}
	}

	s, err := boltstore.Open(path, &boltstore.Options{DropMappedEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	fill(s)
	readAll(s)
	kept := mappedRSS(t, path)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if kept < 4<<20 {
		t.Fatalf("without dropping, reading 2,000 long runs left %d KB of the file resident; the test needs more to show anything", kept>>10)
	}

	s, err = boltstore.Open(path, &boltstore.Options{DropMappedEvery: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	readAll(s)
	var got int64
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if got = mappedRSS(t, path); got <= 512<<10 {
			break
		}
	}
	if got > 512<<10 {
		t.Errorf("5 s after reading, the file still has %d KB resident in the process (%d KB without dropping), want at most 512 KB", got>>10, kept>>10)
	}
	readAll(s) // the pages map again from the page cache
}
