package preprocess

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// htmlMessage wraps an HTML body in a message.
func htmlMessage(body string) string {
	return "From: a@example.org\r\nTo: b@example.org\r\nSubject: deep\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + body
}

// replyThread nests n replies the way webmail quotes each one in the
// next: a blockquote holding two divs holding the earlier reply.
func replyThread(n int) string {
	var b strings.Builder
	b.WriteString("<html><body><div>Newest reply: the printer works again.</div>")
	for i := n; i > 0; i-- {
		fmt.Fprintf(&b, "<div>On day %d, someone wrote:</div><blockquote type=\"cite\"><div><div>reply %d", i, i)
	}
	for i := 0; i < n; i++ {
		b.WriteString("</div></div></blockquote>")
	}
	b.WriteString("</body></html>")
	return b.String()
}

// TestDeepHTML feeds HTML nested past the parser's 512 open elements: the
// visible text (the top of the thread at least) must survive, with a
// warning, in bounded time.
func TestDeepHTML(t *testing.T) {
	for _, tt := range []struct {
		name   string
		html   string
		want   []string // in the text, in this order
		warned bool
	}{
		{name: "180 nested replies", html: replyThread(180), want: []string{"Newest reply: the printer works again.", "reply 180", "reply 100"}, warned: true},
		{name: "520 unclosed divs", html: "<p>Top text</p>" + strings.Repeat("<div>", 520) + "deep text", want: []string{"Top text", "deep text"}, warned: true},
		{name: "200000 unclosed divs", html: "<p>Top text</p>" + strings.Repeat("<div>", 200000) + "deep text", want: []string{"Top text", "deep text"}, warned: true},
		{name: "200000 closed divs", html: "<p>Top text</p>" + strings.Repeat("<div>", 200000) + "deep text" + strings.Repeat("</div>", 200000) + "<p>after</p>", want: []string{"Top text", "deep text", "after"}, warned: true},
		{name: "100000 nested inline", html: "Top text " + strings.Repeat("<b><i><span>x ", 100000/3), want: []string{"Top text", "x x x"}, warned: true},
		{name: "deep with stray end tags", html: "Top text" + strings.Repeat("<div></span></p>", 50000) + "deep text", want: []string{"Top text", "deep text"}, warned: true},
		{name: "300 nested tables", html: "<p>Top text</p>" + strings.Repeat("<table><td>cell ", 300) + "deep text", want: []string{"Top text", "cell", "deep text"}, warned: true},
		{name: "shallow", html: "<div><div><p>Hello</p></div></div>", want: []string{"Hello"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			m := processString(t, htmlMessage(tt.html), nil)
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v, want well under 3s", d)
			}
			at := 0
			for _, w := range tt.want {
				i := strings.Index(m.Text[at:], w)
				if i < 0 {
					t.Fatalf("Text: got %.300q, want %q after offset %d", m.Text, w, at)
				}
				at += i + len(w)
			}
			if !strings.Contains(m.VisibleText, "Top text") && !strings.Contains(m.VisibleText, "Newest reply") && !strings.Contains(m.VisibleText, "Hello") {
				t.Errorf("VisibleText: got %.300q, want the top of the message", m.VisibleText)
			}
			warned := strings.Contains(strings.Join(m.Warnings, "\n"), "nested deeper than")
			if warned != tt.warned {
				t.Errorf("nesting warning: got %v (warnings %q), want %v", warned, m.Warnings, tt.warned)
			}
		})
	}
}
