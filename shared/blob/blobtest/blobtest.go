// Package blobtest is the conformance suite every blob.Store adapter passes
// (fileblob, s3blob), so the local store behaves as S3 does.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"mailconnector/shared/blob"
)

// Run runs the whole suite; newStore returns a fresh, empty store for one
// subtest and cleans it up through t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"PutGet", testPutGet},
		{"Overwrite", testOverwrite},
		{"Delete", testDelete},
		{"NotFound", testNotFound},
		{"LargeObjectStreams", testLarge},
		{"FailedPutLeavesNothing", testFailedPut},
		{"CancelledPut", testCancelledPut},
		{"ConcurrentPuts", testConcurrentPuts},
		{"BadKeys", testBadKeys},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

// random is n deterministic pseudo-random bytes, generated as read.
func random(seed uint64, n int64) io.Reader {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	return io.LimitReader(rand.NewChaCha8(s), n)
}

func randomBytes(tb testing.TB, seed uint64, n int64) []byte {
	tb.Helper()
	b, err := io.ReadAll(random(seed, n))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func put(tb testing.TB, s blob.Store, key string, data []byte) {
	tb.Helper()
	n, err := s.Put(context.Background(), key, bytes.NewReader(data))
	if err != nil {
		tb.Fatalf("Put %s: %v", key, err)
	}
	if n != int64(len(data)) {
		tb.Fatalf("Put %s: got %d bytes written, want %d", key, n, len(data))
	}
}

func get(tb testing.TB, s blob.Store, key string) []byte {
	tb.Helper()
	rc, err := s.Get(context.Background(), key)
	if err != nil {
		tb.Fatalf("Get %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		tb.Fatalf("read %s: %v", key, err)
	}
	return b
}

func wantNotFound(tb testing.TB, s blob.Store, key string) {
	tb.Helper()
	rc, err := s.Get(context.Background(), key)
	if err == nil {
		rc.Close()
	}
	if !errors.Is(err, blob.ErrNotFound) {
		tb.Fatalf("Get %s: got error %v, want blob.ErrNotFound", key, err)
	}
}

func wantContent(tb testing.TB, s blob.Store, key string, want []byte) {
	tb.Helper()
	if got := get(tb, s, key); !bytes.Equal(got, want) {
		tb.Fatalf("Get %s: got %d bytes (sha256 %x), want %d bytes (sha256 %x)", key, len(got), sha256.Sum256(got), len(want), sha256.Sum256(want))
	}
}

func testPutGet(t *testing.T, s blob.Store) {
	tests := []struct {
		name, key string
		data      []byte
	}{
		{"empty", "empty.eml", []byte{}},
		{"one byte", "one", []byte{0}},
		{"text", "raw/job-a/imap/INBOX/7/42.eml", []byte("From: a@example.com\r\n\r\nhello\r\n")},
		{"binary", "att/job-a/x/report (1).pdf", randomBytes(t, 1, 300_000)},
		{"printable punctuation", "k/a-b_c.d~e+f=g@h!i$j&k'l(m)n,o;p", []byte("punct")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			put(t, s, tt.key, tt.data)
			wantContent(t, s, tt.key, tt.data)
		})
	}
	// A key's prefix is no object.
	wantNotFound(t, s, "raw/job-a/imap")
}

func testOverwrite(t *testing.T, s blob.Store) {
	put(t, s, "a/b", randomBytes(t, 2, 100_000))
	short := []byte("shorter")
	put(t, s, "a/b", short)
	wantContent(t, s, "a/b", short)
}

func testDelete(t *testing.T, s blob.Store) {
	ctx := context.Background()
	put(t, s, "d/one", []byte("1"))
	put(t, s, "d/two", []byte("2"))
	if err := s.Delete(ctx, "d/one"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantNotFound(t, s, "d/one")
	wantContent(t, s, "d/two", []byte("2"))
	if err := s.Delete(ctx, "d/one"); err != nil {
		t.Fatalf("Delete again: got %v, want nil", err)
	}
	if err := s.Delete(ctx, "never/was"); err != nil {
		t.Fatalf("Delete of absent key: got %v, want nil", err)
	}
	put(t, s, "d/one", []byte("back"))
	wantContent(t, s, "d/one", []byte("back"))
}

func testNotFound(t *testing.T, s blob.Store) {
	wantNotFound(t, s, "nothing/here.eml")
	put(t, s, "x/y", []byte("y"))
	wantNotFound(t, s, "x/z")
	wantNotFound(t, s, "x/y/z")
}

// testLarge streams 60 MB through Put and Get, comparing SHA-256, and
// checks that neither side allocated anywhere near the object's size.
func testLarge(t *testing.T, s blob.Store) {
	const size = 60 << 20
	ctx := context.Background()
	wantSum := sha256.New()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	n, err := s.Put(ctx, "big/object", io.TeeReader(random(3, size), wantSum))
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if n != size {
		t.Fatalf("Put: got %d bytes written, want %d", n, size)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/2 {
		t.Errorf("Put allocated %d bytes for a %d-byte object, want it streamed (< %d)", alloc, size, size/2)
	}

	runtime.ReadMemStats(&before)
	rc, err := s.Get(ctx, "big/object")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	gotSum := sha256.New()
	got, err := io.Copy(gotSum, rc)
	rc.Close()
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if got != size {
		t.Fatalf("Get: got %d bytes, want %d", got, size)
	}
	if g, w := fmt.Sprintf("%x", gotSum.Sum(nil)), fmt.Sprintf("%x", wantSum.Sum(nil)); g != w {
		t.Fatalf("Get: got sha256 %s, want %s", g, w)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/2 {
		t.Errorf("Get allocated %d bytes for a %d-byte object, want it streamed (< %d)", alloc, size, size/2)
	}
	if err := s.Delete(ctx, "big/object"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
}

var errBroken = errors.New("reader broke")

// failingReader yields n bytes of r and then errBroken.
type failingReader struct {
	r io.Reader
	n int64
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errBroken
	}
	if int64(len(p)) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= int64(n)
	return n, err
}

func testFailedPut(t *testing.T, s blob.Store) {
	ctx := context.Background()
	_, err := s.Put(ctx, "fail/new", &failingReader{r: random(4, 10<<20), n: 3 << 20})
	if err == nil {
		t.Fatal("Put from a failing reader: got nil error, want one")
	}
	wantNotFound(t, s, "fail/new")

	old := []byte("the previous version")
	put(t, s, "fail/old", old)
	_, err = s.Put(ctx, "fail/old", &failingReader{r: random(5, 10<<20), n: 1 << 20})
	if err == nil {
		t.Fatal("Put from a failing reader: got nil error, want one")
	}
	wantContent(t, s, "fail/old", old)
}

func testCancelledPut(t *testing.T, s blob.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	go func() {
		_, _ = io.Copy(pw, io.LimitReader(random(6, 8<<20), 1<<20))
		cancel()
		_, _ = io.Copy(pw, random(7, 8<<20))
		pw.Close()
	}()
	_, err := s.Put(ctx, "cancel/me", pr)
	pr.CloseWithError(errors.New("test over"))
	if err == nil {
		t.Fatal("Put with a cancelled context: got nil error, want one")
	}
	wantNotFound(t, s, "cancel/me")
}

func testConcurrentPuts(t *testing.T, s blob.Store) {
	const writers = 4
	versions := make([][]byte, writers)
	for i := range versions {
		versions[i] = randomBytes(t, uint64(10+i), 1<<20+int64(i))
	}
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Put(context.Background(), "race/key", bytes.NewReader(versions[i])); err != nil {
				t.Errorf("Put %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	got := get(t, s, "race/key")
	for _, v := range versions {
		if bytes.Equal(got, v) {
			return
		}
	}
	t.Fatalf("after concurrent Puts: got %d bytes matching no version written, want one whole version", len(got))
}

func testBadKeys(t *testing.T, s blob.Store) {
	ctx := context.Background()
	tests := []struct{ name, key string }{
		{"empty", ""},
		{"absolute", "/etc/passwd"},
		{"parent", "../escape"},
		{"parent inside", "a/../../escape"},
		{"dot dot alone", ".."},
		{"dot segment", "a/./b"},
		{"backslash", `a\b`},
		{"backslash parent", `..\escape`},
		{"NUL", "a\x00b"},
		{"newline", "a\nb"},
		{"DEL", "a\x7fb"},
		{"empty segment", "a//b"},
		{"trailing slash", "a/b/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Put(ctx, tt.key, bytes.NewReader([]byte("x"))); err == nil {
				t.Errorf("Put %q: got nil error, want a rejected key", tt.key)
			}
			if rc, err := s.Get(ctx, tt.key); err == nil {
				rc.Close()
				t.Errorf("Get %q: got nil error, want a rejected key", tt.key)
			} else if errors.Is(err, blob.ErrNotFound) {
				t.Errorf("Get %q: got ErrNotFound, want a rejected key", tt.key)
			}
			if err := s.Delete(ctx, tt.key); err == nil {
				t.Errorf("Delete %q: got nil error, want a rejected key", tt.key)
			}
		})
	}
}
