package event

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestSampleEventsDecode(t *testing.T) {
	tests := []struct {
		file, typ string
		request   bool
	}{
		{"event-request-created.json", RequestCreated, true},
		{"event-conversation-added.json", ConversationAdded, true},
		{"event-message-rejected.json", MessageRejected, false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "..", "events", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			var env struct {
				Source     string `json:"source"`
				DetailType string `json:"detail-type"`
				Detail     Event  `json:"detail"`
			}
			dec := json.NewDecoder(bytes.NewReader(b))
			if err := dec.Decode(&env); err != nil {
				t.Fatal(err)
			}
			e := env.Detail
			if env.Source != "mail-connector" || env.DetailType != tt.typ || e.Type != tt.typ || e.JobID == "" || e.LedgerKey == "" || e.Time.IsZero() {
				t.Errorf("got %+v", env)
			}
			if tt.request != (e.RequestID != "" && e.RequestNumber > 0 && e.ConversationID != "") {
				t.Errorf("request fields: got %+v", e)
			}
			if !tt.request && e.Reason == "" {
				t.Error("a rejection without a reason")
			}
			// What the connector writes decodes to the same event.
			again, _ := json.Marshal(e)
			var back Event
			if err := json.Unmarshal(again, &back); err != nil || !back.Time.Equal(e.Time) || back.RequestNumber != e.RequestNumber {
				t.Errorf("round trip: got %+v, %v", back, err)
			}
		})
	}
	var e Event
	if err := json.Unmarshal([]byte(`{"type": "RequestCreated", "time": "yesterday"}`), &e); err == nil {
		t.Error("a malformed time decoded")
	}
}
