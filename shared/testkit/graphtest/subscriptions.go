package graphtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Subscription is a change notification subscription.
type Subscription struct {
	ID, Resource, ChangeType                  string
	NotificationURL, LifecycleNotificationURL string
	ClientState                               string
	ExpirationDateTime                        time.Time
	user, folder                              string
}

// NotificationResult is one delivery of a notification to a webhook.
type NotificationResult struct {
	URL            string
	SubscriptionID string
	Status         int // 0 when the webhook could not be reached
}

// MaxLifetime is the longest a subscription to messages may live.
const MaxLifetime = 10080 * time.Minute

var resourcePattern = regexp.MustCompile(`^/?(?:users/([^/]+)|me)/mail[Ff]olders(?:\('([^']+)'\)|/([^/]+))/messages$`)

// Subscriptions returns the live subscriptions.
func (s *Server) Subscriptions() []Subscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Subscription
	for _, sub := range s.subs {
		out = append(out, *sub)
	}
	return out
}

// RemoveSubscription drops a subscription as Exchange may do.
func (s *Server) RemoveSubscription(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.subs, id)
}

// Notifications returns the change and lifecycle notifications delivered
// so far, one entry per attempt.
func (s *Server) Notifications() []NotificationResult {
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]NotificationResult(nil), s.notes...)
}

func subscriptionJSON(sub *Subscription) map[string]any {
	return map[string]any{
		"id": sub.ID, "resource": sub.Resource, "changeType": sub.ChangeType, "clientState": sub.ClientState,
		"notificationUrl": sub.NotificationURL, "lifecycleNotificationUrl": sub.LifecycleNotificationURL,
		"expirationDateTime": sub.ExpirationDateTime.Format(time.RFC3339Nano), "applicationId": "graphtest",
	}
}

// validate posts a validation request to u and wants the token back as
// text/plain within 10 seconds.
func (s *Server) validate(u string) error {
	tok := "Validation: Testing client application reachability for subscription Request-Id: " + randomID(8)
	req, err := http.NewRequest(http.MethodPost, u+sep(u)+"validationToken="+url.QueryEscape(tok), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK || string(body) != tok || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		return fmt.Errorf("status %d, content type %q, token echoed %v", resp.StatusCode, resp.Header.Get("Content-Type"), string(body) == tok)
	}
	return nil
}

func sep(u string) string {
	if strings.Contains(u, "?") {
		return "&"
	}
	return "?"
}

func (s *Server) subscriptions(w http.ResponseWriter, r *http.Request, t token, p []string) {
	switch {
	case len(p) == 0 && r.Method == http.MethodPost:
		s.createSubscription(w, r, t)
	case len(p) == 0 && r.Method == http.MethodGet:
		s.mu.Lock()
		out := []map[string]any{}
		for _, sub := range s.subs {
			out = append(out, subscriptionJSON(sub))
		}
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"value": out})
	case len(p) == 1:
		s.mu.Lock()
		sub := s.subs[p[0]]
		s.mu.Unlock()
		if sub == nil {
			graphError(w, http.StatusNotFound, "ResourceNotFound", "The object was not found.")
			return
		}
		switch r.Method {
		case http.MethodGet:
			s.mu.Lock()
			v := subscriptionJSON(sub)
			s.mu.Unlock()
			writeJSON(w, http.StatusOK, v)
		case http.MethodPatch:
			var body struct {
				ExpirationDateTime time.Time `json:"expirationDateTime"`
			}
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.ExpirationDateTime.IsZero() {
				graphError(w, http.StatusBadRequest, "InvalidRequest", "expirationDateTime is required.")
				return
			}
			if body.ExpirationDateTime.After(time.Now().Add(MaxLifetime)) {
				graphError(w, http.StatusBadRequest, "InvalidRequest", "Subscription expiration can only be 10070 minutes in the future.")
				return
			}
			s.mu.Lock()
			sub.ExpirationDateTime = body.ExpirationDateTime.UTC()
			v := subscriptionJSON(sub)
			s.mu.Unlock()
			writeJSON(w, http.StatusOK, v)
		case http.MethodDelete:
			s.RemoveSubscription(p[0])
			w.WriteHeader(http.StatusNoContent)
		default:
			graphError(w, http.StatusMethodNotAllowed, "BadRequest", "Method not allowed.")
		}
	default:
		graphError(w, http.StatusBadRequest, "BadRequest", "Unsupported segment.")
	}
}

