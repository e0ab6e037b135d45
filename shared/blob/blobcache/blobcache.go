// Package blobcache keeps recently written small objects of a blob.Store in
// memory, bounded in bytes, so that the next stage of the local runner
// reads a message it was just handed without touching the disk. Writes go
// through to the inner store before Put returns; a large object streams
// through without being held.
package blobcache

import (
	"bytes"
	"container/list"
	"context"
	"io"
	"sync"

	"mailconnector/shared/blob"
)

// Store is a write-through cache in front of a blob.Store.
type Store struct {
	inner     blob.Store
	maxBytes  int64
	maxObject int64

	// scratch holds the first maxObject+1 bytes of a Put while it finds
	// out whether the object is small: a buffer grown by doubling cost
	// about three times a small object's size, and half a megabyte for
	// each large one, in allocations the collector then had to catch up
	// with.
	scratch sync.Pool // of *[]byte, maxObject+1 long

	mu    sync.Mutex
	size  int64
	order *list.List // front: newest
	items map[string]*list.Element
}

type entry struct {
	key  string
	data []byte
}

var (
	_ blob.Store  = (*Store)(nil)
	_ blob.Syncer = (*Store)(nil)
)

// New caches objects of at most maxObject bytes, maxBytes in all.
func New(inner blob.Store, maxBytes, maxObject int64) *Store {
	s := &Store{inner: inner, maxBytes: maxBytes, maxObject: maxObject, order: list.New(), items: map[string]*list.Element{}}
	s.scratch.New = func() any {
		b := make([]byte, maxObject+1)
		return &b
	}
	return s
}

// Put writes through to the inner store and keeps a small object.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	bp := s.scratch.Get().(*[]byte)
	defer s.scratch.Put(bp)
	head := *bp
	n, err := io.ReadFull(r, head)
	switch {
	case err == nil:
		// Too large to keep: stream the rest straight through.
		s.evict(key)
		return s.inner.Put(ctx, key, io.MultiReader(bytes.NewReader(head), r))
	case err != io.EOF && err != io.ErrUnexpectedEOF:
		s.evict(key)
		return 0, err
	}
	data := bytes.Clone(head[:n])
	written, err := s.inner.Put(ctx, key, bytes.NewReader(data))
	if err != nil {
		s.evict(key)
		return written, err
	}
	s.add(key, data)
	return written, nil
}

// Get serves a cached object from memory, others from the inner store.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	s.mu.Lock()
	if el, ok := s.items[key]; ok {
		s.order.MoveToFront(el)
		data := el.Value.(*entry).data
		s.mu.Unlock()
		return io.NopCloser(bytes.NewReader(data)), nil
	}
	s.mu.Unlock()
	return s.inner.Get(ctx, key)
}

// Delete removes the object from both.
func (s *Store) Delete(ctx context.Context, key string) error {
	s.evict(key)
	return s.inner.Delete(ctx, key)
}

// Sync passes to the inner store when it is a blob.Syncer.
func (s *Store) Sync(ctx context.Context) error {
	if sy, ok := s.inner.(blob.Syncer); ok {
		return sy.Sync(ctx)
	}
	return nil
}

func (s *Store) add(key string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.items[key]; ok {
		s.remove(el)
	}
	s.items[key] = s.order.PushFront(&entry{key: key, data: data})
	s.size += int64(len(data))
	for s.size > s.maxBytes && s.order.Len() > 0 {
		s.remove(s.order.Back())
	}
}

func (s *Store) evict(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.items[key]; ok {
		s.remove(el)
	}
}

// remove drops the cached object el; s.mu is held.
func (s *Store) remove(el *list.Element) {
	e := el.Value.(*entry)
	s.order.Remove(el)
	delete(s.items, e.key)
	s.size -= int64(len(e.data))
}

// Len reports the cached objects and bytes (for tests).
func (s *Store) Len() (objects int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.order.Len(), s.size
}
