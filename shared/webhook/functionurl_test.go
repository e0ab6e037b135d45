package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"mailconnector/shared/job"
	"mailconnector/shared/push"
	"mailconnector/shared/store"
	"mailconnector/shared/testkit/localtest"
	"mailconnector/shared/webhook"
)

// The fixtures carry this subscription and clientState.
const (
	fixtureSub   = "7f105c7d-2dc5-4530-97cd-4e7ae6534c07"
	fixtureState = "8c1f0a9e3b5d47f2a6c4e1d0b9f8a7c6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0"
)

type fetches struct {
	mu   sync.Mutex
	jobs []string
}

func (f *fetches) StartFetch(_ context.Context, jobID, trigger string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jobs = append(f.jobs, jobID+"/"+trigger)
	return nil
}

func readEvent(t *testing.T, name string) events.LambdaFunctionURLRequest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.LambdaFunctionURLRequest
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

// TestFixturesThroughTheFunctionURL runs every Graph fixture of events/
// through the handler as the webhook function does.
func TestFixturesThroughTheFunctionURL(t *testing.T) {
	st := localtest.Store(t, t.TempDir())
	f := &job.File{Jobs: []job.Job{{ID: "support", Server: job.Server{Protocol: job.Graph, Mailbox: "help@contoso.example",
		Auth: job.Auth{Method: job.AuthOAuth2, Secret: "g"}}, Push: job.Push{Enabled: true}}}}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	rec := &fetches{}
	svc := &push.Service{Jobs: f, Store: st, Fetch: rec, WebhookURL: "https://example.lambda-url.eu-west-1.on.aws/",
		Connect: func(context.Context, *job.Job) (push.Subscriptions, error) {
			return nil, errors.New("no sign-in in this test")
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	h := webhook.FunctionURL(&webhook.Handler{Push: svc, Logger: svc.Logger})
	put := func() {
		if err := st.PutSubscription(context.Background(), store.Subscription{JobID: "support", ID: fixtureSub, ClientState: fixtureState, Expires: time.Now().Add(72 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		_, _ = st.TakePushPending(context.Background(), "support")
	}
	for _, tc := range []struct {
		file    string
		status  int
		body    string
		fetches int
	}{
		{"graph-validation.json", 200, "Validation: Testing client application reachability for subscription Request-Id: b6b9a0b3-7b8f-4c3d-9b2e-1f0e5d7c9a8b", 0},
		{"graph-notification.json", 202, "", 1},
		{"graph-notification-base64.json", 202, "", 1},
		{"graph-lifecycle-reauthorization.json", 202, "", 0},
		{"graph-lifecycle-missed.json", 202, "", 1},
		{"graph-lifecycle-removed.json", 202, "", 1},
	} {
		t.Run(tc.file, func(t *testing.T) {
			put()
			rec.jobs = nil
			resp, err := h(context.Background(), readEvent(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status || resp.Body != tc.body {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, resp.Body, tc.status, tc.body)
			}
			if tc.status == 200 && !strings.HasPrefix(resp.Headers["Content-Type"], "text/plain") {
				t.Errorf("validation answered with Content-Type %q, want text/plain", resp.Headers["Content-Type"])
			}
			if len(rec.jobs) != tc.fetches {
				t.Errorf("got fetches %v, want %d", rec.jobs, tc.fetches)
			}
		})
	}
	// A bad base64 body is a plain 400.
	ev := readEvent(t, "graph-notification-base64.json")
	ev.Body = "%%%"
	if resp, _ := h(context.Background(), ev); resp.StatusCode != 400 || resp.Body != "Bad Request\n" {
		t.Errorf("bad base64: got %d %q", resp.StatusCode, resp.Body)
	}
}

func TestSelfURL(t *testing.T) {
	tests := []struct {
		name, domain, want string
	}{
		{"function url", "abcdef0123456789abcdef0123456789.lambda-url.eu-west-1.on.aws", "https://abcdef0123456789abcdef0123456789.lambda-url.eu-west-1.on.aws/"},
		{"upper case", "ABC123.lambda-url.us-east-1.on.aws", "https://abc123.lambda-url.us-east-1.on.aws/"},
		{"other host", "evil.example", ""},
		{"scheme smuggled", "javascript://evil.example/x.lambda-url.eu-west-1.on.aws", ""},
		{"suffix only", "x.lambda-url.eu-west-1.on.aws.evil.example", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev events.LambdaFunctionURLRequest
			ev.RequestContext.DomainName = tt.domain
			if got := webhook.SelfURL(ev); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
