package boltstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"mailconnector/shared/ledger"
	"mailconnector/shared/store"
)

// TestForgetJobInChunks: a ledger larger than one transaction's share is
// forgotten whole, indexes and all.
func TestForgetJobInChunks(t *testing.T) {
	s, ctx := open(t, nil), context.Background()
	const n = 2500
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var es []ledger.Entry
	for i := range n {
		k := fmt.Sprintf("imap/INBOX/1/%d", i+1)
		es = append(es, ledger.Entry{JobID: "big", Key: k, Fingerprint: ledger.Fingerprint("<"+k+">", fmt.Sprintf("%064x", i)),
			MessageID: "<" + k + ">", State: ledger.Queued, FetchedAt: at, UpdatedAt: at})
	}
	if _, err := s.Record(ctx, es); err != nil {
		t.Fatal(err)
	}
	got, err := s.ForgetJob(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.Forgotten{Entries: n}); got != want {
		t.Errorf("ForgetJob: got %+v, want %+v", got, want)
	}
	left, err := s.Unfinished(ctx, "big", at.Add(time.Hour), 0)
	if err != nil || len(left) != 0 {
		t.Errorf("Unfinished after ForgetJob: got %d, %v; want none", len(left), err)
	}
	res, err := s.Record(ctx, es[:1])
	if err != nil || res[0].Err != nil {
		t.Errorf("Record again: got %v, %+v; want it new", err, res)
	}
}
