package preprocess

import (
	"regexp"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// parseHTML parses an HTML body. The parser refuses a document nested
// past its stack limit (bodies flattens the body to maxHTMLDepth first);
// one that still fails is flattened harder, and as a last resort only
// its text is kept, so the text is never lost.
func parseHTML(s string) *html.Node {
	doc, err := html.Parse(strings.NewReader(s))
	if err == nil {
		return doc
	}
	flat, _ := flattenHTML(s, maxHTMLDepth/8)
	if doc, err = html.Parse(strings.NewReader(flat)); err == nil {
		return doc
	}
	if doc, err = html.Parse(strings.NewReader(textOnlyHTML(s))); err == nil {
		return doc
	}
	return &html.Node{Type: html.DocumentNode}
}

// htmlToText renders an HTML tree as plain text: paragraphs and blocks on
// their own lines, <br> as line breaks, list items as "- item", links as
// "text (url)", table rows on one line with cells joined by " | ",
// blockquotes prefixed with "> ". Scripts, styles and the head are dropped.
func htmlToText(doc *html.Node) string {
	w := &textWriter{}
	w.node(doc)
	return normalizeText(w.b.String())
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
	href := strings.TrimSpace(attr(n, "href"))
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

// attr returns the value of an attribute, or "".
func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// hasClass reports whether the element's class list contains c.
func hasClass(n *html.Node, c string) bool {
	for _, f := range strings.Fields(attr(n, "class")) {
		if f == c {
			return true
		}
	}
	return false
}

// textPrefix is the start of the text of a subtree, at most max bytes,
// with collapsed whitespace; it stops walking once it has enough, so it is
// cheap on large subtrees.
func textPrefix(n *html.Node, max int) string {
	var b strings.Builder
	var walk func(*html.Node) bool
	walk = func(n *html.Node) bool {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			b.WriteByte(' ')
			if b.Len() >= max {
				return true
			}
		}
		if n.Type == html.ElementNode && n.DataAtom == atom.Br {
			b.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if walk(c) {
				return true
			}
		}
		return false
	}
	walk(n)
	return truncateUTF8(collapseSpace(b.String()), max)
}

// firstElement is the first child element, skipping whitespace text and
// comments; nil if text comes first.
func firstElement(n *html.Node) *html.Node {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch c.Type {
		case html.ElementNode:
			return c
		case html.TextNode:
			if strings.TrimSpace(c.Data) != "" {
				return nil
			}
		}
	}
	return nil
}

// findAll returns the elements matching pred in document order, not
// descending into matches.
func findAll(n *html.Node, pred func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && pred(n) {
			out = append(out, n)
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

// removeAll removes every element matching pred.
func removeAll(doc *html.Node, pred func(*html.Node) bool) {
	for _, n := range findAll(doc, pred) {
		if n.Parent != nil {
			n.Parent.RemoveChild(n)
		}
	}
}

// cutFrom removes n and everything after it in document order: its
// following siblings and those of each ancestor up to <body>.
func cutFrom(n *html.Node) {
	for cur := n; cur != nil && cur.Parent != nil && cur.DataAtom != atom.Body && cur.DataAtom != atom.Html; cur = cur.Parent {
		for s := cur.NextSibling; s != nil; {
			next := s.NextSibling
			cur.Parent.RemoveChild(s)
			s = next
		}
	}
	if n.Parent != nil {
		n.Parent.RemoveChild(n)
	}
}

// prevElement is the previous sibling element, skipping whitespace text
// and comments.
func prevElement(n *html.Node) *html.Node {
	for s := n.PrevSibling; s != nil; s = s.PrevSibling {
		switch s.Type {
		case html.ElementNode:
			return s
		case html.TextNode:
			if strings.TrimSpace(s.Data) != "" {
				return nil
			}
		}
	}
	return nil
}

// sanitizeHTML removes active content from an HTML body: script, style,
// frames, plugins, event handler attributes, javascript: and similar URLs
// and remote images (which would tell the sender the message was read).
// Inline (cid:) and data: images stay.
func sanitizeHTML(s string) string {
	doc := parseHTML(s)
	removeAll(doc, func(n *html.Node) bool { return unsafeElements[n.DataAtom] })
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			n.Attr = safeAttrs(n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	var b strings.Builder
	if err := html.Render(&b, doc); err != nil {
		return ""
	}
	return b.String()
}

var unsafeElements = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Iframe: true, atom.Frame: true,
	atom.Frameset: true, atom.Object: true, atom.Embed: true, atom.Applet: true,
	atom.Base: true, atom.Link: true, atom.Meta: true,
}

// urlAttrs hold URLs.
var urlAttrs = map[string]bool{
	"href": true, "src": true, "action": true, "formaction": true, "background": true,
	"poster": true, "srcset": true, "lowsrc": true, "dynsrc": true, "xlink:href": true,
	"data": true, "codebase": true, "cite": true, "longdesc": true, "usemap": true,
}

var cssURL = regexp.MustCompile(`(?i)url\s*\(|expression\s*\(|@import|behavior\s*:|-moz-binding`)

func safeAttrs(n *html.Node) []html.Attribute {
	out := n.Attr[:0]
	for _, a := range n.Attr {
		key := strings.ToLower(a.Key)
		if a.Namespace != "" {
			key = strings.ToLower(a.Namespace + ":" + a.Key)
		}
		if strings.HasPrefix(key, "on") {
			continue
		}
		if key == "style" && cssURL.MatchString(a.Val) {
			continue
		}
		if urlAttrs[key] {
			v := strings.ToLower(strings.Join(strings.Fields(a.Val), ""))
			v = strings.Map(func(r rune) rune {
				if r < 0x20 {
					return -1
				}
				return r
			}, v)
			if strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || strings.HasPrefix(v, "livescript:") {
				continue
			}
			if strings.HasPrefix(v, "data:") && !(n.DataAtom == atom.Img && key == "src" && strings.HasPrefix(v, "data:image/") && !strings.HasPrefix(v, "data:image/svg")) {
				continue
			}
			remote := strings.HasPrefix(v, "http:") || strings.HasPrefix(v, "https:") || strings.HasPrefix(v, "//")
			if remote && key != "href" && key != "cite" {
				// Remote images and other fetched resources.
				continue
			}
		}
		out = append(out, a)
	}
	return out
}
