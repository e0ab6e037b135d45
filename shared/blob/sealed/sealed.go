// Package sealed keeps objects encrypted at rest in any blob.Store:
// envelope encryption, each object under a fresh 256-bit data key that a
// master key the operator holds wraps (Keys: AES-GCM with a key from the
// secrets file locally, a customer-managed KMS key on AWS, see kmskeys).
// The connector seals the details of every mail it moves to the error
// folder (reason, headers, the raw .eml) with it.
//
// An object is the magic line, the wrapped data key, then the plaintext in
// chunks of 64 KiB, each sealed with AES-256-GCM (Go's crypto/aes and
// crypto/cipher) under a nonce made of the chunk's number and a last-chunk
// flag, with the object's key as additional data: a chunk cannot be
// reordered, dropped, moved to another object or cut off the end without
// Get failing with ErrTampered. The data key is used for one object only,
// so counter nonces never repeat under it. Objects stream both ways; a
// large message never sits whole in memory.
package sealed

import (
	"bufio"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"mailconnector/shared/blob"
)

// Keys makes and opens data keys under one master key.
type Keys interface {
	// DataKey returns a fresh 32-byte data key and the same key wrapped
	// by the master key.
	DataKey(ctx context.Context) (plain, wrapped []byte, err error)
	// Unwrap returns the data key that wrapped holds.
	Unwrap(ctx context.Context, wrapped []byte) ([]byte, error)
}

// ErrTampered means a sealed object does not open under its key: it was
// changed, cut short, moved, or sealed under another master key.
var ErrTampered = errors.New("sealed: object does not open (changed, truncated, or sealed under another key)")

// Store seals what it puts in another blob.Store and opens what it gets.
type Store struct {
	blobs blob.Store
	keys  Keys
}

var _ blob.Store = (*Store)(nil)

// New returns a Store that keeps sealed objects in blobs, under keys.
func New(blobs blob.Store, keys Keys) *Store { return &Store{blobs: blobs, keys: keys} }

// PurposeErrorDetails names what the error details (and traces) are sealed
// for: the KMS encryption context's purpose of their data keys, and the
// name of the local key in the secrets file.
const PurposeErrorDetails = "error-details"

const (
	magic     = "mailconnector-sealed-v1\n"
	chunkSize = 64 << 10
	maxWrap   = 4 << 10
)

// Put seals r into the object at key and returns the plaintext bytes
// written.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	plain, wrapped, err := s.keys.DataKey(ctx)
	if err != nil {
		return 0, fmt.Errorf("sealed: put %s: make a data key: %w", key, err)
	}
	aead, err := newAEAD(plain)
	clear(plain)
	if err != nil {
		return 0, fmt.Errorf("sealed: put %s: %w", key, err)
	}
	if len(wrapped) > maxWrap {
		return 0, fmt.Errorf("sealed: put %s: wrapped data key of %d bytes is too long", key, len(wrapped))
	}
	pr, pw := io.Pipe()
	var n int64
	go func() {
		var err error
		n, err = seal(pw, r, aead, wrapped, key)
		pw.CloseWithError(err)
	}()
	_, err = s.blobs.Put(ctx, key, pr)
	pr.CloseWithError(errors.New("sealed: upload ended"))
	if err != nil {
		return 0, fmt.Errorf("sealed: put %s: %w", key, err)
	}
	return n, nil
}

// seal writes the sealed form of r to w.
func seal(w io.Writer, r io.Reader, aead cipher.AEAD, wrapped []byte, key string) (int64, error) {
	head := make([]byte, 0, len(magic)+2+len(wrapped))
	head = append(head, magic...)
	head = binary.BigEndian.AppendUint16(head, uint16(len(wrapped)))
	head = append(head, wrapped...)
	if _, err := w.Write(head); err != nil {
		return 0, err
	}
	br := bufio.NewReaderSize(r, chunkSize)
	buf := make([]byte, chunkSize)
	out := make([]byte, 0, 5+chunkSize+aead.Overhead())
	var total int64
	for i := uint64(0); ; i++ {
		n, err := io.ReadFull(br, buf)
		last := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !last {
			return total, fmt.Errorf("read: %w", err)
		}
		if !last {
			// A full chunk: a look ahead says whether it was the last.
			if _, perr := br.Peek(1); perr == io.EOF {
				last = true
			}
		}
		total += int64(n)
		out = out[:0]
		if last {
			out = append(out, 1)
		} else {
			out = append(out, 0)
		}
		out = binary.BigEndian.AppendUint32(out, uint32(n+aead.Overhead()))
		out = aead.Seal(out, nonce(i, last), buf[:n], []byte(key))
		if _, err := w.Write(out); err != nil {
			return total, err
		}
		if last {
			return total, nil
		}
	}
}

