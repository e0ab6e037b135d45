package mailgen_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	_ "github.com/emersion/go-message/charset" // decode non-UTF-8 charsets
	"github.com/emersion/go-message/mail"

	"mailconnector/shared/mailgen"
)

// parsed is what a test learns from a message.
type parsed struct {
	subject     string
	messageID   string
	date        time.Time
	inReplyTo   []string
	references  []string
	header      mail.Header
	texts       map[string]string // content type → decoded text
	charsets    []string
	attachments map[string]int // filename → decoded size
	firstBytes  map[string][]byte
}

func parse(tb testing.TB, m mailgen.Message) *parsed {
	tb.Helper()
	raw := m.Raw
	for i, c := range raw {
		if c == '\n' && (i == 0 || raw[i-1] != '\r') {
			tb.Fatalf("message %s: bare LF at byte %d", m.MessageID, i)
		}
		if c == '\r' && (i+1 == len(raw) || raw[i+1] != '\n') {
			tb.Fatalf("message %s: bare CR at byte %d", m.MessageID, i)
		}
	}
	for i, l := range bytes.Split(raw, []byte("\r\n")) {
		if len(l) > 998 {
			tb.Fatalf("message %s: line %d has %d bytes, want at most 998 (RFC 5322 section 2.1.1)", m.MessageID, i+1, len(l))
		}
	}
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		tb.Fatalf("message %s: create reader: %v", m.MessageID, err)
	}
	p := &parsed{header: r.Header, texts: map[string]string{}, attachments: map[string]int{}, firstBytes: map[string][]byte{}}
	if p.subject, err = r.Header.Subject(); err != nil {
		tb.Fatalf("message %s: subject: %v", m.MessageID, err)
	}
	if p.messageID, err = r.Header.MessageID(); err != nil {
		tb.Fatalf("message %s: message-id: %v", m.MessageID, err)
	}
	if p.date, err = r.Header.Date(); err != nil || p.date.IsZero() {
		tb.Fatalf("message %s: date %q: %v", m.MessageID, r.Header.Get("Date"), err)
	}
	if from, err := r.Header.AddressList("From"); err != nil || len(from) != 1 {
		tb.Fatalf("message %s: from %q: got %v, %v", m.MessageID, r.Header.Get("From"), from, err)
	}
	if to, err := r.Header.AddressList("To"); err != nil || len(to) == 0 {
		tb.Fatalf("message %s: to %q: got %v, %v", m.MessageID, r.Header.Get("To"), to, err)
	}
	if p.inReplyTo, err = r.Header.MsgIDList("In-Reply-To"); err != nil {
		tb.Fatalf("message %s: in-reply-to: %v", m.MessageID, err)
	}
	if p.references, err = r.Header.MsgIDList("References"); err != nil {
		tb.Fatalf("message %s: references: %v", m.MessageID, err)
	}
	for {
		part, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatalf("message %s: next part: %v", m.MessageID, err)
		}
		body, err := io.ReadAll(part.Body)
		if err != nil {
			tb.Fatalf("message %s: read part: %v", m.MessageID, err)
		}
		switch h := part.Header.(type) {
		case *mail.InlineHeader:
			ct, params, err := h.ContentType()
			if err != nil {
				tb.Fatalf("message %s: content type: %v", m.MessageID, err)
			}
			if !utf8.Valid(body) || len(body) == 0 {
				tb.Fatalf("message %s: %s part is empty or not UTF-8 after decoding %s", m.MessageID, ct, params["charset"])
			}
			p.texts[ct] = strings.ReplaceAll(string(body), "\r\n", "\n")
			p.charsets = append(p.charsets, strings.ToLower(params["charset"]))
		case *mail.AttachmentHeader:
			name, err := h.Filename()
			if err != nil || name == "" {
				tb.Fatalf("message %s: attachment filename %q: %v", m.MessageID, name, err)
			}
			p.attachments[name] = len(body)
			p.firstBytes[name] = body[:min(len(body), 16)]
		}
	}
	if p.subject != m.Subject {
		tb.Errorf("message %s: got subject %q, want %q", m.MessageID, p.subject, m.Subject)
	}
	if p.messageID != m.MessageID {
		tb.Errorf("got Message-ID %q, want %q", p.messageID, m.MessageID)
	}
	if len(p.texts) == 0 {
		tb.Errorf("message %s: got no text part, want one", m.MessageID)
	}
	return p
}

