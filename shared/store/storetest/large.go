package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"mailconnector/shared/message"
	"mailconnector/shared/request"
	"mailconnector/shared/run"
	"mailconnector/shared/store"
)

// largeConversation is a conversation with n attachments, each with a
// long name and hashes, so its JSON is far past one DynamoDB item (400 KB).
func largeConversation(id, requestID string, minute, n int) *request.Conversation {
	c := newConversation(id, requestID, minute)
	c.Attachments = nil
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("scan-%05d-%s.pdf", i, strings.Repeat("é", 20))
		c.Attachments = append(c.Attachments, message.Attachment{
			Filename: name, SafeName: name, ContentType: "application/pdf", Size: int64(1000 + i),
			BlobKey: fmt.Sprintf("att/job-a/%s/%05d", id, i), SHA256: fmt.Sprintf("%064x", i),
		})
	}
	return c
}

// largeRequest is a request with n participants and a long title.
func largeRequest(jobID string, minute, n int) *request.Request {
	r := newRequest(jobID, "big", minute)
	r.Title = strings.Repeat("Subject ", 20_000) // 160 KB
	for i := 0; i < n; i++ {
		r.Participants = append(r.Participants, fmt.Sprintf("recipient-%05d@example.com", i))
	}
	return r
}

// testCommitLarge commits a conversation with 3,000 attachments on a
// request with 20,000 participants, and reads both back whole by every
// way the store offers; then shrinks the request again.
func testCommitLarge(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	entries := record(t, s, newEntry("job-a", "k1", 1), newEntry("job-a", "k2", 2), newEntry("job-a", "k3", 3))
	o := store.Outcome{
		Entry:        processed(entries[0], 10),
		NewRequest:   largeRequest("job-a", 10, 20_000),
		Conversation: largeConversation("c1", "", 10, 3000),
		MessageIDs:   []string{"<big@example.com>"},
	}
	got, err := s.Commit(ctx, o)
	noErr(t, "Commit large outcome", err)
	if got.NewRequest == nil {
		t.Fatal("Commit large outcome: returned no NewRequest")
	}
	wantReq := *o.NewRequest
	wantReq.Number, wantReq.ID = got.NewRequest.Number, got.NewRequest.ID
	wantConv := *o.Conversation
	wantConv.RequestID = wantReq.ID

	check := func(what string, wantReq request.Request, wantConvs []request.Conversation) {
		t.Helper()
		tests := []struct {
			name string
			get  func() (request.Request, error)
		}{
			{"Request", func() (request.Request, error) { return s.Request(ctx, wantReq.ID) }},
			{"RequestByNumber", func() (request.Request, error) { return s.RequestByNumber(ctx, wantReq.Number) }},
			{"RequestByMessageID", func() (request.Request, error) { return s.RequestByMessageID(ctx, "<big@example.com>") }},
			{"ListRequests", func() (request.Request, error) {
				rs, err := s.ListRequests(ctx, "", 10)
				if err != nil || len(rs) != 1 {
					return request.Request{}, fmt.Errorf("got %d requests (err %v), want 1", len(rs), err)
				}
				return rs[0], nil
			}},
			{"ListRequests of the job", func() (request.Request, error) {
				rs, err := s.ListRequests(ctx, "job-a", 10)
				if err != nil || len(rs) != 1 {
					return request.Request{}, fmt.Errorf("got %d requests (err %v), want 1", len(rs), err)
				}
				return rs[0], nil
			}},
		}
		for _, tt := range tests {
			r, err := tt.get()
			noErr(t, what+": "+tt.name, err)
			diff(t, what+": "+tt.name, wantReq, r)
		}
		convs, err := s.Conversations(ctx, wantReq.ID)
		noErr(t, what+": Conversations", err)
		diff(t, what+": Conversations", wantConvs, convs)
	}
	check("after the large commit", wantReq, []request.Conversation{wantConv})

	// A reply on the large request, with a small conversation and the
	// request shrunk back: nothing of the large versions shows through.
	small := wantReq
	small.Title, small.Participants, small.UpdatedAt = "small again", []string{"ann@example.com"}, at(20)
	reply := newConversation("c2", wantReq.ID, 20)
	_, err = s.Commit(ctx, store.Outcome{Entry: processed(entries[1], 20), UpdateRequest: &small, Conversation: reply})
	noErr(t, "Commit shrinking reply", err)
	check("after shrinking", small, []request.Conversation{wantConv, *reply})

	// And large again, through an update.
	big := small
	big.Participants = wantReq.Participants
	big.UpdatedAt = at(30)
	late := largeConversation("c3", wantReq.ID, 30, 3000)
	_, err = s.Commit(ctx, store.Outcome{Entry: processed(entries[2], 30), UpdateRequest: &big, Conversation: late})
	noErr(t, "Commit growing reply", err)
	check("after growing", big, []request.Conversation{wantConv, *reply, *late})
}

// testLargeRun stores a run with 5,000 long errors (a batch where every
// message failed), then the same run shorter, and reads each back whole.
func testLargeRun(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	r := run.Run{JobID: "job-a", ID: "r1", Trigger: "schedule", StartedAt: at(10), EndedAt: at(11), Status: run.Partial}
	for i := 0; i < 5000; i++ {
		r.Errors = append(r.Errors, fmt.Sprintf("message imap/INBOX/7/%d: preprocess: %s", i, strings.Repeat("x", 100)))
	}
	for _, tt := range []struct {
		name   string
		errors int
	}{
		{"5,000 errors", 5000},
		{"shorter again", 3},
		{"long again", 4000},
	} {
		r.Errors = r.Errors[:tt.errors]
		noErr(t, "PutRun with "+tt.name, s.PutRun(ctx, r))
		got, err := s.Runs(ctx, "job-a", 10)
		noErr(t, "Runs after "+tt.name, err)
		diff(t, "Runs after "+tt.name, []run.Run{r}, got)
	}
}
