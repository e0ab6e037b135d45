package boltstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestGroupCommitFailure checks that one failing write in a group rolls
// back only itself: the others are written, the failing one is not, and
// each caller gets its own result.
func TestGroupCommitFailure(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "state.db"), nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	errBroken := errors.New("broken write")
	const n, bad = 40, 7
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.batch(func(tx *bolt.Tx) error {
				if err := tx.Bucket(bucketCursors).Put([]byte(fmt.Sprint(i)), []byte("x")); err != nil {
					return err
				}
				if i == bad {
					return errBroken
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		want := error(nil)
		if i == bad {
			want = errBroken
		}
		if !errors.Is(err, want) || (want == nil) != (err == nil) {
			t.Errorf("call %d: got %v, want %v", i, err, want)
		}
		c, err := s.Cursor(context.Background(), fmt.Sprint(i))
		if err != nil {
			t.Fatalf("Cursor: %v", err)
		}
		if got, wantStored := c == "x", i != bad; got != wantStored {
			t.Errorf("write %d stored: got %v, want %v", i, got, wantStored)
		}
	}
}

func TestClosed(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "state.db"), nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: got %v, want nil", err)
	}
	if err := s.batch(func(*bolt.Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("write after Close: got %v, want ErrClosed", err)
	}
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if _, err := Open(path, &Options{OpenTimeout: 50 * time.Millisecond}); err == nil {
		t.Fatal("second Open of a file in use: got nil error, want a timeout")
	}
}
