package event

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// envelope is what an EventBridge rule target receives.
type envelope struct {
	Version    string   `json:"version"`
	ID         string   `json:"id"`
	DetailType string   `json:"detail-type"`
	Source     string   `json:"source"`
	Account    string   `json:"account"`
	Time       string   `json:"time"`
	Region     string   `json:"region"`
	Resources  []string `json:"resources"`
	Detail     Event    `json:"detail"`
}

// decodeStrict decodes b, refusing keys the schema does not have, so a
// sample cannot document a field the connector does not write.
func decodeStrict(tb testing.TB, b []byte) envelope {
	tb.Helper()
	var env envelope
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		tb.Fatal(err)
	}
	return env
}

func TestSampleEventsDecode(t *testing.T) {
	tests := []struct {
		file, typ string
		request   bool
	}{
		{"event-request-created.json", RequestCreated, true},
		{"event-conversation-added.json", ConversationAdded, true},
		{"event-message-rejected.json", MessageRejected, false},
		{"event-message-ignored.json", MessageIgnored, false},
		{"event-bounce-received.json", BounceReceived, false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "..", "events", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			env := decodeStrict(t, b)
			e := env.Detail
			if env.Source != "mail-connector" || env.DetailType != tt.typ || e.Type != tt.typ || e.JobID == "" || e.LedgerKey == "" || e.Time.IsZero() {
				t.Errorf("got %+v", env)
			}
			hasRequest := e.RequestID != "" && e.RequestNumber > 0 && e.ConversationID != "" &&
				e.Request != nil && e.Request.Title != "" && e.Request.Status != "" && e.Request.Requester.Address != "" &&
				e.Text != "" && strings.HasPrefix(e.NormKey, "norm/"+e.JobID+"/")
			if tt.request != hasRequest {
				t.Errorf("request fields: got %+v, want them %v", e, tt.request)
			}
			if !tt.request && (e.Reason == "" || e.Request != nil || e.Text != "" || len(e.Attachments) > 0) {
				t.Errorf("a %s must carry a reason and no request: got %+v", tt.typ, e)
			}
			for _, a := range e.Attachments {
				if a.Filename == "" || (a.Dropped == "" && !strings.HasPrefix(a.BlobKey, "att/"+e.JobID+"/")) {
					t.Errorf("attachment %+v: want a name and a blob key under att/%s/", a, e.JobID)
				}
			}
			// What the connector writes decodes to the same event.
			again, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			var back Event
			if err := json.Unmarshal(again, &back); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(e, back); diff != "" {
				t.Errorf("round trip (-sample +again):\n%s", diff)
			}
		})
	}
}

func TestMalformedEvents(t *testing.T) {
	tests := []struct{ name, json string }{
		{"bad time", `{"type": "RequestCreated", "time": "yesterday"}`},
		{"number as string", `{"type": "RequestCreated", "requestNumber": "12"}`},
		{"not an object", `["RequestCreated"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e Event
			if err := json.Unmarshal([]byte(tt.json), &e); err == nil {
				t.Errorf("got %+v, want an error", e)
			}
		})
	}
}

// TestREADMEDocumentsEveryField keeps events/README.md and the schema
// together: every JSON key of Event and its parts is in the table.
func TestREADMEDocumentsEveryField(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, typ := range []reflect.Type{reflect.TypeOf(Event{}), reflect.TypeOf(Request{}), reflect.TypeOf(Attachment{}), reflect.TypeOf(Address{})} {
		for i := 0; i < typ.NumField(); i++ {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if !strings.Contains(doc, "`"+name+"`") {
				t.Errorf("events/README.md does not document %s.%s (`%s`)", typ.Name(), typ.Field(i).Name, name)
			}
		}
	}
	for _, typ := range []string{RequestCreated, ConversationAdded, MessageRejected, MessageIgnored} {
		if !strings.Contains(doc, typ) {
			t.Errorf("events/README.md does not name %s", typ)
		}
	}
}
