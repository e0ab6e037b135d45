package preprocess

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// FuzzProcess checks that no input panics or fails (a bytes.Reader has no
// I/O errors), that VisibleText is never empty when Text is not, and that
// Summary always renders.
func FuzzProcess(f *testing.F) {
	files, err := filepath.Glob("testdata/*.eml")
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range files {
		raw, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		store := newMemStore()
		m, err := Process(context.Background(), bytesReader(raw), &Options{Job: testJob(), Blobs: store})
		if err != nil {
			t.Fatalf("Process: %v", err)
		}
		if m.Text != "" && m.VisibleText == "" {
			t.Fatalf("VisibleText empty while Text is %q", m.Text)
		}
		if m.Size != int64(len(raw)) {
			t.Fatalf("Size: got %d, want %d", m.Size, len(raw))
		}
		if _, err := Summary(m); err != nil {
			t.Fatalf("Summary: %v", err)
		}
	})
}
