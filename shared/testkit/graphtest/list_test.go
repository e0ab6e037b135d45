package graphtest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"mailconnector/shared/testkit/graphtest"
)

// get sends an authenticated GET and decodes the JSON answer.
func get(t *testing.T, srv *graphtest.Server, token, path string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("GET %s: decode: %v", path, err)
	}
	return resp.StatusCode, body
}

func mail(id string) []byte {
	return []byte("Message-ID: " + id + "\r\nFrom: a@example.com\r\nSubject: s\r\n\r\nbody\r\n")
}

// TestListMessagesFilterByInternetMessageID: a folder's messages are
// found by internetMessageId eq '…', a quote inside the literal written
// twice; other filters and malformed literals answer 400
// ErrorInvalidUrlQueryFilter; $top pages with @odata.nextLink.
func TestListMessagesFilterByInternetMessageID(t *testing.T) {
	srv := graphtest.Start(t)
	const user = "help@contoso.example"
	srv.AddMailbox(user)
	tok := srv.IssueAccessToken("contoso", "app", "", time.Hour)
	srv.Deliver(user, "Inbox/Errors", mail("<one@example.com>"))
	srv.Deliver(user, "Inbox/Errors", mail("<o'brien+x&y#z@example.com>"))
	srv.Deliver(user, "Inbox/Errors", mail("<three@example.com>"))
	srv.Deliver(user, "Inbox", mail("<inbox@example.com>"))
	var errorsID string
	for _, m := range srv.Messages(user) {
		if m.InternetMessageID == "<one@example.com>" {
			_, body := get(t, srv, tok, "/users/"+user+"/messages/"+m.ImmutableID)
			errorsID = body["parentFolderId"].(string)
		}
	}
	base := "/users/" + user + "/mailFolders/" + errorsID + "/messages"
	for _, tc := range []struct {
		name, filter string
		status       int
		want         string // internetMessageId of the one match; "" for none
	}{
		{"a match", "internetMessageId eq '<one@example.com>'", 200, "<one@example.com>"},
		{"a doubled quote", "internetMessageId eq '<o''brien+x&y#z@example.com>'", 200, "<o'brien+x&y#z@example.com>"},
		{"case does not matter", "internetMessageId eq '<ONE@example.com>'", 200, "<one@example.com>"},
		{"no angle brackets", "internetMessageId eq 'one@example.com'", 200, ""},
		{"another folder's message", "internetMessageId eq '<inbox@example.com>'", 200, ""},
		{"a lone quote", "internetMessageId eq '<o'brien@example.com>'", 400, ""},
		{"another property", "subject eq 's'", 400, ""},
		{"another operator", "startswith(internetMessageId,'<one')", 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := get(t, srv, tok, base+"?$filter="+url.QueryEscape(tc.filter))
			if status != tc.status {
				t.Fatalf("got status %d (%v), want %d", status, body, tc.status)
			}
			if status != 200 {
				if code := body["error"].(map[string]any)["code"]; code != "ErrorInvalidUrlQueryFilter" {
					t.Errorf("got code %v, want ErrorInvalidUrlQueryFilter", code)
				}
				return
			}
			v := body["value"].([]any)
			switch {
			case tc.want == "" && len(v) != 0:
				t.Errorf("got %d messages, want none", len(v))
			case tc.want != "" && (len(v) != 1 || v[0].(map[string]any)["internetMessageId"] != tc.want):
				t.Errorf("got %v, want the one message %s", v, tc.want)
			}
		})
	}
	// Paging: three messages, two to a page.
	seen := 0
	next := srv.URL() + base + "?$top=2"
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("the pages do not end")
		}
		u, _ := url.Parse(next)
		status, body := get(t, srv, tok, u.Path[len("/v1.0"):]+"?"+u.RawQuery)
		if status != 200 {
			t.Fatalf("page %d: got status %d", pages, status)
		}
		seen += len(body["value"].([]any))
		next, _ = body["@odata.nextLink"].(string)
	}
	if seen != 3 {
		t.Errorf("paging: got %d messages, want 3", seen)
	}
}
