package freelist

import (
	"runtime"
	"testing"
)

func TestKeepsValuesAcrossCollections(t *testing.T) {
	made := 0
	l := New(2, func() *[]byte { made++; b := make([]byte, 0, 64); return &b })
	a, b := l.Get(), l.Get()
	l.Put(a)
	l.Put(b)
	runtime.GC()
	runtime.GC()
	if x, y := l.Get(), l.Get(); x != a && x != b || y != a && y != b || x == y {
		t.Fatalf("got %p %p, want the two values put back (%p %p)", x, y, a, b)
	}
	if made != 2 {
		t.Fatalf("made %d values, want 2", made)
	}
}

func TestDropsWhatDoesNotFit(t *testing.T) {
	made := 0
	l := New(1, func() int { made++; return made })
	l.Put(l.Get())
	l.Put(l.Get() + 10) // the list holds one value: 11
	l.Put(99)           // full: dropped
	if v := l.Get(); v != 11 {
		t.Fatalf("got %d, want the kept value 11", v)
	}
	if v := l.Get(); v != 2 {
		t.Fatalf("got %d, want a fresh value (2) from an empty list", v)
	}
}