// Get opens the object at key; reading it fails with ErrTampered if any
// of it does not open. blob.ErrNotFound if absent.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := s.blobs.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(rc, chunkSize+64)
	head := make([]byte, len(magic)+2)
	if _, err := io.ReadFull(br, head); err != nil || string(head[:len(magic)]) != magic {
		rc.Close()
		return nil, fmt.Errorf("sealed: get %s: not a sealed object: %w", key, ErrTampered)
	}
	wrapped := make([]byte, binary.BigEndian.Uint16(head[len(magic):]))
	if _, err := io.ReadFull(br, wrapped); err != nil {
		rc.Close()
		return nil, fmt.Errorf("sealed: get %s: %w", key, ErrTampered)
	}
	plain, err := s.keys.Unwrap(ctx, wrapped)
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("sealed: get %s: unwrap its data key: %w", key, err)
	}
	aead, err := newAEAD(plain)
	clear(plain)
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("sealed: get %s: %w", key, err)
	}
	return &opener{rc: rc, r: br, aead: aead, key: key}, nil
}

// Delete removes the object; absent is not an error.
func (s *Store) Delete(ctx context.Context, key string) error { return s.blobs.Delete(ctx, key) }

type opener struct {
	rc   io.Closer
	r    *bufio.Reader
	aead cipher.AEAD
	key  string
	i    uint64
	buf  []byte // opened, not yet read
	ct   []byte // one chunk, reused
	done bool
	err  error
}

func (o *opener) Read(p []byte) (int, error) {
	for len(o.buf) == 0 {
		if o.err != nil {
			return 0, o.err
		}
		if o.done {
			return 0, io.EOF
		}
		o.err = o.next()
	}
	n := copy(p, o.buf)
	o.buf = o.buf[n:]
	return n, nil
}

// next opens the next chunk.
func (o *opener) next() error {
	var h [5]byte
	if _, err := io.ReadFull(o.r, h[:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return fmt.Errorf("sealed: get %s: cut short: %w", o.key, ErrTampered)
		}
		return fmt.Errorf("sealed: get %s: %w", o.key, err)
	}
	last := h[0] == 1
	size := binary.BigEndian.Uint32(h[1:])
	if h[0] > 1 || size < uint32(o.aead.Overhead()) || size > chunkSize+uint32(o.aead.Overhead()) {
		return fmt.Errorf("sealed: get %s: %w", o.key, ErrTampered)
	}
	if o.ct == nil {
		o.ct = make([]byte, chunkSize+o.aead.Overhead())
	}
	ct := o.ct[:size]
	if _, err := io.ReadFull(o.r, ct); err != nil {
		return fmt.Errorf("sealed: get %s: cut short: %w", o.key, ErrTampered)
	}
	pt, err := o.aead.Open(ct[:0], nonce(o.i, last), ct, []byte(o.key))
	if err != nil {
		return fmt.Errorf("sealed: get %s: chunk %d: %w", o.key, o.i, ErrTampered)
	}
	o.i++
	o.buf = pt
	if last {
		if _, err := o.r.Peek(1); err != io.EOF {
			return fmt.Errorf("sealed: get %s: data after the last chunk: %w", o.key, ErrTampered)
		}
		o.done = true
	}
	return nil
}

func (o *opener) Close() error { return o.rc.Close() }

// nonce is the chunk number (11 bytes) and the last-chunk flag.
func nonce(i uint64, last bool) []byte {
	n := make([]byte, 12)
	binary.BigEndian.PutUint64(n[3:11], i)
	if last {
		n[11] = 1
	}
	return n
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("data key of %d bytes, want 32", len(key))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// AESKey wraps data keys with a 32-byte master key held locally (the
// secrets file), with AES-256-GCM.
type AESKey struct{ aead cipher.AEAD }

var _ Keys = (*AESKey)(nil)

// NewAESKey returns the Keys of master, which must be 32 bytes.
func NewAESKey(master []byte) (*AESKey, error) {
	aead, err := newAEAD(master)
	if err != nil {
		return nil, fmt.Errorf("sealed: master key: %w", err)
	}
	return &AESKey{aead: aead}, nil
}

// NewMasterKey returns 32 random bytes for NewAESKey.
func NewMasterKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k) // crypto/rand.Read never fails
	return k
}

var wrapAD = []byte("mailconnector data key")

// DataKey returns a fresh data key, and it sealed under the master key
// with a random nonce in front.
func (k *AESKey) DataKey(ctx context.Context) (plain, wrapped []byte, err error) {
	plain = NewMasterKey()
	n := make([]byte, k.aead.NonceSize())
	_, _ = rand.Read(n)
	return plain, k.aead.Seal(n, n, plain, wrapAD), nil
}

// Unwrap opens a data key DataKey wrapped.
func (k *AESKey) Unwrap(ctx context.Context, wrapped []byte) ([]byte, error) {
	ns := k.aead.NonceSize()
	if len(wrapped) < ns {
		return nil, ErrTampered
	}
	plain, err := k.aead.Open(nil, wrapped[:ns], wrapped[ns:], wrapAD)
	if err != nil {
		return nil, fmt.Errorf("the master key does not open it: %w", ErrTampered)
	}
	return plain, nil
}
