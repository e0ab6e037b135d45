package pipeline_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"mailconnector/shared/pipeline"
)

// TestReplyInTheSameBatchLandsOnItsOriginal delivers originals and their
// replies together; with four workers a reply is often preprocessed first,
// and must wait for its original rather than open a request of its own.
func TestReplyInTheSameBatchLandsOnItsOriginal(t *testing.T) {
	e := newEnv(t, nil)
	var raws [][]byte
	const n = 10
	for i := 0; i < n; i++ {
		// A long original (slow to preprocess) and a short reply.
		body := ""
		for k := 0; k < 2000; k++ {
			body += fmt.Sprintf("line %d of the original report\r\n", k)
		}
		raws = append(raws, []byte(fmt.Sprintf("Message-ID: <orig%d@example.com>\r\nFrom: a%d@example.com\r\nSubject: problem %d\r\n\r\n%s", i, i, i, body)))
		// Half the replies name their original in In-Reply-To, half only
		// in References (as some clients do).
		ref := "In-Reply-To"
		if i%2 == 1 {
			ref = "References"
		}
		raws = append(raws, []byte(fmt.Sprintf("Message-ID: <reply%d@example.com>\r\n%s: <orig%d@example.com>\r\nFrom: a%d@example.com\r\nSubject: Re: problem %d\r\n\r\nmore detail\r\n", i, ref, i, i, i)))
	}
	e.deliver(raws...)
	// The visibility is long enough that a slow preprocessing on a loaded
	// machine is not redelivered (and given up) while still in hand.
	r := e.start(pipeline.Config{Workers: 4, Visibility: 3 * time.Second})
	runJob(t, r, e)
	ctx := context.Background()
	reqs, err := e.store.ListRequests(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != n {
		t.Fatalf("got %d requests, want %d (one per original)", len(reqs), n)
	}
	for _, rq := range reqs {
		convs, _ := e.store.Conversations(ctx, rq.ID)
		if len(convs) != 2 {
			t.Errorf("request %q: got %d conversations, want the original and its reply", rq.Title, len(convs))
		}
	}
	if t.Failed() {
		for i := 0; i < n; i++ {
			for _, id := range []string{fmt.Sprintf("orig%d@example.com", i), fmt.Sprintf("reply%d@example.com", i)} {
				en, _ := e.store.EntryByMessageID(ctx, "support", id)
				t.Logf("%s: %s, request %s, reason %q", id, en.State, en.RequestID, en.Reason)
			}
		}
	}
}
