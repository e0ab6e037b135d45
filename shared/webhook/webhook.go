// Package webhook is the HTTP face of push: the endpoints Graph posts
// change and lifecycle notifications to, behind the webhook function's
// Function URL (or any HTTP server).
//
// It answers only what Graph expects
// (https://learn.microsoft.com/graph/change-notifications-delivery-webhooks):
// a validation request gets its validationToken back as text/plain; a
// notification batch is stored first and then answered 202 with no body;
// anything else gets a plain status line. No response carries an internal
// detail: those go to the log.
package webhook

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"mailconnector/shared/push"
)

// MaxBody bounds a notification batch.
const MaxBody = 1 << 20

// Notifications is what the handler hands batches to: push.Service.
type Notifications interface {
	Notify(ctx context.Context, b push.Batch) (push.Result, error)
	Lifecycle(ctx context.Context, b push.Batch) (push.Result, error)
}

// Handler routes the webhook's requests.
type Handler struct {
	Push Notifications
	// SignIn, when set, serves /signin (GET a page, POST its button) and
	// GET /callback (OAuth sign-in); without it those paths are 404.
	SignIn http.Handler
	Logger *slog.Logger
}

func (h *Handler) log() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

func plain(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, http.StatusText(status)+"\n")
}

// ServeHTTP routes /notify, /lifecycle, /signin and /callback.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := "/" + strings.Trim(r.URL.Path, "/")
	switch path {
	case "/notify", "/lifecycle":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			plain(w, http.StatusMethodNotAllowed)
			return
		}
		if tok, ok := r.URL.Query()["validationToken"]; ok {
			// The subscription's validation: the token back, unchanged,
			// as text/plain, at once.
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.WriteHeader(http.StatusOK)
			if len(tok) > 0 {
				_, _ = io.WriteString(w, tok[0])
			}
			return
		}
		h.batch(w, r, path == "/lifecycle")
	case "/signin", "/callback":
		if h.SignIn == nil {
			plain(w, http.StatusNotFound)
			return
		}
		h.SignIn.ServeHTTP(w, r)
	default:
		plain(w, http.StatusNotFound)
	}
}

func (h *Handler) batch(w http.ResponseWriter, r *http.Request, lifecycle bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		plain(w, http.StatusBadRequest)
		return
	}
	if len(body) > MaxBody {
		plain(w, http.StatusRequestEntityTooLarge)
		return
	}
	var b push.Batch
	if err := json.Unmarshal(body, &b); err != nil || b.Value == nil {
		h.log().Warn("malformed notification batch", "err", err, "bytes", len(body))
		plain(w, http.StatusBadRequest)
		return
	}
	var res push.Result
	if lifecycle {
		res, err = h.Push.Lifecycle(r.Context(), b)
	} else {
		res, err = h.Push.Notify(r.Context(), b)
	}
	if err != nil {
		// Not stored: Graph delivers again on a 5xx.
		h.log().Error("notification batch not stored", "lifecycle", lifecycle, "err", err)
		plain(w, http.StatusServiceUnavailable)
		return
	}
	// One line per batch, whatever it holds: a forged batch of thousands
	// of entries costs one line, not one each.
	level := slog.LevelInfo
	if res.Unknown+res.Refused > 0 {
		level = slog.LevelWarn
	}
	h.log().Log(r.Context(), level, "notifications", "lifecycle", lifecycle, "notifications", len(b.Value), "accepted", res.Accepted,
		"fetches", res.Fetches, "unknown", res.Unknown, "refused", res.Refused, "ignored", res.Ignored)
	w.WriteHeader(http.StatusAccepted)
}
