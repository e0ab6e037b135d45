package preprocess

import (
	"context"
	"runtime"
	"testing"

	"mailconnector/shared/mailgen"
)

// benchMailbox is the generated mailbox BenchmarkPreprocess runs over:
// the same generator and default mix as `make bench` (multipart
// alternative, 10% with attachments of 100 KB-2 MB, 10% in other
// charsets, 20% replies with quotes).
func benchMailbox(tb testing.TB, n int) ([][]byte, int64) {
	tb.Helper()
	var msgs [][]byte
	var total int64
	err := mailgen.Generate(n, &mailgen.Options{Seed: 42}, func(_ int, m mailgen.Message) error {
		msgs = append(msgs, m.Raw)
		total += int64(len(m.Raw))
		return nil
	})
	if err != nil {
		tb.Fatalf("generate mailbox: %v", err)
	}
	return msgs, total
}

// BenchmarkPreprocess reports the throughput of Process on the generated
// mailbox in msgs/s and MB/s, with allocations and the peak heap in use.
// Attachments go to an in-memory store that keeps only their hashes, so
// the figures are those of preprocessing itself.
//
//	go test -run XXX -bench BenchmarkPreprocess -benchtime 3x ./shared/preprocess
func BenchmarkPreprocess(b *testing.B) {
	msgs, total := benchMailbox(b, 200)
	j := testJob()
	j.Attachments.MaxSize = 4 << 20
	b.SetBytes(total)
	b.ReportAllocs()
	runtime.GC()
	stop := heapPeak()
	n := 0
	for b.Loop() {
		for _, raw := range msgs {
			store := newMemStore()
			store.hashOnly = true
			if _, err := Process(context.Background(), bytesReader(raw), &Options{Job: j, Blobs: store, KeyPrefix: "att/bench/"}); err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
	peak := stop()
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}
