package graphtest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
)

// batch serves POST /v1.0/$batch: up to 20 requests, each answered with
// its own status; a throttled request inside a batch answers 429 alone.
func (s *Server) batch(w http.ResponseWriter, r *http.Request, t token) {
	var body struct {
		Requests []struct {
			ID      string            `json:"id"`
			Method  string            `json:"method"`
			URL     string            `json:"url"`
			Headers map[string]string `json:"headers"`
			Body    json.RawMessage   `json:"body"`
		} `json:"requests"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		graphError(w, http.StatusBadRequest, "BadRequest", "Invalid batch payload.")
		return
	}
	if len(body.Requests) == 0 || len(body.Requests) > 20 {
		graphError(w, http.StatusBadRequest, "BadRequest", "The number of batch requests must be between 1 and 20.")
		return
	}
	var out []map[string]any
	for _, q := range body.Requests {
		rec := httptest.NewRecorder()
		var rb *bytes.Reader
		if len(q.Body) > 0 {
			rb = bytes.NewReader(q.Body)
		} else {
			rb = bytes.NewReader(nil)
		}
		sub, err := http.NewRequest(q.Method, s.URL()+"/"+strings.TrimPrefix(q.URL, "/"), rb)
		if err != nil {
			out = append(out, map[string]any{"id": q.ID, "status": 400})
			continue
		}
		for k, v := range q.Headers {
			sub.Header.Set(k, v)
		}
		for _, v := range r.Header.Values("Prefer") {
			sub.Header.Add("Prefer", v)
		}
		s.mu.Lock()
		throttled := s.throttleN > 0
		if throttled {
			s.throttleN--
		}
		s.requests = append(s.requests, Request{Method: sub.Method, Path: sub.URL.Path, Query: sub.URL.RawQuery, Header: sub.Header.Clone()})
		s.mu.Unlock()
		if throttled {
			graphError(rec, http.StatusTooManyRequests, "TooManyRequests", "Too many requests.")
		} else {
			p := strings.Split(strings.Trim(sub.URL.Path, "/"), "/")[1:]
			switch {
			case len(p) >= 3 && p[0] == "users":
				s.mail(rec, sub, t, p[1], p[2:])
			default:
				graphError(rec, http.StatusBadRequest, "BadRequest", "Unsupported batch request.")
			}
		}
		resp := map[string]any{"id": q.ID, "status": rec.Code, "headers": map[string]string{"Content-Type": rec.Header().Get("Content-Type")}}
		if ra := rec.Header().Get("Retry-After"); ra != "" {
			resp["headers"].(map[string]string)["Retry-After"] = ra
		}
		if rec.Body.Len() > 0 {
			resp["body"] = json.RawMessage(rec.Body.Bytes())
		}
		out = append(out, resp)
	}
	writeJSON(w, http.StatusOK, map[string]any{"responses": out})
}
