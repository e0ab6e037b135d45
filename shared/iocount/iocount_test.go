package iocount

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReader(t *testing.T) {
	r := &Reader{R: strings.NewReader("hello")}
	if b, err := io.ReadAll(r); err != nil || string(b) != "hello" || r.N != 5 {
		t.Errorf("got %q, %v, N %d; want hello, nil, 5", b, err, r.N)
	}
	r = &Reader{R: strings.NewReader("hel"), Want: 5}
	if _, err := io.ReadAll(r); !errors.Is(err, io.ErrUnexpectedEOF) || r.N != 3 {
		t.Errorf("cut short: got %v, N %d; want io.ErrUnexpectedEOF, 3", err, r.N)
	}
	if _, ok := any(r).(io.Seeker); ok {
		t.Error("Reader is a Seeker; it must hide the wrapped reader's Seek")
	}
}
