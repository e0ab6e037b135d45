package storetest

import (
	"context"
	"testing"

	"mailconnector/shared/ledger"
	"mailconnector/shared/store"
)

// testMessages: an administrator's look-ups. A job's entries come newest
// first, selected by status, time, sender and subject; a Message-ID or a
// sender address finds its entries in every job, whether the entry knew it
// when recorded or learned it later (preprocessing).
func testMessages(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	m, ok := s.(store.Messages)
	if !ok {
		t.Fatalf("%T does not implement store.Messages", s)
	}
	mk := func(jobID, key string, minute int, st ledger.State, from, name, subject string) ledger.Entry {
		e := newEntry(jobID, key, minute)
		e.State = st
		e.Describe(from, name, subject, at(minute), "")
		return e
	}
	created := mk("job-a", "m1", 1, ledger.Processed, "Alice@Example.com", "Alice Liddell", "Printer on fire")
	created.Action, created.RequestID, created.Conversation = "create", "1", "c1"
	rejected := mk("job-a", "m2", 2, ledger.Rejected, "mallory@evil.test", "", "You won a prize")
	inErrors := mk("job-a", "m3", 3, ledger.Failed, "bob@example.com", "Bob", "Broken attachment")
	inErrors.Disposed, inErrors.InErrorFolder, inErrors.Disposition = true, true, "move Errors"
	pending := newEntry("job-a", "m4", 4) // not preprocessed yet: no sender known
	other := mk("job-b", "o1", 5, ledger.Processed, "alice@example.com", "Alice", "Printer again")
	other.Action = "ignore"
	record(t, s, created, rejected, inErrors, pending, other)

	list := func(what string, q store.MessageQuery, want ...string) {
		t.Helper()
		if q.JobID == "" {
			q.JobID = "job-a"
		}
		got, err := m.Messages(ctx, q)
		noErr(t, what, err)
		if want == nil {
			want = []string{}
		}
		diff(t, what, want, keys(got))
	}
	list("all, newest first", store.MessageQuery{}, "m4", "m3", "m2", "m1")
	list("limit 2", store.MessageQuery{Limit: 2}, "m4", "m3")
	list("created", store.MessageQuery{Status: "created"}, "m1")
	list("rejected", store.MessageQuery{Status: "rejected"}, "m2")
	list("error folder", store.MessageQuery{Status: ledger.StatusError}, "m3")
	list("pending", store.MessageQuery{Status: "pending"}, "m4")
	list("ignored", store.MessageQuery{Status: "ignored"})
	list("since minute 2", store.MessageQuery{Since: at(2)}, "m4", "m3", "m2")
	list("from an address part, any case", store.MessageQuery{From: "EXAMPLE.COM"}, "m3", "m1")
	list("from a display name", store.MessageQuery{From: "liddell"}, "m1")
	list("subject", store.MessageQuery{Subject: "PRINTER"}, "m1")
	list("since and from, limit 1", store.MessageQuery{Since: at(1), From: "example", Limit: 1}, "m3")
	list("another job", store.MessageQuery{JobID: "job-b"}, "o1")
	list("unknown job", store.MessageQuery{JobID: "job-none"})

	find := func(what, who string, want ...string) {
		t.Helper()
		got, err := m.FindMessages(ctx, who, 0)
		noErr(t, what, err)
		var jk []string
		for _, e := range got {
			jk = append(jk, e.JobID+"/"+e.Key)
		}
		diff(t, what, want, jk)
	}
	find("sender across jobs, any case, newest first", "ALICE@example.com", "job-b/o1", "job-a/m1")
	find("Message-ID without brackets", "m2@example.com", "job-a/m2")
	find("Message-ID with brackets and blanks", " <M3@Example.com> ", "job-a/m3")
	find("sender unknown until preprocessed", "carol@example.com")
	find("nothing", "")

	// Preprocessing learns the sender of m4.
	e := getEntry(t, s, "job-a", "m4")
	e.State = ledger.Preprocessed
	e.Describe("Carol@example.com", "Carol", "Where is my mail?", at(4), "auto-reply")
	_, err := s.Update(ctx, e)
	noErr(t, "describe m4", err)
	find("sender learned by an update", "carol@example.com", "job-a/m4")
	find("Message-ID of the updated entry", "<m4@example.com>", "job-a/m4")
	list("subject learned by an update", store.MessageQuery{Subject: "my mail"}, "m4")

	got, err := m.FindMessages(ctx, "alice@example.com", 1)
	noErr(t, "FindMessages limit 1", err)
	diff(t, "FindMessages limit 1", []string{"o1"}, keys(got))
	if len(got) == 1 {
		diff(t, "FindMessages entry", getEntry(t, s, "job-b", "o1"), got[0])
	}
}
