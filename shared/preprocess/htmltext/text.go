// Package htmltext reads the HTML bodies of mail: it parses them whatever
// their nesting (Parse, Flatten), renders them as plain text (Text),
// removes active content and remote images (Sanitize), and offers the
// small tree operations the visible-text heuristics cut quotes with.
package htmltext

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Parse parses an HTML body. The parser refuses a document nested
// past its stack limit (bodies flattens the body to MaxDepth first);
// one that still fails is flattened harder, and as a last resort only
// its text is kept, so the text is never lost.
func Parse(s string) *html.Node {
	doc, err := html.Parse(strings.NewReader(s))
	if err == nil {
		return doc
	}
	flat, _ := Flatten(s, MaxDepth/8)
	if doc, err = html.Parse(strings.NewReader(flat)); err == nil {
		return doc
	}
	if doc, err = html.Parse(strings.NewReader(textOnlyHTML(s))); err == nil {
		return doc
	}
	return &html.Node{Type: html.DocumentNode}
}

// Text renders an HTML tree as plain text: paragraphs and blocks on
// their own lines, <br> as line breaks, list items as "- item", links as
// "text (url)", table rows on one line with cells joined by " | ",
// blockquotes prefixed with "> ". Scripts, styles and the head are dropped.
func Text(doc *html.Node) string {
	w := &textWriter{}
	w.node(doc)
	return NormalizeText(w.b.String())
}

type textWriter struct {
	b          strings.Builder
	nl         int  // newlines at the end of b
	space      bool // a space is pending before the next word
	quote      int  // blockquote depth
	pre        int  // inside <pre>
	rowContent bool // the current table row has text
	cellSep    bool // a " | " is pending before the next text
}

func (w *textWriter) atLineStart() bool { return w.b.Len() == 0 || w.nl > 0 }

// ensure ends the current line so that at least n newlines precede the
// next text.
func (w *textWriter) ensure(n int) {
	if w.b.Len() == 0 {
		return
	}
	for w.nl < n {
		w.b.WriteByte('\n')
		w.nl++
	}
	w.space = false
	w.cellSep = false
}

func (w *textWriter) lineBreak() {
	w.b.WriteByte('\n')
	w.nl++
	w.space = false
	w.cellSep = false
}

func (w *textWriter) write(s string) {
	if s == "" {
		return
	}
	if w.atLineStart() {
		if w.quote > 0 {
			w.b.WriteString(strings.Repeat("> ", w.quote))
		}
		w.space = false
		w.cellSep = false
	}
	if w.cellSep {
		w.b.WriteString(" | ")
		w.cellSep = false
		w.space = false
	}
	if w.space {
		w.b.WriteByte(' ')
		w.space = false
	}
	w.b.WriteString(s)
	w.nl = 0
	w.rowContent = true
}

func (w *textWriter) text(s string) {
	if w.pre > 0 {
		lines := strings.Split(s, "\n")
		for i, l := range lines {
			if i > 0 {
				w.lineBreak()
			}
			w.write(l)
		}
		return
	}
	words := strings.Fields(s)
	if len(words) == 0 {
		if s != "" && !w.atLineStart() {
			w.space = true
		}
		return
	}
	if startsWithSpace(s) && !w.atLineStart() {
		w.space = true
	}
	w.write(strings.Join(words, " "))
	if endsWithSpace(s) {
		w.space = true
	}
}

func startsWithSpace(s string) bool {
	return strings.TrimLeft(s, " \t\r\n\u00a0") != s
}

func endsWithSpace(s string) bool { return strings.TrimRight(s, " \t\r\n\u00a0") != s }

// blockElements start and end on their own line.
var blockElements = map[atom.Atom]int{
	atom.P: 2, atom.H1: 2, atom.H2: 2, atom.H3: 2, atom.H4: 2, atom.H5: 2, atom.H6: 2,
	atom.Div: 1, atom.Section: 1, atom.Article: 1, atom.Header: 1, atom.Footer: 1,
	atom.Ul: 1, atom.Ol: 1, atom.Dl: 1, atom.Dt: 1, atom.Dd: 1, atom.Table: 1,
	atom.Tr: 1, atom.Pre: 1, atom.Address: 1, atom.Center: 1, atom.Form: 1,
	atom.Fieldset: 1, atom.Figure: 1, atom.Main: 1, atom.Nav: 1, atom.Aside: 1,
	atom.Hr: 1, atom.Caption: 1, atom.Thead: 1, atom.Tbody: 1, atom.Tfoot: 1,
}

// droppedElements are never rendered as text.
var droppedElements = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Head: true, atom.Title: true,
	atom.Noscript: true, atom.Template: true, atom.Iframe: true, atom.Object: true,
	atom.Embed: true, atom.Applet: true, atom.Frameset: true, atom.Frame: true,
	atom.Select: true, atom.Button: true, atom.Svg: true, atom.Math: true,
}

func (w *textWriter) children(n *html.Node) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.node(c)
	}
}

func (w *textWriter) node(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		w.text(n.Data)
		return
	case html.DocumentNode:
		w.children(n)
		return
	case html.ElementNode:
	default:
		return
	}
	if droppedElements[n.DataAtom] {
		return
	}
	switch n.DataAtom {
	case atom.Br:
		w.lineBreak()
		return
	case atom.Li:
		w.ensure(1)
		w.write("-")
		w.space = true
		w.children(n)
		w.ensure(1)
		return
	case atom.Blockquote:
		w.ensure(1)
		w.quote++
		w.children(n)
		w.quote--
		w.ensure(1)
		return
	case atom.Pre:
		w.ensure(1)
		w.pre++
		w.children(n)
		w.pre--
		w.ensure(1)
		return
	case atom.Tr:
		w.ensure(1)
		saved := w.rowContent
		w.rowContent = false
		w.children(n)
		w.rowContent = saved
		w.ensure(1)
		return
	case atom.Td, atom.Th:
		if w.rowContent && !w.atLineStart() {
			w.cellSep = true
		}
		w.children(n)
		return
	case atom.A:
		w.link(n)
		return
	case atom.Img:
		return
	}
	if k, ok := blockElements[n.DataAtom]; ok {
		w.ensure(k)
		w.children(n)
		w.ensure(k)
		return
	}
	w.children(n)
}

// link writes a link as "text (url)"; the URL is left out when it is the
// text itself or not a web or mail link.
func (w *textWriter) link(n *html.Node) {
	start := w.b.Len()
	w.children(n)
	href := strings.TrimSpace(Attr(n, "href"))
	lower := strings.ToLower(href)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") && !strings.HasPrefix(lower, "mailto:") {
		return
	}
	if w.b.Len() <= start {
		return // an image link or an empty one
	}
	label := strings.TrimSpace(w.b.String()[start:])
	bare := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(href, "mailto:"), "https://"), "http://")
	if label == href || label == bare || strings.TrimSuffix(label, "/") == strings.TrimSuffix(bare, "/") {
		return
	}
	w.space = true
	w.write("(" + href + ")")
}

// NormalizeText trims trailing space from lines, drops blank lines at the
// start and end and collapses runs of blank lines into one.
func NormalizeText(s string) string {
	lines := strings.Split(s, "\n")
	out := make([]string, 0, len(lines))
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\r\u00a0")
		if strings.TrimSpace(l) == "" {
			blank++
			continue
		}
		if blank > 0 && len(out) > 0 {
			out = append(out, "")
		}
		blank = 0
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