func TestDemo(t *testing.T) {
	msgs := mailgen.Demo("helpdesk.example")
	if len(msgs) != 12 {
		t.Fatalf("got %d demo messages, want 12", len(msgs))
	}
	ids := map[string]int{}
	var prev time.Time
	senders := map[string]bool{}
	all := make([]*parsed, len(msgs))
	for i, m := range msgs {
		p := parse(t, m)
		all[i] = p
		if _, dup := ids[m.MessageID]; dup {
			t.Errorf("got Message-ID %s twice, want unique", m.MessageID)
		}
		ids[m.MessageID] = i
		if !p.date.After(prev) {
			t.Errorf("message %d: got date %s, not after %s", i, p.date, prev)
		}
		prev = p.date
		senders[p.header.Get("From")] = true
		if to := p.header.Get("To"); !strings.Contains(to, "support@helpdesk.example") {
			t.Errorf("message %d: got To %q, want support@helpdesk.example", i, to)
		}
	}
	if len(senders) < 8 {
		t.Errorf("got %d different senders, want at least 8", len(senders))
	}

	find := func(pred func(*parsed) bool) *parsed {
		t.Helper()
		for _, p := range all {
			if pred(p) {
				return p
			}
		}
		return nil
	}
	checks := []struct {
		name string
		pred func(*parsed) bool
	}{
		{"printer", func(p *parsed) bool { return strings.Contains(p.subject, "Printer") && p.inReplyTo == nil }},
		{"vpn", func(p *parsed) bool { return strings.Contains(p.subject, "VPN") }},
		{"password reset", func(p *parsed) bool { return strings.Contains(p.subject, "Password reset") }},
		{"invoice with euro sign", func(p *parsed) bool {
			return strings.Contains(p.subject, "invoice") && strings.Contains(p.texts["text/plain"], "€")
		}},
		{"pdf attachment", func(p *parsed) bool {
			for name, first := range p.firstBytes {
				if strings.HasSuffix(name, ".pdf") && bytes.HasPrefix(first, []byte("%PDF-")) && p.attachments[name] > 0 {
					return true
				}
			}
			return false
		}},
		{"outlook html", func(p *parsed) bool {
			return strings.Contains(p.texts["text/html"], "MsoNormal") && strings.Contains(p.texts["text/plain"], "Maintenance window") &&
				p.header.Get("Thread-Index") != ""
		}},
		{"german iso-8859-1", func(p *parsed) bool {
			return strings.Contains(strings.Join(p.charsets, ","), "iso-8859-1") && strings.Contains(p.texts["text/plain"], "Viele Grüße") &&
				strings.Contains(p.texts["text/plain"], "Günther Müller")
		}},
		{"japanese iso-2022-jp", func(p *parsed) bool {
			return strings.Contains(strings.Join(p.charsets, ","), "iso-2022-jp") && p.subject == "プリンターが動きません" &&
				strings.Contains(p.texts["text/plain"], "プリンター") && strings.Contains(p.header.Get("Subject"), "=?ISO-2022-JP?B?")
		}},
		{"out of office", func(p *parsed) bool { return p.header.Get("Auto-Submitted") == "auto-replied" }},
		{"reply quoting an earlier demo message", func(p *parsed) bool {
			if len(p.inReplyTo) != 1 {
				return false
			}
			j, ok := ids[p.inReplyTo[0]]
			text := p.texts["text/plain"]
			return ok && len(p.references) > 0 && p.references[len(p.references)-1] == p.inReplyTo[0] &&
				strings.Contains(text, "wrote:\n> ") && strings.Contains(text, "> "+strings.SplitN(all[j].texts["text/plain"], "\n", 2)[0]) &&
				strings.HasPrefix(p.subject, "Re: ")
		}},
		{"request token", func(p *parsed) bool { return strings.Contains(p.subject, "[REQ-000001]") }},
		{"windows-1252", func(p *parsed) bool {
			return strings.Contains(strings.Join(p.charsets, ","), "windows-1252") && strings.Contains(p.subject, "d’accès") &&
				strings.Contains(p.texts["text/plain"], "« accès refusé »")
		}},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if find(c.pred) == nil {
				t.Errorf("got no demo message that is %s, want one", c.name)
			}
		})
	}
	if a, b := mailgen.Demo("helpdesk.example"), msgs; !bytes.Equal(a[5].Raw, b[5].Raw) {
		t.Errorf("got different demo bytes on a second call, want the same")
	}
}

