package preprocess

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sync"

	"mailconnector/shared/blob"
)

// memStore is an in-memory blob.Store. With hashOnly it keeps only the
// SHA-256 and size of each object, so huge objects cost no memory.
type memStore struct {
	mu       sync.Mutex
	hashOnly bool
	objects  map[string][]byte
	hashes   map[string]string
	sizes    map[string]int64
	deleted  []string
	putErr   error // returned by Put after reading when set
}

var _ blob.Store = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{objects: map[string][]byte{}, hashes: map[string]string{}, sizes: map[string]int64{}}
}

func (s *memStore) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	h := sha256.New()
	var buf bytes.Buffer
	w := io.Writer(h)
	if !s.hashOnly {
		w = io.MultiWriter(h, &buf)
	}
	n, err := io.Copy(w, r)
	if err != nil {
		return n, fmt.Errorf("memstore put %s: %w", key, err)
	}
	if s.putErr != nil {
		return n, s.putErr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.hashOnly {
		s.objects[key] = buf.Bytes()
	}
	s.hashes[key] = hex.EncodeToString(h.Sum(nil))
	s.sizes[key] = n
	return n, nil
}

func (s *memStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.objects[key]
	if !ok {
		return nil, blob.ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (s *memStore) Delete(ctx context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objects, key)
	delete(s.hashes, key)
	delete(s.sizes, key)
	s.deleted = append(s.deleted, key)
	return nil
}
