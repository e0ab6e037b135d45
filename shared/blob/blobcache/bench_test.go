package blobcache

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"mailconnector/shared/blob"
)

// discard is an inner store that reads and drops what it is given, so
// the benchmark measures the cache alone.
type discard struct{ blob.Store }

func (discard) Put(_ context.Context, _ string, r io.Reader) (int64, error) {
	return io.Copy(io.Discard, r)
}

// onlyReader hides bytes.Reader's WriterTo, as a network or decoder
// stream would.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// BenchmarkPut: the bytes a Put allocates for a message the cache keeps
// (40 KB) and for one it streams through (600 KB), with the local
// runner's bounds. Run: go test -run XXX -bench BenchmarkPut -benchmem ./shared/blob/blobcache
func BenchmarkPut(b *testing.B) {
	for _, size := range []int{40 << 10, 600 << 10} {
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			s := New(discard{}, 8<<20, 128<<10)
			data := bytes.Repeat([]byte("0123456789abcdef"), size/16)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := s.Put(context.Background(), fmt.Sprintf("raw/job/%d.eml", i%64), onlyReader{bytes.NewReader(data)}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
