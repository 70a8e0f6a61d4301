package main

import (
	"errors"
	"sync"
)

// errBadHandle is returned for a handle that was never issued or whose
// upload or download has finished.
var errBadHandle = errors.New("invalid or finished handle")

// registry hands out numeric handles for Go values the host holds, since
// Go pointers must not be kept by C code.
type registry[T any] struct {
	mu    sync.Mutex
	next  uint64
	items map[uint64]T
}

func newRegistry[T any]() *registry[T] {
	return &registry[T]{next: 1, items: map[uint64]T{}}
}

func (r *registry[T]) add(v T) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.next
	r.next++
	r.items[h] = v
	return h
}

func (r *registry[T]) get(h uint64) (T, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.items[h]
	return v, ok
}

func (r *registry[T]) remove(h uint64) (T, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.items[h]
	delete(r.items, h)
	return v, ok
}
