package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"mailconnector/shared/ledger"
	"mailconnector/shared/message"
	"mailconnector/shared/request"
	"mailconnector/shared/store"
	"mailconnector/shared/store/boltstore"
	"mailconnector/shared/workpool"
)

// fillHistory gives the state in dir a history of n earlier messages of
// the job: each with its ledger entry (processed and disposed), its
// request, its conversation and its Message-ID, written the way the fetch
// and rules stages write them (Record, then Commit). A run on top of it
// shows whether the cost of a message grows with what the state holds.
// The entries come from another UIDVALIDITY, so they never meet the
// mailbox's messages; their senders are the generated mail's domains, so
// the rules' look-ups go through a full index.
func fillHistory(ctx context.Context, dir, jobID string, n int) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	st, err := boltstore.Open(filepath.Join(dir, "state.db"), nil)
	if err != nil {
		return err
	}
	defer st.Close()
	const batch = 1000
	at := time.Now().UTC().Add(-30 * 24 * time.Hour)
	domains := []string{"contoso.example", "fabrikam.example", "northwind.example", "litware.example", "proseware.example"}
	for from := 0; from < n; from += batch {
		entries := make([]ledger.Entry, 0, batch)
		for j := from; j < min(from+batch, n); j++ {
			src := ledger.Source{Protocol: "imap", Folder: "INBOX", Validity: 7, UID: uint32(j + 1)}
			mid := fmt.Sprintf("<history-%d@%s>", j, domains[j%len(domains)])
			key := src.Key()
			entries = append(entries, ledger.Entry{JobID: jobID, Key: key, Source: src, MessageID: mid,
				Fingerprint: ledger.Fingerprint(mid, fmt.Sprintf("%064x", j+1)), Size: 4096,
				RawKey: ledger.RawKey(jobID, key), State: ledger.Queued, RunID: "history", FetchedAt: at, UpdatedAt: at})
		}
		res, err := st.Record(ctx, entries)
		if err != nil {
			return fmt.Errorf("record history: %w", err)
		}
		var mu sync.Mutex
		var firstErr error
		workpool.Each(len(entries), 64, func(i int) {
			e := entries[i]
			var err error
			if res[i].Err != nil {
				err = res[i].Err
			} else {
				e.Version, e.State, e.Disposed, e.Disposition = 1, ledger.Processed, true, "markRead"
				from := message.Address{Name: fmt.Sprintf("User %d", i), Address: fmt.Sprintf("user%d@%s", e.Source.UID%5000, domains[i%len(domains)])}
				_, err = st.Commit(ctx, store.Outcome{
					Entry: e,
					NewRequest: &request.Request{JobID: jobID, Title: "Printer on floor 3 not printing", Description: "It stopped this morning.",
						Requester: from, Status: request.Open, SourceKey: e.Key, MessageID: e.MessageID, CreatedAt: at, UpdatedAt: at},
					Conversation: &request.Conversation{ID: "c-" + e.Key, JobID: jobID, Subject: "Printer on floor 3 not printing",
						Text: "It stopped this morning.", MessageID: e.MessageID, SourceKey: e.Key, CreatedAt: at},
					MessageIDs: []string{e.MessageID},
				})
			}
			if err != nil {
				mu.Lock()
				firstErr = errors.Join(firstErr, fmt.Errorf("history %s: %w", e.Key, err))
				mu.Unlock()
			}
		})
		if firstErr != nil {
			return firstErr
		}
	}
	left, err := st.Undisposed(ctx, jobID, 1)
	if err == nil && len(left) > 0 {
		err = fmt.Errorf("history entry %s is left undisposed", left[0].Key)
	}
	return err
}