func TestGenerateParsesAndRatios(t *testing.T) {
	const n = 1000
	opts := &mailgen.Options{Seed: 42, MinAttachment: 1000, MaxAttachment: 5000, Domain: "helpdesk.example"}
	seen := map[string]bool{}
	var attachments, nonUTF8, replies, tokens, alternative int
	var prev time.Time
	err := mailgen.Generate(n, opts, func(i int, m mailgen.Message) error {
		p := parse(t, m)
		if seen[m.MessageID] {
			t.Errorf("message %d: got Message-ID %s again, want unique", i, m.MessageID)
		}
		seen[m.MessageID] = true
		if !p.date.After(prev) {
			t.Errorf("message %d: got date %s, not after %s", i, p.date, prev)
		}
		prev = p.date
		if _, ok := p.texts["text/html"]; ok {
			if _, ok := p.texts["text/plain"]; ok {
				alternative++
			}
		}
		for name, size := range p.attachments {
			attachments++
			if size < 1000 || size > 5000 {
				t.Errorf("message %d: attachment %s has %d bytes, want 1000-5000", i, name, size)
			}
		}
		for _, cs := range p.charsets {
			if cs != "utf-8" {
				nonUTF8++
				break
			}
		}
		if len(p.inReplyTo) > 0 {
			replies++
			if !seen[p.inReplyTo[0]] {
				t.Errorf("message %d: In-Reply-To %s is not an earlier message", i, p.inReplyTo[0])
			}
			if !strings.Contains(p.texts["text/plain"], "wrote:\n> ") {
				t.Errorf("message %d: reply does not quote its parent: %q", i, p.texts["text/plain"])
			}
			if !strings.HasPrefix(p.subject, "Re: ") {
				t.Errorf("message %d: got reply subject %q, want Re: …", i, p.subject)
			}
		}
		if strings.Contains(p.subject, "[REQ-") {
			tokens++
		}
		return nil
	})
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	if len(seen) != n {
		t.Fatalf("got %d messages, want %d", len(seen), n)
	}
	if alternative != n {
		t.Errorf("got %d messages with text/plain and text/html, want %d", alternative, n)
	}
	for _, r := range []struct {
		name      string
		got       int
		want, tol float64
	}{
		{"attachments", attachments, 0.10, 0.03},
		{"non-UTF-8", nonUTF8, 0.10, 0.03},
		{"replies", replies, 0.20, 0.04},
	} {
		if got := float64(r.got) / n; got < r.want-r.tol || got > r.want+r.tol {
			t.Errorf("got %s ratio %.3f, want %.2f±%.2f", r.name, got, r.want, r.tol)
		}
	}
	if tokens == 0 {
		t.Errorf("got no reply with a [REQ-…] token, want some")
	}
}

