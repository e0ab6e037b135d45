package graphbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"mailconnector/shared/mailbox"
)

// MaxConcurrent is the most requests the connector has in flight for one
// mailbox: Exchange Online refuses a fifth (MailboxConcurrency,
// https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits).
const MaxConcurrent = 4

// slots holds one semaphore per mailbox for the whole process, so two
// sessions of one mailbox share the limit.
var slots = struct {
	sync.Mutex
	m map[string]chan struct{}
}{m: map[string]chan struct{}{}}

func slotFor(key string) chan struct{} {
	slots.Lock()
	defer slots.Unlock()
	c := slots.m[key]
	if c == nil {
		c = make(chan struct{}, MaxConcurrent)
		slots.m[key] = c
	}
	return c
}

// ThrottledError is returned when Graph kept answering 429 or 503 for
// longer than the session may wait; it wraps mailbox.ErrThrottled.
type ThrottledError struct {
	Waited     time.Duration
	RetryAfter time.Duration // what the server asked for last; 0 if nothing
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("graph kept throttling the mailbox (429/503) for %s", e.Waited.Round(time.Second))
}

func (e *ThrottledError) Unwrap() error { return mailbox.ErrThrottled }

// transport authenticates every request, asks for immutable ids, keeps at
// most MaxConcurrent requests in flight per mailbox, and retries 429 and
// 503 answers after Retry-After (or an exponential backoff with jitter when
// there is none) until MaxWait has been spent waiting
// (https://learn.microsoft.com/graph/throttling#best-practices-to-handle-throttling).
type transport struct {
	base    http.RoundTripper
	tokens  oauth2.TokenSource
	slot    chan struct{}
	maxWait time.Duration
	sleep   func(context.Context, time.Duration) error
}

// retryDelay is Retry-After in seconds, else 1s, 2s, 4s … up to 32s with
// ±25 % jitter.
func retryDelay(resp *http.Response, attempt int) (time.Duration, time.Duration) {
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n >= 0 {
			d := time.Duration(n) * time.Second
			return d, d
		}
		if t, err := http.ParseTime(s); err == nil {
			d := max(time.Until(t), 0)
			return d, d
		}
	}
	d := time.Second << min(attempt, 5)
	jitter := time.Duration(rand.Int64N(int64(d / 2)))
	return d - d/4 + jitter, 0
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	select {
	case t.slot <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	release := sync.OnceFunc(func() { <-t.slot })
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		// Request bodies are small JSON documents: keep them for a retry.
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			release()
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	var waited time.Duration
	for attempt := 0; ; attempt++ {
		r, err := t.prepare(req, attempt)
		if err != nil {
			release()
			return nil, err
		}
		resp, err := t.base.RoundTrip(r)
		if err != nil {
			release()
			return nil, err
		}
		if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
			// The slot is held until the body is read: $value streams.
			resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
			return resp, nil
		}
		delay, asked := retryDelay(resp, attempt)
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if waited+delay > t.maxWait {
			release()
			return nil, &ThrottledError{Waited: waited, RetryAfter: asked}
		}
		if err := t.sleep(ctx, delay); err != nil {
			release()
			return nil, err
		}
		waited += delay
	}
}

// prepare clones req for one attempt with the token and the Prefer header.
func (t *transport) prepare(req *http.Request, attempt int) (*http.Request, error) {
	r := req.Clone(req.Context())
	if attempt > 0 && req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return nil, errors.New("graph: cannot retry a request whose body cannot be read again")
		}
		b, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		r.Body = b
	}
	tok, err := t.tokens.Token()
	if err != nil {
		return nil, &authError{err: err}
	}
	r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	prefer := r.Header.Values("Prefer")
	has := false
	for _, p := range prefer {
		if strings.Contains(p, "IdType=") {
			has = true
		}
	}
	if !has {
		r.Header.Add("Prefer", `IdType="ImmutableId"`)
	}
	return r, nil
}

// authError is a failure to get an access token.
type authError struct{ err error }

func (e *authError) Error() string { return "get an access token: " + e.err.Error() }
func (e *authError) Unwrap() error { return e.err }

type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}
