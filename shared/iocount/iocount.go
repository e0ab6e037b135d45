// Package iocount counts the bytes read through a reader.
package iocount

import "io"

// Reader counts in N the bytes read from R. With Want set, an end of R
// before Want bytes is io.ErrUnexpectedEOF: a body cut short (a dropped
// connection) is not taken for a whole one. Reader has only Read, so it
// hides any Seek or ReadAt of R (an uploader then streams the body rather
// than sizing it up front).
type Reader struct {
	R    io.Reader
	N    int64
	Want int64
}

func (c *Reader) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	c.N += int64(n)
	if err == io.EOF && c.N < c.Want {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}
