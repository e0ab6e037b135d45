package boltstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"mailconnector/shared/ledger"
	"mailconnector/shared/message"
	"mailconnector/shared/request"
	"mailconnector/shared/store"
	"mailconnector/shared/store/boltstore"
)

// BenchmarkPipeline pushes 10,000 messages through Record (batches of 100)
// and then Commit (a new request each, from several goroutines at once),
// with fsync on, and reports records/s, commits/s and how many commits
// shared a write transaction (commits/txn).
func BenchmarkPipeline(b *testing.B) {
	const messages, batchSize = 10_000, 100
	for _, workers := range []int{1, 8, 32, 128} {
		b.Run(fmt.Sprintf("committers=%d", workers), func(b *testing.B) {
			var recordTime, commitTime time.Duration
			var txns int64
			for i := 0; b.Loop(); i++ {
				s, err := boltstore.Open(filepath.Join(b.TempDir(), fmt.Sprintf("bench%d.db", i)), nil)
				if err != nil {
					b.Fatalf("Open: %v", err)
				}
				ctx := context.Background()
				entries := make([]ledger.Entry, messages)
				now := time.Now().UTC()
				for j := range entries {
					key := fmt.Sprintf("imap/INBOX/1/%d", j)
					entries[j] = ledger.Entry{
						JobID: "job-a", Key: key, Source: ledger.Source{Protocol: "imap", Folder: "INBOX", Validity: 1, UID: uint32(j)},
						Fingerprint: ledger.Fingerprint(fmt.Sprintf("<m%d@example.com>", j), fmt.Sprintf("%064x", j)),
						MessageID:   fmt.Sprintf("<m%d@example.com>", j), Size: 4096, RawKey: "raw/" + key,
						State: ledger.Queued, FetchedAt: now, UpdatedAt: now,
					}
				}
				start := time.Now()
				for j := 0; j < messages; j += batchSize {
					res, err := s.Record(ctx, entries[j:j+batchSize])
					if err != nil {
						b.Fatalf("Record: %v", err)
					}
					for _, r := range res {
						if r.Err != nil {
							b.Fatalf("Record: %v", r.Err)
						}
					}
				}
				recordTime += time.Since(start)

				work := make(chan ledger.Entry)
				var wg sync.WaitGroup
				before := boltstore.Transactions(s)
				start = time.Now()
				for range workers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for e := range work {
							e.Version, e.State, e.UpdatedAt = 1, ledger.Processed, time.Now()
							_, err := s.Commit(ctx, store.Outcome{
								Entry: e,
								NewRequest: &request.Request{
									JobID: e.JobID, Title: "Printer on fire", Description: "It is on fire.",
									Requester: message.Address{Address: "ann@example.com"}, Status: request.Open,
									SourceKey: e.Key, MessageID: e.MessageID, CreatedAt: e.UpdatedAt, UpdatedAt: e.UpdatedAt,
								},
								Conversation: &request.Conversation{
									ID: "c-" + e.Key, JobID: e.JobID, Subject: "Printer on fire", Text: "It is on fire.",
									MessageID: e.MessageID, SourceKey: e.Key, CreatedAt: e.UpdatedAt,
								},
								MessageIDs: []string{e.MessageID},
							})
							if err != nil {
								b.Errorf("Commit: %v", err)
							}
						}
					}()
				}
				for _, e := range entries {
					work <- e
				}
				close(work)
				wg.Wait()
				commitTime += time.Since(start)
				txns += boltstore.Transactions(s) - before
				if err := s.Close(); err != nil {
					b.Fatalf("Close: %v", err)
				}
			}
			total := float64(b.N * messages)
			b.ReportMetric(total/recordTime.Seconds(), "records/s")
			b.ReportMetric(total/commitTime.Seconds(), "commits/s")
			b.ReportMetric(total/float64(txns), "commits/txn")
		})
	}
}
