package lognotify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"

	"mailconnector/shared/notify"
	"mailconnector/shared/notify/lognotify"
)

func TestNotify(t *testing.T) {
	tests := []struct {
		name      string
		notice    notify.Notice
		wantLevel string
	}{
		{"alert", notify.Notice{Kind: notify.Alert, JobID: "job-a", To: []string{"admin@example.com"}, Subject: "job-a failing", Body: "3 runs failed"}, "WARN"},
		{"recovery", notify.Notice{Kind: notify.Recovery, JobID: "job-a", Subject: "job-a works again", Body: "ok"}, "INFO"},
		{"sender", notify.Notice{Kind: notify.Sender, JobID: "job-b", To: []string{"ann@example.com"}, Subject: "Rejected", Body: "not allowed"}, "INFO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			n := lognotify.New(slog.New(slog.NewJSONHandler(&buf, nil)))
			if err := n.Notify(context.Background(), tt.notice); err != nil {
				t.Fatalf("Notify: %v", err)
			}
			var got struct {
				Level, Msg, Kind, JobID, Subject, Body string
				To                                     []string
			}
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("log line %q: %v", buf.String(), err)
			}
			if got.Level != tt.wantLevel || got.Msg != "notice" {
				t.Errorf("got level %s message %q, want %s \"notice\"", got.Level, got.Msg, tt.wantLevel)
			}
			want := tt.notice
			if d := cmp.Diff(want, notify.Notice{Kind: got.Kind, JobID: got.JobID, To: got.To, Subject: got.Subject, Body: got.Body}); d != "" {
				t.Errorf("logged notice (-want +got):\n%s", d)
			}
		})
	}
}

func TestNilLogger(t *testing.T) {
	if err := lognotify.New(nil).Notify(context.Background(), notify.Notice{Kind: notify.Alert}); err != nil {
		t.Fatalf("Notify: %v", err)
	}
}
