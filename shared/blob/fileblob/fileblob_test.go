package fileblob_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mailconnector/shared/blob"
	"mailconnector/shared/blob/blobtest"
	"mailconnector/shared/blob/fileblob"
)

func newStore(tb testing.TB, dir string) *fileblob.Store {
	tb.Helper()
	s, err := fileblob.New(dir)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return newStore(t, t.TempDir()) })
}

// files lists every file under root, relative, slash-separated.
func files(tb testing.TB, root string) []string {
	tb.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func TestNoTempFilesLeft(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "blobs")
	s := newStore(t, dir)
	ctx := context.Background()
	if _, err := s.Put(ctx, "a/ok", strings.NewReader("fine")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	r := io.MultiReader(strings.NewReader("partial"), errReader{})
	if _, err := s.Put(ctx, "a/broken", r); err == nil {
		t.Fatal("Put from a failing reader: got nil error, want one")
	}
	// Keys that would escape the directory create nothing anywhere.
	for _, key := range []string{"../outside", "a/../../outside", "/tmp/abs"} {
		if _, err := s.Put(ctx, key, strings.NewReader("x")); !errors.Is(err, fileblob.ErrInvalidKey) {
			t.Errorf("Put %q: got %v, want ErrInvalidKey", key, err)
		}
	}
	got := files(t, root)
	if len(got) != 1 || got[0] != "blobs/a/ok" {
		t.Fatalf("files: got %v, want [blobs/a/ok]", got)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestCheckKey(t *testing.T) {
	tests := []struct {
		name, key string
		ok        bool
		why       string
	}{
		{"plain", "raw/job-a/imap/INBOX/7/42.eml", true, ""},
		{"dots inside a name", "a/b..c/d.e", true, ""},
		{"spaces", "att/x/My Report.pdf", true, ""},
		{"parent", "a/../b", false, `"." or ".." segment`},
		{"absolute", "/a", false, "absolute path"},
		{"backslash", `a\b`, false, "backslash"},
		{"tab", "a\tb", false, "control character 0x09"},
		{"non-ASCII", "caf\u00e9", false, "non-ASCII byte 0xc3"},
		{"reserved temp prefix", "a/.put-123", false, "reserved"},
		{"too long", strings.Repeat("a", 1025), false, "longer than 1024"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := fileblob.CheckKey(tt.key)
			if tt.ok {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, fileblob.ErrInvalidKey) || !strings.Contains(err.Error(), tt.why) {
				t.Fatalf("got %v, want ErrInvalidKey saying %q", err, tt.why)
			}
		})
	}
}

func TestNewCreatesDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "x", "y")
	s := newStore(t, dir)
	if _, err := s.Put(context.Background(), "k", bytes.NewReader([]byte("v"))); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "k")); err != nil || string(b) != "v" {
		t.Fatalf("file: got %q, %v, want \"v\"", b, err)
	}
}

// BenchmarkPut: the bytes allocated per Put of a small object (a
// normalized message, a short mail) stay small: the write buffer is
// reused.
func BenchmarkPut(b *testing.B) {
	s, err := fileblob.New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	body := strings.Repeat("x", 4<<10)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Put(ctx, fmt.Sprintf("raw/j/%d.eml", i%100), strings.NewReader(body)); err != nil {
			b.Fatal(err)
		}
	}
}

// probe is a reader that calls check once, after its first half.
type probe struct {
	data  []byte
	off   int
	check func()
}

func (p *probe) Read(b []byte) (int, error) {
	half := len(p.data) / 2
	if p.off == half && p.check != nil {
		p.check()
		p.check = nil
	}
	if p.off >= len(p.data) {
		return 0, io.EOF
	}
	end := min(len(p.data), p.off+len(b))
	if p.off < half {
		end = min(end, half)
	}
	n := copy(b, p.data[p.off:end])
	p.off += n
	return n, nil
}

// TestNewObjectsAreWrittenInPlace: a Put of a new key writes the object's
// file in place, with no temporary file (creating one and renaming it
// cost three times as much); a Put over an existing object writes a
// temporary file and renames it, the old object whole until then.
func TestNewObjectsAreWrittenInPlace(t *testing.T) {
	root := t.TempDir()
	s := newStore(t, root)
	ctx := context.Background()
	data := bytes.Repeat([]byte("new object "), 100_000)
	_, err := s.Put(ctx, "a/k", &probe{data: data, check: func() {
		if got := files(t, root); len(got) != 1 || got[0] != "a/k" {
			t.Errorf("while a new object is written: files %v, want [a/k]", got)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	next := bytes.Repeat([]byte("next version "), 100_000)
	_, err = s.Put(ctx, "a/k", &probe{data: next, check: func() {
		if got := files(t, root); len(got) != 2 {
			t.Errorf("while an object is replaced: files %v, want it and a temporary file", got)
		}
		if b, err := os.ReadFile(filepath.Join(root, "a", "k")); err != nil || !bytes.Equal(b, data) {
			t.Errorf("while an object is replaced: it holds %d bytes, %v; want the old version whole", len(b), err)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "a", "k")); err != nil || !bytes.Equal(b, next) {
		t.Errorf("after the replacement: %d bytes, %v; want the next version", len(b), err)
	}
	if got := files(t, root); len(got) != 1 {
		t.Errorf("after the replacement: files %v, want [a/k]", got)
	}
}