func TestGenerateCharsets(t *testing.T) {
	want := map[string]bool{"iso-8859-1": false, "windows-1252": false, "koi8-r": false, "shift_jis": false}
	err := mailgen.Generate(200, &mailgen.Options{Seed: 7, NonUTF8Ratio: 1, ReplyRatio: -1, AttachmentRatio: -1}, func(i int, m mailgen.Message) error {
		p := parse(t, m)
		for _, cs := range p.charsets {
			if _, ok := want[cs]; !ok {
				t.Errorf("message %d: got charset %q, want one of %v", i, cs, want)
			}
			want[cs] = true
		}
		if len(p.inReplyTo) > 0 || len(p.attachments) > 0 {
			t.Errorf("message %d: got a reply or an attachment with their ratios negative", i)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	for cs, ok := range want {
		if !ok {
			t.Errorf("got no message in %s, want some", cs)
		}
	}
}

func TestGenerateDefaultAttachmentSizes(t *testing.T) {
	err := mailgen.Generate(4, &mailgen.Options{Seed: 3, AttachmentRatio: 1}, func(i int, m mailgen.Message) error {
		p := parse(t, m)
		if len(p.attachments) != 1 {
			t.Fatalf("message %d: got %d attachments, want 1", i, len(p.attachments))
		}
		for name, size := range p.attachments {
			if size < 100<<10 || size > 2<<20 {
				t.Errorf("message %d: attachment %s has %d bytes, want 100 KB-2 MB", i, name, size)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
}

func digest(tb testing.TB, seed int64, n int) [32]byte {
	tb.Helper()
	h := sha256.New()
	err := mailgen.Generate(n, &mailgen.Options{Seed: seed, MinAttachment: 100, MaxAttachment: 20000}, func(i int, m mailgen.Message) error {
		h.Write(m.Raw)
		return nil
	})
	if err != nil {
		tb.Fatalf("generate: %v", err)
	}
	return [32]byte(h.Sum(nil))
}

func TestGenerateDeterministic(t *testing.T) {
	a, b, c := digest(t, 1, 300), digest(t, 1, 300), digest(t, 2, 300)
	if a != b {
		t.Errorf("got different messages for the same seed, want the same")
	}
	if a == c {
		t.Errorf("got the same messages for seeds 1 and 2, want different")
	}
}

func TestGenerateStopsOnError(t *testing.T) {
	stop := errors.New("stop")
	calls := 0
	err := mailgen.Generate(10, nil, func(i int, m mailgen.Message) error {
		calls++
		if i == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Errorf("got error %v after %d calls, want stop after 3", err, calls)
	}
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func TestWriteLarge(t *testing.T) {
	const size = 3<<20 + 7
	var a, b bytes.Buffer
	if err := mailgen.WriteLarge(&a, size, 9); err != nil {
		t.Fatalf("write large: %v", err)
	}
	if err := mailgen.WriteLarge(&b, size, 9); err != nil {
		t.Fatalf("write large: %v", err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("got different bytes for the same seed, want the same")
	}
	r, _ := mail.CreateReader(bytes.NewReader(a.Bytes()))
	subject, _ := r.Header.Subject()
	id, _ := r.Header.MessageID()
	p := parse(t, mailgen.Message{Raw: a.Bytes(), Subject: subject, MessageID: id})
	if len(p.attachments) != 1 {
		t.Fatalf("got %d attachments, want 1", len(p.attachments))
	}
	for name, n := range p.attachments {
		if n != size {
			t.Errorf("got attachment %s of %d bytes, want %d", name, n, size)
		}
	}

	// Streaming: writing 64 MB must not allocate anything like 64 MB.
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var cw countingWriter
	if err := mailgen.WriteLarge(&cw, 64<<20, 1); err != nil {
		t.Fatalf("write large: %v", err)
	}
	runtime.ReadMemStats(&after)
	if cw.n < 64<<20*4/3 {
		t.Errorf("got %d bytes written, want at least %d", cw.n, 64<<20*4/3)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("got %d bytes allocated for a 64 MB attachment, want it streamed (< 8 MB)", alloc)
	}
	if err := mailgen.WriteLarge(io.Discard, -1, 1); err == nil {
		t.Errorf("got no error for a negative size, want one")
	}
}

func TestSubjectsAreEncodedWords(t *testing.T) {
	// Non-ASCII subjects must be RFC 2047 encoded words, never raw 8-bit.
	err := mailgen.Generate(300, &mailgen.Options{Seed: 5, NonUTF8Ratio: 0.5, AttachmentRatio: -1}, func(i int, m mailgen.Message) error {
		for _, c := range m.Raw[:bytes.Index(m.Raw, []byte("\r\n\r\n"))] {
			if c >= 0x80 {
				t.Fatalf("message %d: got 8-bit byte in the header, want encoded words", i)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
}

func BenchmarkGenerate(b *testing.B) {
	var bytesOut int64
	b.ReportAllocs()
	b.ResetTimer()
	err := mailgen.Generate(b.N, &mailgen.Options{Seed: 1}, func(i int, m mailgen.Message) error {
		bytesOut += int64(len(m.Raw))
		return nil
	})
	if err != nil {
		b.Fatalf("generate: %v", err)
	}
	b.ReportMetric(float64(bytesOut)/float64(b.N), "bytes/msg")
}
