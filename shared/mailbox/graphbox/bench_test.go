package graphbox_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/mailboxtest"
)

// BenchmarkScanAndFetch measures a delta scan and the streamed download of
// 1,000 messages of 20 KB from graphtest on loopback (no latency): the
// adapter's own cost per message, not Graph's.
func BenchmarkScanAndFetch(b *testing.B) {
	const n = 1000
	e := newEnvB(b)
	for i := 0; i < n; i++ {
		e.srv.Deliver(e.user, "Inbox", mailboxtest.Message(fmt.Sprintf("bench%d@example.com", i), 20<<10))
	}
	b.ReportAllocs()
	b.ResetTimer()
	var bytes int64
	for i := 0; i < b.N; i++ {
		s := e.openB(b)
		sc, err := s.Scan(context.Background(), "")
		if err != nil {
			b.Fatal(err)
		}
		err = s.Fetch(context.Background(), sc.Items, func(_ mailbox.Item, r io.Reader) error {
			m, err := io.Copy(io.Discard, r)
			bytes += m
			return err
		})
		if err != nil || len(sc.Items) != n {
			b.Fatalf("got %d items, %v", len(sc.Items), err)
		}
		s.Close()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.SetBytes(bytes / int64(b.N))
}
