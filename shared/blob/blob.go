// Package blob declares where message bytes live: raw MIME, normalized
// messages and attachments. Writers and readers stream; nothing requires a
// whole message in memory. fileblob (a directory) and s3blob (S3) pass the
// suite in blobtest.
package blob

import (
	"context"
	"errors"
	"io"
)

// ErrNotFound means no object has the key.
var ErrNotFound = errors.New("blob: not found")

// Store holds objects by key. Keys are slash-separated paths of printable
// ASCII without "..".
type Store interface {
	// Put streams r into the object at key, replacing it, and returns the
	// bytes written. When it returns the object is whole; a failed Put
	// leaves it as it was (absent, or the old version whole). While a
	// Put of a new key runs, or after a process crashed in one, a store
	// may show part of it (fileblob writes a new object in place): a key
	// is named to others only once its Put has returned.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Get opens the object; the caller closes it. ErrNotFound if absent.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the object; absent is not an error.
	Delete(ctx context.Context, key string) error
}

// Syncer is a Store whose Puts become durable only on Sync (a directory
// on a local disk). Sync makes every Put that has returned durable.
type Syncer interface {
	Sync(ctx context.Context) error
}
