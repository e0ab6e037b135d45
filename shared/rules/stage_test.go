package rules

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"mailconnector/shared/blob/fileblob"
	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/message"
	"mailconnector/shared/request"
	"mailconnector/shared/store"
	"mailconnector/shared/store/boltstore"
)

func TestReplyReopensAClosedRequestWhenAsked(t *testing.T) {
	for _, reopen := range []bool{true, false} {
		ctx := context.Background()
		st, err := boltstore.Open(filepath.Join(t.TempDir(), "s.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		blobs, _ := fileblob.New(t.TempDir())
		yaml := ""
		if reopen {
			yaml = "    processing: {reopenClosed: true}\n"
		}
		j := jobWith(t, yaml)
		stage := NewStage(StageOptions{Store: st, Blobs: blobs, Jobs: &job.File{Jobs: []job.Job{*j}}})
		now := time.Now()
		put := func(key string, m message.Message) {
			b, _ := json.Marshal(m)
			if _, err := blobs.Put(ctx, ledger.NormKey("support", key), bytes.NewReader(b)); err != nil {
				t.Fatal(err)
			}
			e := ledger.Entry{JobID: "support", Key: key, State: ledger.Preprocessed, NormKey: ledger.NormKey("support", key), FetchedAt: now, UpdatedAt: now}
			if _, err := st.Record(ctx, []ledger.Entry{e}); err != nil {
				t.Fatal(err)
			}
			if err := stage.Handle(ctx, ledger.Pointer{JobID: "support", Key: key}); err != nil {
				t.Fatal(err)
			}
		}
		put("k1", message.Message{Subject: "VPN", MessageID: "v1@example.com", From: message.Address{Address: "a@customer.example"}, VisibleText: "down"})
		r, err := st.RequestByNumber(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		// An agent closes it.
		r.Status = request.Closed
		closer := ledger.Entry{JobID: "support", Key: "close", State: ledger.Queued, FetchedAt: now, UpdatedAt: now}
		if _, err := st.Record(ctx, []ledger.Entry{closer}); err != nil {
			t.Fatal(err)
		}
		closer, _ = st.Entry(ctx, "support", "close")
		closer.State = ledger.Processed
		if _, err := st.Commit(ctx, store.Outcome{Entry: closer, UpdateRequest: &r}); err != nil {
			t.Fatal(err)
		}
		put("k2", message.Message{Subject: "Re: VPN", MessageID: "v2@example.com", InReplyTo: []string{"v1@example.com"}, From: message.Address{Address: "a@customer.example"}, VisibleText: "still down"})
		r, _ = st.RequestByNumber(ctx, 1)
		want := request.Closed
		if reopen {
			want = request.Open
		}
		convs, _ := st.Conversations(ctx, r.ID)
		if r.Status != want || len(convs) != 2 {
			t.Errorf("reopenClosed %v: got status %s with %d conversations, want %s with 2", reopen, r.Status, len(convs), want)
		}
	}
}
