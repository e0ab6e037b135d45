package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"mailconnector/shared/store"
)

// eventOf is an Outcome.Event that reports the request number and entry
// version the outcome is stored with.
func eventOf(o store.Outcome) ([]byte, error) {
	v := map[string]any{"key": o.Entry.Key, "version": o.Entry.Version}
	if o.NewRequest != nil {
		v["number"] = o.NewRequest.Number
	}
	return json.Marshal(v)
}

func claim(tb testing.TB, s store.Store, now, until int, limit int) []store.OutboxEntry {
	tb.Helper()
	got, err := s.ClaimOutbox(context.Background(), at(now), at(until), limit)
	if err != nil {
		tb.Fatalf("ClaimOutbox: %v", err)
	}
	return got
}

func outboxKeys(es []store.OutboxEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Key)
	}
	return out
}

// testOutbox: an event committed with its outcome waits, claimed by the
// committer, then is claimed by one claimer at a time until deleted; a
// refused commit leaves none.
func testOutbox(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	entries := record(t, s, newEntry("job-a", "k1", 1), newEntry("job-a", "k2", 2), newEntry("job-a", "k3", 3))
	first, err := s.Commit(ctx, store.Outcome{
		Entry: processed(entries[0], 10), NewRequest: newRequest("job-a", "r1", 10), Conversation: newConversation("c1", "", 10),
		Event: eventOf, EventClaimedUntil: at(16),
	})
	noErr(t, "Commit with event", err)
	if first.OutboxID == "" {
		t.Fatal("Commit with event: got no OutboxID, want one")
	}
	_, err = s.Commit(ctx, store.Outcome{Entry: processed(entries[1], 12), Event: eventOf})
	noErr(t, "Commit with unclaimed event", err)
	_, err = s.Commit(ctx, store.Outcome{Entry: processed(entries[2], 13)})
	noErr(t, "Commit without event", err)
	// Refused: final already. No event is stored for it.
	_, err = s.Commit(ctx, store.Outcome{Entry: processed(entries[0], 14), Event: eventOf})
	wantErr(t, "Commit refused", err, store.ErrFinal)

	diff(t, "claimed while the committer holds k1", []string{"k2"}, outboxKeys(claim(t, s, 10, 20, 10)))
	diff(t, "claimed while both are held", []string(nil), outboxKeys(claim(t, s, 15, 30, 10)))
	got := claim(t, s, 21, 40, 10)
	diff(t, "claimed after the claims ended", []string{"k1", "k2"}, outboxKeys(got))
	if len(got) == 2 {
		diff(t, "payload of k1", `{"key":"k1","number":1,"version":2}`, string(got[0].Payload))
		if got[0].ID != first.OutboxID || got[0].JobID != "job-a" {
			t.Errorf("k1 entry: got ID %q job %q, want %q job-a", got[0].ID, got[0].JobID, first.OutboxID)
		}
		noErr(t, "DeleteOutbox", s.DeleteOutbox(ctx, got[0].ID))
	}
	noErr(t, "DeleteOutbox of a deleted entry", s.DeleteOutbox(ctx, first.OutboxID))
	diff(t, "claimed after k1 was deleted", []string{"k2"}, outboxKeys(claim(t, s, 41, 50, 10)))
	diff(t, "claimed with limit 0", []string(nil), outboxKeys(claim(t, s, 51, 60, 0)))

	// Claimers at once: each entry goes to one of them.
	var mu sync.Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			es, err := s.ClaimOutbox(ctx, at(61), at(70), 10)
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("ClaimOutbox at once: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, e := range es {
				counts[e.Key]++
			}
		}()
	}
	wg.Wait()
	diff(t, "claims at once", map[string]int{"k2": 1}, counts)
}
