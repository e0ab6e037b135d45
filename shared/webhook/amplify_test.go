package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/push"
	"mailconnector/shared/store"
	"mailconnector/shared/store/boltstore"
	"mailconnector/shared/testkit/localtest"
	"mailconnector/shared/webhook"
)

// countingStore counts the writes of push marks.
type countingStore struct {
	*boltstore.Store
	marks atomic.Int32
}

func (s *countingStore) MarkPushPending(ctx context.Context, jobID string, now time.Time, stale time.Duration) (bool, error) {
	s.marks.Add(1)
	return s.Store.MarkPushPending(ctx, jobID, now, stale)
}

// TestOneRequestIsOneLogLineAndOneMarkPerJob posts large batches, hostile
// and valid, and counts the log lines and the store writes they cost.
func TestOneRequestIsOneLogLineAndOneMarkPerJob(t *testing.T) {
	const (
		subA, stateA = "sub-a", "state-a-0123456789"
		subB, stateB = "sub-b", "state-b-0123456789"
	)
	tests := []struct {
		name      string
		path      string
		batch     func() push.Batch
		status    int
		wantMarks int32
		fetches   int
	}{
		{name: "26,211 unknown subscriptions", path: "/notify", status: 202, batch: func() push.Batch {
			return many(26211, func(i int) push.Notification {
				return push.Notification{SubscriptionID: fmt.Sprintf("forged-%d", i), ClientState: "x"}
			})
		}},
		{name: "5,000 valid notifications for one job", path: "/notify", status: 202, wantMarks: 1, fetches: 1, batch: func() push.Batch {
			return many(5000, func(int) push.Notification { return push.Notification{SubscriptionID: subA, ClientState: stateA} })
		}},
		{name: "two jobs, interleaved, with wrong clientStates", path: "/notify", status: 202, wantMarks: 2, fetches: 2, batch: func() push.Batch {
			return many(900, func(i int) push.Notification {
				switch i % 3 {
				case 0:
					return push.Notification{SubscriptionID: subA, ClientState: stateA}
				case 1:
					return push.Notification{SubscriptionID: subB, ClientState: stateB}
				}
				return push.Notification{SubscriptionID: subA, ClientState: "wrong"}
			})
		}},
		{name: "valid past the cap is ignored", path: "/notify", status: 202, batch: func() push.Batch {
			b := many(push.MaxNotifications, func(i int) push.Notification { return push.Notification{SubscriptionID: "old", ClientState: "x"} })
			b.Value = append(b.Value, push.Notification{SubscriptionID: subA, ClientState: stateA})
			return b
		}},
		{name: "5,000 missed lifecycle events", path: "/lifecycle", status: 202, wantMarks: 1, fetches: 1, batch: func() push.Batch {
			return many(5000, func(int) push.Notification {
				return push.Notification{SubscriptionID: subA, ClientState: stateA, LifecycleEvent: "missed"}
			})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs := localtest.Store(t, t.TempDir())
			st := &countingStore{Store: bs}
			f := &job.File{Jobs: []job.Job{
				{ID: "a", Server: job.Server{Protocol: job.Graph, Mailbox: "a@contoso.example", Auth: job.Auth{Method: job.AuthOAuth2, Secret: "g"}}, Push: job.Push{Enabled: true}},
				{ID: "b", Server: job.Server{Protocol: job.Graph, Mailbox: "b@contoso.example", Auth: job.Auth{Method: job.AuthOAuth2, Secret: "g"}}, Push: job.Push{Enabled: true}},
			}}
			if err := f.Validate(); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for _, s := range []store.Subscription{{JobID: "a", ID: subA, ClientState: stateA}, {JobID: "b", ID: subB, ClientState: stateB}} {
				s.Expires = time.Now().Add(72 * time.Hour)
				if err := st.PutSubscription(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			rec := &fetches{}
			svc := &push.Service{Jobs: f, Store: st, Fetch: rec, WebhookURL: "https://example.lambda-url.eu-west-1.on.aws/", Logger: log,
				Connect: func(context.Context, *job.Job) (push.Subscriptions, error) {
					return nil, errors.New("no sign-in in this test")
				}}
			h := &webhook.Handler{Push: svc, Logger: log}
			body, _ := json.Marshal(tt.batch())
			if len(body) > webhook.MaxBody {
				body = body[:bytes.LastIndex(body[:webhook.MaxBody-2], []byte("},"))+1]
				body = append(body, "]}"...)
			}
			rr := httptest.NewRecorder()
			start := time.Now()
			h.ServeHTTP(rr, httptest.NewRequest(http.MethodPost, tt.path, bytes.NewReader(body)))
			if rr.Code != tt.status {
				t.Errorf("got status %d, want %d", rr.Code, tt.status)
			}
			if lines := strings.Count(logs.String(), "\n"); lines != 1 {
				t.Errorf("got %d log lines, want 1 (a summary): %.300s", lines, logs.String())
			}
			if got := st.marks.Load(); got != tt.wantMarks {
				t.Errorf("got %d store writes, want %d", got, tt.wantMarks)
			}
			if len(rec.jobs) != tt.fetches {
				t.Errorf("got fetches %v, want %d", rec.jobs, tt.fetches)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("request took %s, want under 2s", d)
			}
		})
	}
}

func many(n int, f func(i int) push.Notification) push.Batch {
	b := push.Batch{Value: make([]push.Notification, n)}
	for i := range b.Value {
		b.Value[i] = f(i)
	}
	return b
}