func (s *Server) createSubscription(w http.ResponseWriter, r *http.Request, t token) {
	var body struct {
		ChangeType               string    `json:"changeType"`
		NotificationURL          string    `json:"notificationUrl"`
		LifecycleNotificationURL string    `json:"lifecycleNotificationUrl"`
		Resource                 string    `json:"resource"`
		ExpirationDateTime       time.Time `json:"expirationDateTime"`
		ClientState              string    `json:"clientState"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		graphError(w, http.StatusBadRequest, "InvalidRequest", "Invalid JSON.")
		return
	}
	m := resourcePattern.FindStringSubmatch(body.Resource)
	switch {
	case m == nil:
		graphError(w, http.StatusBadRequest, "InvalidRequest", "Resource '"+body.Resource+"' is not supported.")
		return
	case body.ChangeType == "" || body.NotificationURL == "":
		graphError(w, http.StatusBadRequest, "InvalidRequest", "changeType and notificationUrl are required.")
		return
	case len(body.ClientState) > 128:
		graphError(w, http.StatusBadRequest, "InvalidRequest", "clientState is longer than 128 characters.")
		return
	case body.ExpirationDateTime.Before(time.Now()) || body.ExpirationDateTime.After(time.Now().Add(MaxLifetime)):
		graphError(w, http.StatusBadRequest, "InvalidRequest", "Subscription expiration can only be 10070 minutes in the future.")
		return
	}
	user, fid := strings.ToLower(m[1]), m[2]+m[3]
	if user == "" {
		user = t.user
	}
	s.mu.Lock()
	b := s.boxes[user]
	var f *folder
	if b != nil {
		f = b.folder(fid)
	}
	s.mu.Unlock()
	if f == nil {
		graphError(w, http.StatusNotFound, "ResourceNotFound", "The resource '"+body.Resource+"' was not found.")
		return
	}
	if t.user != "" && t.user != user {
		graphError(w, http.StatusForbidden, "ExtensionError", "Operation: Create; Exception: [Status Code: Forbidden; Reason: Access is denied.]")
		return
	}
	if err := s.validate(body.NotificationURL); err != nil {
		graphError(w, http.StatusBadRequest, "ValidationError", "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request: "+err.Error())
		return
	}
	if body.LifecycleNotificationURL != "" {
		if err := s.validate(body.LifecycleNotificationURL); err != nil {
			graphError(w, http.StatusBadRequest, "ValidationError", "Subscription validation request failed for the lifecycle notification URL: "+err.Error())
			return
		}
	}
	sub := &Subscription{ID: newGUID(), Resource: body.Resource, ChangeType: body.ChangeType, NotificationURL: body.NotificationURL,
		LifecycleNotificationURL: body.LifecycleNotificationURL, ClientState: body.ClientState,
		ExpirationDateTime: body.ExpirationDateTime.UTC(), user: user, folder: f.id}
	s.mu.Lock()
	s.subs[sub.ID] = sub
	v := subscriptionJSON(sub)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, v)
}

func newGUID() string {
	h := randomID(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// notifyCreated posts change notifications for m to the subscriptions on
// its folder; called with s.mu held, it delivers in the background with a
// few retries, as Graph does.
func (s *Server) notifyCreated(b *mailbox, f *folder, m *message) {
	for _, sub := range s.subs {
		if sub.user != b.user || sub.folder != f.id || !strings.Contains(sub.ChangeType, "created") || time.Now().After(sub.ExpirationDateTime) {
			continue
		}
		payload := map[string]any{"value": []map[string]any{{
			"subscriptionId": sub.ID, "subscriptionExpirationDateTime": sub.ExpirationDateTime.Format(time.RFC3339Nano),
			"changeType": "created", "resource": "Users/" + b.user + "/Messages/" + m.id,
			"resourceData": map[string]any{"@odata.type": "#Microsoft.Graph.Message", "@odata.id": "Users/" + b.user + "/Messages/" + m.id, "@odata.etag": `W/"` + randomID(4) + `"`, "id": m.id},
			"clientState":  sub.ClientState, "tenantId": "00000000-0000-0000-0000-000000000001",
		}}}
		s.wg.Add(1)
		go func(u, id string) {
			defer s.wg.Done()
			for attempt := 0; attempt < 3; attempt++ {
				st := s.post(u, payload)
				s.mu.Lock()
				s.notes = append(s.notes, NotificationResult{URL: u, SubscriptionID: id, Status: st})
				s.mu.Unlock()
				if st >= 200 && st < 300 {
					return
				}
				time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
			}
		}(sub.NotificationURL, sub.ID)
	}
}

func (s *Server) post(u string, payload any) int {
	body, _ := json.Marshal(payload)
	resp, err := s.client.Post(u, "application/json; charset=utf-8", bytes.NewReader(body))
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// SendLifecycle posts a lifecycle notification (reauthorizationRequired,
// subscriptionRemoved or missed) for the subscription to its lifecycle URL.
func (s *Server) SendLifecycle(id, event string) error {
	s.mu.Lock()
	sub := s.subs[id]
	if sub == nil {
		s.mu.Unlock()
		return fmt.Errorf("graphtest: no subscription %s", id)
	}
	u := sub.LifecycleNotificationURL
	payload := map[string]any{"value": []map[string]any{{
		"subscriptionId": sub.ID, "subscriptionExpirationDateTime": sub.ExpirationDateTime.Format(time.RFC3339Nano),
		"lifecycleEvent": event, "resource": sub.Resource, "clientState": sub.ClientState, "tenantId": "00000000-0000-0000-0000-000000000001",
	}}}
	if event == "subscriptionRemoved" {
		delete(s.subs, id)
	}
	s.mu.Unlock()
	if u == "" {
		return fmt.Errorf("graphtest: subscription %s has no lifecycle URL", id)
	}
	st := s.post(u, payload)
	s.mu.Lock()
	s.notes = append(s.notes, NotificationResult{URL: u, SubscriptionID: id, Status: st})
	s.mu.Unlock()
	if st < 200 || st >= 300 {
		return fmt.Errorf("graphtest: lifecycle notification answered %d", st)
	}
	return nil
}

// RemoveSubscriptionQuietly takes a subscription away without a lifecycle
// notification, so notifications for new mail are missed until
// RestoreSubscription.
func (s *Server) RemoveSubscriptionQuietly(id string) *Subscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := s.subs[id]
	delete(s.subs, id)
	return sub
}

// RestoreSubscription puts back a subscription taken away quietly.
func (s *Server) RestoreSubscription(id string, sub *Subscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs[id] = sub
}
