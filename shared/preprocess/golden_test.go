package preprocess

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"mailconnector/shared/job"
	"mailconnector/shared/message"
)

var update = flag.Bool("update", false, "rewrite the .json goldens in testdata")

// testJob is the job every golden runs with: the default rules, .exe and
// other executables blocked, attachments up to 64 KiB.
func testJob() *job.Job {
	t := true
	return &job.Job{
		ID: "test",
		Attachments: job.Attachments{
			MaxSize:         64 << 10,
			BlockExtensions: []string{"exe", ".bat", ".cmd", ".js", ".vbs", ".scr"},
			DropEmpty:       &t,
		},
	}
}

// process runs Process on a testdata file with an in-memory store.
func process(tb testing.TB, path string, store *memStore) *message.Message {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	m, err := Process(context.Background(), f, &Options{Job: testJob(), Blobs: store, KeyPrefix: "att/test/"})
	if err != nil {
		tb.Fatalf("Process(%s): %v", path, err)
	}
	return m
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.eml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 90 {
		t.Fatalf("got %d .eml files in testdata, want at least 90", len(files))
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".eml")
		t.Run(name, func(t *testing.T) {
			store := newMemStore()
			m := process(t, path, store)
			got, err := Summary(m)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(path, ".eml") + ".json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run go test ./shared/preprocess -run TestGolden -update to create it): %v", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("Summary mismatch (-want +got):\n%s", diff)
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, raw, "att/test/", m, store)
		})
	}
}

// checkInvariants holds for every message: sizes, blob store contents,
// visible text.
func checkInvariants(tb testing.TB, raw []byte, prefix string, m *message.Message, store *memStore) {
	tb.Helper()
	if m.Size != int64(len(raw)) {
		tb.Errorf("Size: got %d, want %d", m.Size, len(raw))
	}
	if m.Text != "" && m.VisibleText == "" {
		tb.Errorf("VisibleText is empty while Text is %q", m.Text)
	}
	kept := 0
	for i, a := range m.Attachments {
		if a.Dropped != "" {
			if a.BlobKey != "" {
				tb.Errorf("attachment %d dropped (%s) but has BlobKey %q", i, a.Dropped, a.BlobKey)
			}
			continue
		}
		kept++
		if a.BlobKey == "" {
			tb.Errorf("attachment %d kept but has no BlobKey", i)
			continue
		}
		if !strings.HasPrefix(a.BlobKey, prefix) {
			tb.Errorf("attachment %d: BlobKey %q does not start with the prefix", i, a.BlobKey)
		}
		if got := store.hashes[a.BlobKey]; got != a.SHA256 {
			tb.Errorf("attachment %d: stored SHA-256 %s, want %s", i, got, a.SHA256)
		}
		if got := store.sizes[a.BlobKey]; got != a.Size {
			tb.Errorf("attachment %d: stored size %d, want %d", i, got, a.Size)
		}
		if strings.ContainsAny(a.SafeName, "/\\\x00") || strings.Contains(a.SafeName, "..") {
			tb.Errorf("attachment %d: unsafe SafeName %q", i, a.SafeName)
		}
	}
	if len(store.hashes) != kept {
		tb.Errorf("store holds %d objects, want %d (one per kept attachment)", len(store.hashes), kept)
	}
	if bytes.ContainsRune([]byte(m.VisibleText), '\r') {
		tb.Errorf("VisibleText contains CR")
	}
}
