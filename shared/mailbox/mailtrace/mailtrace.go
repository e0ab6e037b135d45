// Package mailtrace records the protocol conversation of one run (the
// seeds' "email debug"): IMAP and POP3 commands and responses, and EWS and
// Graph requests and responses, one line each, for the administrator to
// read when a mailbox misbehaves.
//
// What would be a secret or personal content is never recorded, by
// construction: the taps that feed a Recorder (mailconn.Tap for IMAP and
// POP3, mailconn.TraceTransport for HTTP) know which commands carry a
// password or a SASL payload, which answers carry message data, and which
// headers carry credentials, and write a placeholder instead. A Recorder
// holds at most its limit; what is left out beyond is counted.
package mailtrace

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"
)

// DefaultLimit bounds one run's trace.
const DefaultLimit = 1 << 20

// MaxLine bounds one recorded line.
const MaxLine = 512

// Recorder collects one run's trace. It is safe for concurrent use.
type Recorder struct {
	limit int
	now   func() time.Time

	mu      sync.Mutex
	b       strings.Builder
	dropped int
}

// New returns a Recorder that keeps at most limit bytes (DefaultLimit
// when limit is 0).
func New(limit int) *Recorder {
	if limit <= 0 {
		limit = DefaultLimit
	}
	return &Recorder{limit: limit, now: time.Now}
}

// Line records one line: proto ("imap", "pop3", "http"), dir ("C" for
// what the connector sent, "S" for what the server sent, "*" for a note)
// and the text, control characters replaced and cut at MaxLine. A nil
// Recorder records nothing.
func (r *Recorder) Line(proto, dir, text string) {
	if r == nil {
		return
	}
	text = clean(text)
	line := fmt.Sprintf("%s %s %s: %s\n", r.now().UTC().Format("15:04:05.000"), proto, dir, text)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.b.Len()+len(line) > r.limit {
		r.dropped++
		return
	}
	r.b.WriteString(line)
}

// Notef records a note.
func (r *Recorder) Notef(proto, format string, args ...any) {
	r.Line(proto, "*", fmt.Sprintf(format, args...))
}

// String is the trace so far, with a last line counting the lines left
// out beyond the limit.
func (r *Recorder) String() string {
	if r == nil {
		return ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.b.String()
	if r.dropped > 0 {
		s += fmt.Sprintf("(%d more lines left out: the trace reached its limit of %d bytes)\n", r.dropped, r.limit)
	}
	return s
}

// Empty reports whether nothing was recorded.
func (r *Recorder) Empty() bool {
	if r == nil {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.b.Len() == 0 && r.dropped == 0
}

func clean(s string) string {
	s = strings.TrimRight(s, "\r\n")
	cut := false
	if len(s) > MaxLine {
		s, cut = s[:MaxLine], true
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return '·'
		}
		return r
	}, strings.ToValidUTF8(s, "�"))
	if cut {
		s += "…"
	}
	return s
}

type ctxKey struct{}

// With returns ctx carrying r: connect wires it into the session it opens.
func With(ctx context.Context, r *Recorder) context.Context {
	return context.WithValue(ctx, ctxKey{}, r)
}

// From returns the Recorder ctx carries, or nil.
func From(ctx context.Context) *Recorder {
	r, _ := ctx.Value(ctxKey{}).(*Recorder)
	return r
}

// Key is where a run's trace is stored in the blob store.
func Key(jobID, runID string) string {
	return "traces/" + jobID + "/" + runID + ".txt"
}
