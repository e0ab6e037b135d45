package boltstore_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"mailconnector/shared/store"
	"mailconnector/shared/store/boltstore"
	"mailconnector/shared/store/storetest"
	"mailconnector/shared/testkit/fakeclock"
)

func open(tb testing.TB, opts *boltstore.Options) *boltstore.Store {
	tb.Helper()
	s, err := boltstore.Open(filepath.Join(tb.TempDir(), "state.db"), opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	c := fakeclock.New(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	storetest.Run(t, storetest.Harness{
		New:     func(t *testing.T) store.Store { return open(t, &boltstore.Options{Now: c.Now}) },
		Advance: c.Advance,
	})
}

// TestConformanceRealClock runs the suite once with the real clock, as the
// DynamoDB adapter does.
func TestConformanceRealClock(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New:      func(t *testing.T) store.Store { return open(t, nil) },
		LeaseTTL: 200 * time.Millisecond,
	})
}

// TestReadOnly: a read-only open (the dry run) reads, refuses writes and
// leaves the file as it was, even beside another read-only open.
func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	rw, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := rw.SetCursor(ctx, "job", "c1"); err != nil {
		t.Fatal(err)
	}
	if err := rw.Close(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	ro, err := boltstore.Open(path, &boltstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ro2, err := boltstore.Open(path, &boltstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("a second read-only open: %v", err)
	}
	if got, err := ro.Cursor(ctx, "job"); err != nil || got != "c1" {
		t.Errorf("Cursor: got %q, %v; want c1", got, err)
	}
	if err := ro.SetCursor(ctx, "job", "c2"); err == nil {
		t.Error("SetCursor on a read-only store: got no error")
	}
	ro.Close()
	ro2.Close()
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("a read-only open changed the file")
	}
}
