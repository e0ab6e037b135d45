package blobcache

import (
	"context"
	"io"
	"strings"
	"testing"

	"mailconnector/shared/blob"
	"mailconnector/shared/blob/blobtest"
	"mailconnector/shared/blob/fileblob"
	"mailconnector/shared/testkit/localtest"
)

func newStore(t *testing.T) (*Store, *fileblob.Store) {
	inner := localtest.Blobs(t, t.TempDir())
	return New(inner, 1<<20, 64<<10), inner
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, _ := newStore(t)
		return s
	})
}

func TestSmallObjectsAreServedFromMemoryAndWrittenThrough(t *testing.T) {
	ctx := context.Background()
	s, inner := newStore(t)
	if _, err := s.Put(ctx, "a/small", strings.NewReader("hello")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "a/large", strings.NewReader(strings.Repeat("x", 100<<10))); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Len(); n != 1 {
		t.Errorf("got %d cached objects, want 1 (the large one streams through)", n)
	}
	for _, key := range []string{"a/small", "a/large"} {
		rc, err := inner.Get(ctx, key)
		if err != nil {
			t.Fatalf("inner store lacks %s: %v", key, err)
		}
		rc.Close()
	}
	// Remove it behind the cache's back: a hit must not touch the inner store.
	if err := inner.Delete(ctx, "a/small"); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Get(ctx, "a/small")
	if err != nil {
		t.Fatalf("got %v, want the cached object", err)
	}
	b, _ := io.ReadAll(rc)
	if string(b) != "hello" {
		t.Errorf("got %q, want hello", b)
	}
}

func TestEvictsOldestBeyondTheBound(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	for i := 0; i < 40; i++ {
		key := "k/" + strings.Repeat("x", i%5+1) + string(rune('a'+i%26)) + "-" + string(rune('a'+i/26))
		if _, err := s.Put(ctx, key, strings.NewReader(strings.Repeat("y", 60<<10))); err != nil {
			t.Fatal(err)
		}
	}
	if _, size := s.Len(); size > 1<<20 {
		t.Errorf("got %d cached bytes, want at most %d", size, 1<<20)
	}
}
