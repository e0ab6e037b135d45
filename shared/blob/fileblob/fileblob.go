// Package fileblob implements blob.Store in a directory, for the local
// runner and tests: the key is the file's path below the directory.
//
// A Put over an existing object streams into a temporary file in the
// object's directory and renames it over the object, so the old object
// stays whole until the new one is, also to a process that crashes. A
// Put of a new key writes the file in place (created exclusively; if
// another Put created it first, this one takes the temporary file's way):
// creating a file under a temporary name and renaming it cost three
// times as much as creating it where file creation is dear (a third of
// the end-to-end time's system calls on the benchmark's machine). A new
// object is so visible while it is written, and a process that crashes
// leaves what it had written, which a failed Put removes: the pipeline
// names a key (in the ledger) only after its Put returned, and puts it
// again after a crash. Against power loss, Sync (one syncfs for the whole
// file system) makes every earlier Put durable; the fetch stage calls it
// once per batch before the ledger names the batch's messages, which costs
// far less than an fsync per message. Options.SyncEachPut fsyncs every
// object instead. It passes the blobtest suite.
package fileblob

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"mailconnector/shared/blob"
)

// ErrInvalidKey means a key is not a slash-separated path of printable
// ASCII without empty, "." or ".." segments.
var ErrInvalidKey = errors.New("fileblob: invalid key")

// tempPrefix starts the names of files a Put is writing.
const tempPrefix = ".put-"

// Store is a blob.Store in a directory. It is safe for concurrent use.
type Store struct {
	dir  string
	opts Options
}

// Options configure a Store.
type Options struct {
	// SyncEachPut fsyncs every object before Put returns.
	SyncEachPut bool
}

var (
	_ blob.Store  = (*Store)(nil)
	_ blob.Syncer = (*Store)(nil)
)

// NewWithOptions is New with Options.
func NewWithOptions(dir string, opts *Options) (*Store, error) {
	s, err := New(dir)
	if err != nil {
		return nil, err
	}
	if opts != nil {
		s.opts = *opts
	}
	return s, nil
}

// Sync makes every object written so far durable: one syncfs(2) of the
// file system that holds the directory.
func (s *Store) Sync(ctx context.Context) error {
	f, err := os.Open(s.dir)
	if err != nil {
		return fmt.Errorf("fileblob: sync: %w", err)
	}
	defer f.Close()
	if err := syncfs(f); err != nil {
		return fmt.Errorf("fileblob: sync %s: %w", s.dir, err)
	}
	return nil
}

// New returns a store in dir, creating it if needed.
func New(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("fileblob: create %s: %w", dir, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("fileblob: resolve %s: %w", dir, err)
	}
	return &Store{dir: abs}, nil
}

// CheckKey returns an error wrapping ErrInvalidKey, saying what is wrong,
// unless key is a relative slash-separated path of printable ASCII with no
// empty, "." or ".." segment and no backslash.
func CheckKey(key string) error {
	bad := func(why string) error { return fmt.Errorf("%w %q: %s", ErrInvalidKey, key, why) }
	if key == "" {
		return bad("empty")
	}
	if len(key) > 1024 {
		return bad("longer than 1024 bytes")
	}
	for i := 0; i < len(key); i++ {
		switch c := key[i]; {
		case c < 0x20 || c == 0x7f:
			return bad(fmt.Sprintf("control character 0x%02x at %d", c, i))
		case c >= 0x80:
			return bad(fmt.Sprintf("non-ASCII byte 0x%02x at %d", c, i))
		case c == '\\':
			return bad("backslash (use /)")
		}
	}
	if key[0] == '/' {
		return bad("absolute path")
	}
	for _, seg := range strings.Split(key, "/") {
		switch {
		case seg == "":
			return bad("empty path segment")
		case seg == "." || seg == "..":
			return bad(`"." or ".." segment`)
		case strings.HasPrefix(seg, tempPrefix):
			return bad("segment starts with " + tempPrefix + ", reserved for files being written")
		}
	}
	return nil
}

func (s *Store) path(key string) string {
	return filepath.Join(s.dir, filepath.FromSlash(key))
}

// ctxReader fails reads once ctx is done, so a long Put can be cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Put streams r into the object at key, replacing it whole or not at all.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if err := CheckKey(key); err != nil {
		return 0, fmt.Errorf("fileblob: put: %w", err)
	}
	dst := s.path(key)
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
			return 0, fmt.Errorf("fileblob: put %s: %w", key, err)
		}
		f, err = os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	}
	tmp := "" // "": written in place
	if errors.Is(err, fs.ErrExist) {
		f, err = os.CreateTemp(filepath.Dir(dst), tempPrefix+"*")
		if err == nil {
			tmp = f.Name()
		}
	}
	if err != nil {
		return 0, fmt.Errorf("fileblob: put %s: %w", key, err)
	}
	// Decoders hand over a few hundred bytes at a time: gather them into
	// large writes, which matter where system calls are dear.
	bw := writers.Get().(*bufio.Writer)
	bw.Reset(writerOnly{f})
	n, err := bw.ReadFrom(ctxReader{ctx, r})
	if err == nil {
		err = bw.Flush()
	}
	bw.Reset(nil)
	writers.Put(bw)
	if err == nil && s.opts.SyncEachPut {
		err = f.Sync()
	}
	mine, serr := f.Stat()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && tmp != "" {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		switch {
		case tmp != "":
			_ = os.Remove(tmp)
		case serr == nil:
			// Written in place: remove the file unless another Put has
			// renamed its own over it meanwhile.
			if now, lerr := os.Lstat(dst); lerr == nil && os.SameFile(now, mine) {
				_ = os.Remove(dst)
			}
		}
		return 0, fmt.Errorf("fileblob: put %s after %d bytes: %w", key, n, err)
	}
	return n, nil
}

// writers are Put's 128 KiB write buffers, kept for the next Put: a new
// zeroed buffer for each message and attachment cost the fetch stage a
// tenth of its time.
var writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 128<<10) }}

// writerOnly hides os.File's ReaderFrom, which would bypass the buffer.
type writerOnly struct{ w io.Writer }

func (w writerOnly) Write(p []byte) (int, error) { return w.w.Write(p) }

// absent reports whether err says a path does not exist, also when one of
// its parents is a file (another key's object).
func absent(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// Get opens the object; blob.ErrNotFound if absent.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := CheckKey(key); err != nil {
		return nil, fmt.Errorf("fileblob: get: %w", err)
	}
	f, err := os.Open(s.path(key))
	if absent(err) {
		return nil, fmt.Errorf("fileblob: get %s: %w", key, blob.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("fileblob: get %s: %w", key, err)
	}
	if st, err := f.Stat(); err != nil || st.IsDir() {
		_ = f.Close()
		if err == nil {
			err = blob.ErrNotFound // a "directory" of keys is no object
		}
		return nil, fmt.Errorf("fileblob: get %s: %w", key, err)
	}
	return f, nil
}

// Delete removes the object; absent is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return fmt.Errorf("fileblob: delete: %w", err)
	}
	p := s.path(key)
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		return nil // not an object
	}
	if err := os.Remove(p); err != nil && !absent(err) {
		return fmt.Errorf("fileblob: delete %s: %w", key, err)
	}
	return nil
}
