package rules

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/event"
	"mailconnector/shared/ledger"
	"mailconnector/shared/message"
	"mailconnector/shared/request"
	"mailconnector/shared/store"
)

// TestEventFitsEventBridge builds the event of outcomes of every kind for
// a message with a 1 MB subject and 3,000 attachments: each fits, says
// what was cut and names the normalized message.
func TestEventFitsEventBridge(t *testing.T) {
	j := jobWith(t, "")
	subject := strings.Repeat("x", 1<<20)
	m := msg(func(m *message.Message) {
		m.Subject = subject
		for i := 0; i < 3000; i++ {
			m.Attachments = append(m.Attachments, message.Attachment{Filename: fmt.Sprintf("scan-%04d.pdf", i),
				ContentType: "application/pdf", Size: 100, BlobKey: fmt.Sprintf("att/support/k1/%04d", i), SHA256: fmt.Sprintf("%064x", i)})
		}
	})
	e := ledger.Entry{JobID: "support", Key: "k1", NormKey: ledger.NormKey("support", "k1")}
	r := &request.Request{ID: "1", Number: 1, JobID: "support", Title: subject, Status: request.Open, Requester: m.From}
	tests := []struct {
		name string
		d    Decision
		o    store.Outcome
	}{
		{"created", Decision{Action: Create}, store.Outcome{NewRequest: r, Conversation: &request.Conversation{ID: "c1"}}},
		{"added", Decision{Action: Update}, store.Outcome{UpdateRequest: r, Conversation: &request.Conversation{ID: "c1"}}},
		{"rejected", Decision{Action: Reject, Reason: "not on the allow-list"}, store.Outcome{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := Event(j, e, m, tt.d, tt.o, time.Now())
			b, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) > event.MaxSize {
				t.Errorf("size: got %d bytes, want at most %d", len(b), event.MaxSize)
			}
			if len(ev.Truncated) == 0 || ev.Truncated[0] != "subject" {
				t.Errorf("truncated: got %v, want subject first", ev.Truncated)
			}
			if ev.NormKey != e.NormKey {
				t.Errorf("normKey: got %q, want %q", ev.NormKey, e.NormKey)
			}
		})
	}
}
