package graphbox

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestSubscriptionBody: a subscription is sent with the documented
// property names, its expiry in UTC and whole seconds.
func TestSubscriptionBody(t *testing.T) {
	at := time.Date(2026, 12, 6, 22, 15, 30, 123456789, time.FixedZone("CET", 3600))
	b, err := json.Marshal(subscription{ChangeType: "created", Resource: "users/a/mailFolders('x')/messages",
		NotificationURL: "https://hook.example/n", ClientState: "s", ExpirationDateTime: expiry(at)})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"changeType":"created","notificationUrl":"https://hook.example/n","resource":"users/a/mailFolders('x')/messages","expirationDateTime":"2026-12-06T21:15:30Z","clientState":"s"}`
	if string(b) != want {
		t.Errorf("body\n got %s\nwant %s", b, want)
	}
	if b, _ := json.Marshal(subscription{ExpirationDateTime: expiry(at)}); strings.Contains(string(b), "changeType") || strings.Contains(string(b), `"id"`) {
		t.Errorf("a renewal sends only the expiry: %s", b)
	}
}

// TestGraphErrorWithoutBody: an answer without an OData error body (a
// proxy's) still reads as a sentence.
func TestGraphErrorWithoutBody(t *testing.T) {
	for _, c := range []struct {
		err  GraphError
		want string
	}{
		{GraphError{Status: 502}, "graph answered 502 Bad Gateway"},
		{GraphError{Status: 404, Code: "ErrorItemNotFound", Message: "The specified object was not found in the store."}, "graph answered 404 ErrorItemNotFound: The specified object was not found in the store."},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

// TestCallAnswers: call decodes a JSON answer, takes a success without a
// body (202 Accepted) as nothing to read, and turns an error answer into
// a *GraphError with the OData code.
func TestCallAnswers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1.0/folder":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"id":"AAMk","displayName":"Inbox","totalItemCount":3}`))
		case "/v1.0/accepted":
			w.WriteHeader(http.StatusAccepted)
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":{"code":"ErrorItemNotFound","message":"gone"}}`))
		}
	}))
	defer srv.Close()
	s := &Session{http: srv.Client(), root: srv.URL + "/v1.0"}
	ctx := context.Background()
	var f mailFolder
	if err := s.call(ctx, http.MethodGet, "/folder", nil, &f); err != nil || f.ID != "AAMk" || f.TotalItemCount == nil || *f.TotalItemCount != 3 {
		t.Fatalf("folder: %+v, %v", f, err)
	}
	var none mailFolder
	if err := s.call(ctx, http.MethodPost, "/accepted", map[string]string{"a": "b"}, &none); err != nil || none.ID != "" {
		t.Fatalf("202 without a body: %+v, %v", none, err)
	}
	var ge *GraphError
	if err := s.call(ctx, http.MethodGet, "/missing", nil, &f); !errors.As(err, &ge) || ge.Status != 404 || ge.Code != "ErrorItemNotFound" {
		t.Fatalf("error answer: %v", err)
	}
}
