// Package freelist keeps a few values, buffers mostly, for reuse by the
// next message.
//
// It exists beside sync.Pool because a pool lets go of what it holds at
// every garbage collection (it keeps it one more cycle), and under the
// connector's soft memory limit the collector runs tens of times a second
// on a busy run: buffers pooled that way rarely lived to the next message,
// and the more a run held, the more often the collector ran and the less
// the pool kept (a 50,000-message run allocated 90 KB a message for the
// raw-message buffers it pooled). A List keeps up to its size whatever
// the collector does; what does not fit is left to it.
package freelist

// List is a bounded free list. It is safe for concurrent use.
type List[T any] struct {
	free  chan T
	fresh func() T
}

// New returns a List that keeps at most n values and makes a new one with
// fresh when it has none.
func New[T any](n int, fresh func() T) *List[T] {
	return &List[T]{free: make(chan T, n), fresh: fresh}
}

// Get returns a kept value, or a fresh one. The caller resets it.
func (l *List[T]) Get() T {
	select {
	case v := <-l.free:
		return v
	default:
		return l.fresh()
	}
}

// Put keeps v for a later Get, or drops it when the list is full. The
// caller must not use v after, and should not put back a value it would
// rather not keep (a buffer grown for a rare large message).
func (l *List[T]) Put(v T) {
	select {
	case l.free <- v:
	default:
	}
}
