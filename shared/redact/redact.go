// Package redact keeps secret values out of everything the connector
// writes: errors, log lines, run records, job state and command output.
//
// The secret resolvers register every value they resolve (passwords,
// client secrets, refresh and access tokens) with the process's Redactor,
// Default, and so does the OAuth2 token code for tokens it obtains at run
// time; each sink (the store's run-record and job-state writes, the log
// handler, the command's output) passes its text through Default before
// writing it. A value is redacted as written and in its common encodings:
// URL encoding (a token request body, RFC 6749 section 4), JSON string
// escaping, and base64 in both alphabets at every byte alignment, so it is
// also found inside a SASL PLAIN (RFC 4616) or XOAUTH2 initial response,
// whatever comes before it.
package redact

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
)

// Mask replaces a redacted value.
const Mask = "[redacted]"

// MinLen is the shortest value registered: shorter ones would mask
// ordinary words. A secret this short is weak anyway.
const MinLen = 4

// maxValues bounds what a long-lived process keeps: past it the oldest
// values are forgotten first (rotated access tokens expire within hours).
const maxValues = 4096

// Redactor replaces registered values. The zero value is ready; it is
// safe for concurrent use.
type Redactor struct {
	mu     sync.RWMutex
	seen   map[string]bool
	order  []string
	forms  map[string][]string // value → its encoded forms
	repl   *strings.Replacer
	frozen bool // repl is up to date
}

// Default is the process's redactor, fed by the secret resolvers.
var Default = &Redactor{}

// Add registers values; empty and too-short ones are ignored.
func (r *Redactor) Add(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range values {
		if len(v) < MinLen || r.seen[v] {
			continue
		}
		if r.seen == nil {
			r.seen, r.forms = map[string]bool{}, map[string][]string{}
		}
		r.seen[v] = true
		r.order = append(r.order, v)
		r.forms[v] = forms(v)
		r.frozen = false
	}
	for len(r.order) > maxValues {
		old := r.order[0]
		r.order = r.order[1:]
		delete(r.seen, old)
		delete(r.forms, old)
	}
}

// forms are v and its encodings that reveal it.
func forms(v string) []string {
	out := []string{v}
	add := func(s string) {
		if len(s) >= MinLen {
			out = append(out, s)
		}
	}
	add(url.QueryEscape(v))
	add(url.PathEscape(v))
	if b, err := json.Marshal(v); err == nil {
		add(string(b[1 : len(b)-1]))
	}
	// base64 of v after k bytes of anything: the characters that depend
	// on v's bytes only are the same wherever v sits in the encoded data.
	for k := 0; k < 3; k++ {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, k), v...))
		start, end := (8*k+5)/6, 8*(k+len(v))/6
		if end-start < MinLen {
			continue
		}
		core := enc[start:end]
		add(core)
		add(strings.NewReplacer("+", "-", "/", "_").Replace(core))
	}
	return out
}

// replacer returns the replacer of the registered values, longest first
// so that a value is never half-masked by a shorter one it contains.
func (r *Redactor) replacer() *strings.Replacer {
	r.mu.RLock()
	if r.frozen || len(r.order) == 0 {
		rp := r.repl
		if len(r.order) == 0 {
			rp = nil
		}
		r.mu.RUnlock()
		return rp
	}
	r.mu.RUnlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.frozen {
		var all []string
		seen := map[string]bool{}
		for _, v := range r.order {
			for _, f := range r.forms[v] {
				if !seen[f] {
					seen[f] = true
					all = append(all, f)
				}
			}
		}
		sortLongestFirst(all)
		pairs := make([]string, 0, 2*len(all))
		for _, f := range all {
			pairs = append(pairs, f, Mask)
		}
		r.repl, r.frozen = strings.NewReplacer(pairs...), true
	}
	return r.repl
}

func sortLongestFirst(s []string) {
	// insertion sort keeps this package free of sort's generics cost for
	// the usual handful of values
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && len(s[j]) > len(s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// String returns s with every registered value masked.
func (r *Redactor) String(s string) string {
	rp := r.replacer()
	if rp == nil || s == "" {
		return s
	}
	return rp.Replace(s)
}

// Strings masks each of ss in place and returns it.
func (r *Redactor) Strings(ss []string) []string {
	for i, s := range ss {
		ss[i] = r.String(s)
	}
	return ss
}

// Error returns err with its message masked (nil stays nil). The result
// still unwraps to err, so errors.Is and errors.As keep working.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if red := r.String(msg); red != msg {
		return &maskedError{msg: red, err: err}
	}
	return err
}

type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }

// String masks s with Default.
func String(s string) string { return Default.String(s) }

// Strings masks ss with Default.
func Strings(ss []string) []string { return Default.Strings(ss) }

// Error masks err with Default.
func Error(err error) error { return Default.Error(err) }

// Add registers values with Default.
func Add(values ...string) { Default.Add(values...) }

// Writer masks what is written to w with Default. Each Write is masked
// whole, so a caller that writes a line at a time (fmt.Fprintln, a log
// handler) never splits a value across two writes.
func Writer(w io.Writer) io.Writer { return &writer{w: w} }

type writer struct{ w io.Writer }

func (w *writer) Write(p []byte) (int, error) {
	rp := Default.replacer()
	if rp == nil || len(p) == 0 {
		return w.w.Write(p)
	}
	out := rp.Replace(string(p))
	if out == string(p) {
		return w.w.Write(p)
	}
	if _, err := io.Copy(w.w, bytes.NewReader([]byte(out))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Handler wraps h so that every record's message and attribute values
// are masked with Default before h writes them.
func Handler(h slog.Handler) slog.Handler { return &handler{h: h} }

type handler struct{ h slog.Handler }

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.h.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, String(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(maskAttr(a))
		return true
	})
	return h.h.Handle(ctx, out)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	m := make([]slog.Attr, len(as))
	for i, a := range as {
		m[i] = maskAttr(a)
	}
	return &handler{h: h.h.WithAttrs(m)}
}

func (h *handler) WithGroup(name string) slog.Handler { return &handler{h: h.h.WithGroup(name)} }

// maskAttr masks a's value; values that are not strings are masked in
// their text form (an error's message, a Stringer's String).
func maskAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, String(v.String()))
	case slog.KindGroup:
		g := v.Group()
		m := make([]any, len(g))
		for i, x := range g {
			m[i] = maskAttr(x)
		}
		return slog.Group(a.Key, m...)
	case slog.KindAny:
		var s string
		switch x := v.Any().(type) {
		case error:
			s = x.Error()
		case interface{ String() string }:
			s = x.String()
		default:
			b, err := json.Marshal(x)
			if err != nil {
				return a
			}
			if red := String(string(b)); red != string(b) {
				return slog.String(a.Key, red)
			}
			return slog.Attr{Key: a.Key, Value: v}
		}
		if red := String(s); red != s {
			return slog.String(a.Key, red)
		}
		return slog.Attr{Key: a.Key, Value: v}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
