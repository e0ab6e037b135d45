// Package localtest opens the embedded stand-ins the local runner uses, the
// bolt store and the file blob store, in a test's own directory, and closes
// them when the test ends.
package localtest

import (
	"path/filepath"
	"testing"

	"mailconnector/shared/blob/fileblob"
	"mailconnector/shared/store/boltstore"
)

// Store opens the store file state.db in dir (a tb.TempDir(), or one the
// test shares with Blobs) and closes it when the test ends.
func Store(tb testing.TB, dir string) *boltstore.Store {
	tb.Helper()
	st, err := boltstore.Open(filepath.Join(dir, "state.db"), nil)
	if err != nil {
		tb.Fatalf("localtest: open store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// Blobs returns a file blob store in dir/blobs.
func Blobs(tb testing.TB, dir string) *fileblob.Store {
	tb.Helper()
	blobs, err := fileblob.New(filepath.Join(dir, "blobs"))
	if err != nil {
		tb.Fatalf("localtest: blob store: %v", err)
	}
	return blobs
}
