package event

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func smallEvent() Event {
	return Event{
		Type: RequestCreated, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), JobID: "support", LedgerKey: "imap/INBOX/7/1",
		From: "ann@example.com", Subject: "Printer on fire", RequestID: "12", RequestNumber: 12, ConversationID: "c1",
		Request: &Request{Title: "Printer on fire", Status: "open", Requester: Address{Name: "Ann", Address: "ann@example.com"},
			Participants: []string{"ann@example.com"}},
		Text: "It burns.", NormKey: "norm/support/1.json",
		Attachments: []Attachment{{Filename: "photo.jpg", ContentType: "image/jpeg", Size: 10, BlobKey: "att/support/1/photo.jpg"}},
	}
}

func manyAttachments(n int, name string) []Attachment {
	var out []Attachment
	for i := 0; i < n; i++ {
		out = append(out, Attachment{Filename: fmt.Sprintf("%s-%05d.pdf", name, i), ContentType: "application/pdf",
			Size: int64(i), BlobKey: fmt.Sprintf("att/support/1/%05d", i), SHA256: fmt.Sprintf("%064x", i)})
	}
	return out
}

func TestFit(t *testing.T) {
	long := strings.Repeat("Ж", 300_000) // 600 KB
	controls := strings.Repeat("\x01", 200_000)
	var participants []string
	for i := 0; i < 20_000; i++ {
		participants = append(participants, fmt.Sprintf("recipient-%05d@example.com", i))
	}
	tests := []struct {
		name          string
		edit          func(e *Event)
		wantTruncated []string
		check         func(t *testing.T, e Event)
	}{
		{name: "small event unchanged", edit: func(e *Event) {}},
		{
			name: "long subject and title", edit: func(e *Event) { e.Subject, e.Request.Title = long, long },
			wantTruncated: []string{"subject", "request.title"},
			check: func(t *testing.T, e Event) {
				if len(e.Subject) > MaxSubject || !strings.HasPrefix(long, e.Subject) || !utf8.ValidString(e.Subject) {
					t.Errorf("subject: got %d bytes, want a valid prefix of at most %d", len(e.Subject), MaxSubject)
				}
				if len(e.Request.Title) > MaxSubject {
					t.Errorf("title: got %d bytes, want at most %d", len(e.Request.Title), MaxSubject)
				}
			},
		},
		{
			name: "3,000 attachments", edit: func(e *Event) { e.Attachments = manyAttachments(3000, "scan") },
			wantTruncated: []string{"attachments"},
			check: func(t *testing.T, e Event) {
				if len(e.Attachments) != MaxAttachments || e.AttachmentCount != 3000 {
					t.Errorf("attachments: got %d of %d, want %d of 3000", len(e.Attachments), e.AttachmentCount, MaxAttachments)
				}
			},
		},
		{
			name: "20,000 participants", edit: func(e *Event) { e.Request.Participants = participants },
			wantTruncated: []string{"request.participants"},
			check: func(t *testing.T, e Event) {
				if len(e.Request.Participants) != MaxParticipants || e.Request.ParticipantCount != 20_000 {
					t.Errorf("participants: got %d of %d, want %d of 20000", len(e.Request.Participants), e.Request.ParticipantCount, MaxParticipants)
				}
			},
		},
		{
			name: "control characters that grow sixfold in JSON",
			edit: func(e *Event) {
				e.Subject, e.Request.Title, e.Text, e.Reason, e.Statement = controls, controls, controls, controls, controls
				e.Attachments = manyAttachments(MaxAttachments, strings.Repeat("\x01", 5000))
				e.Request.Custom = map[string]string{}
				for i := 0; i < 200; i++ {
					e.Request.Custom[fmt.Sprint("field", i)] = controls[:5000]
				}
			},
			wantTruncated: []string{"subject", "statement", "reason", "request.title", "request.custom", "text", "attachments", "request.participants"},
			check: func(t *testing.T, e Event) {
				if len(e.Attachments) != 0 || e.AttachmentCount != MaxAttachments {
					t.Errorf("attachments: got %d of %d, want 0 of %d", len(e.Attachments), e.AttachmentCount, MaxAttachments)
				}
				if e.Request.Custom != nil || e.Request.ParticipantCount != 1 || !e.TextTruncated {
					t.Errorf("got custom %d, participant count %d, text truncated %v; want none, 1, true", len(e.Request.Custom), e.Request.ParticipantCount, e.TextTruncated)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := smallEvent()
			tt.edit(&e)
			got := Fit(e)
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) > MaxSize {
				t.Errorf("size: got %d bytes, want at most %d", len(b), MaxSize)
			}
			if diff := cmp.Diff(tt.wantTruncated, got.Truncated); diff != "" {
				t.Errorf("truncated (-want +got):\n%s", diff)
			}
			if len(tt.wantTruncated) == 0 {
				if diff := cmp.Diff(e, got); diff != "" {
					t.Errorf("a small event changed (-want +got):\n%s", diff)
				}
			} else if got.NormKey != e.NormKey || got.NormKey == "" {
				t.Errorf("normKey: got %q, want %q", got.NormKey, e.NormKey)
			}
			if again := Fit(got); !cmp.Equal(again, got) {
				t.Errorf("Fit twice: got %s, want the same event", cmp.Diff(got, again))
			}
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}
