// Package deflate compresses the JSON values a store keeps (RFC 1951,
// compress/flate, at its best compression), with pooled compressors: a
// flate writer costs hundreds of kilobytes to make, and a store packs a
// value on every write. dynamostore uses it to keep items under a billed
// kilobyte; boltstore keeps JSON (deflating its values did not make runs
// faster: go run ./cmd/benchmark -n 2000, end to end 5.7–6.8 s as JSON,
// 6.0–7.0 s deflated, 3 MB less peak RSS).
package deflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"sync"
)

var (
	writers = sync.Pool{New: func() any {
		w, _ := flate.NewWriter(nil, flate.BestCompression)
		return w
	}}
	readers sync.Pool
)

// Pack appends src, deflated, to dst and returns the result.
func Pack(dst, src []byte) []byte {
	buf := bytes.NewBuffer(dst)
	buf.Grow(len(src)/2 + 16)
	w := writers.Get().(*flate.Writer)
	w.Reset(buf)
	w.Write(src) // a bytes.Buffer does not fail
	w.Close()
	writers.Put(w)
	return buf.Bytes()
}

// Unpack inflates src.
func Unpack(src []byte) ([]byte, error) {
	in := bytes.NewReader(src)
	r, _ := readers.Get().(io.ReadCloser)
	if r == nil {
		r = flate.NewReader(in)
	} else if err := r.(flate.Resetter).Reset(in, nil); err != nil {
		return nil, err
	}
	defer readers.Put(r)
	var out bytes.Buffer
	out.Grow(len(src) * 2)
	if _, err := out.ReadFrom(r); err != nil {
		return nil, fmt.Errorf("inflate: %w", err)
	}
	return out.Bytes(), nil
}
