package preprocess

import (
	"strings"
	"unicode"

	"golang.org/x/net/html"

	"mailconnector/shared/preprocess/htmltext"
	"mailconnector/shared/preprocess/visible"
)

// bodies turns the collected text and HTML parts into Text, HTML and
// VisibleText, choosing them as a mail client renders the message (RFC
// 2046 section 5.1): the inline text parts of a multipart/mixed (or any
// multipart but alternative) follow one another, so a disclaimer a
// gateway appends comes after the sender's words and never replaces
// them; of a multipart/alternative only one version counts, the last
// (richest) for HTML and the last plain one for Text. Parts marked as
// attachments never get here.
func (p *processor) bodies() {
	m := p.msg
	heuristics, warnings := visible.ForJob(p.opts.Job)
	for _, w := range warnings {
		p.warn("%s", w)
	}
	cut := 0
	for i := range p.html {
		var n int
		p.html[i], n = htmltext.Flatten(p.html[i], htmltext.MaxDepth)
		cut += n
	}
	if cut > 0 {
		p.warn("html: elements nested deeper than %d: %d flattened, their text kept", htmltext.MaxDepth, cut)
	}
	text, rich := renditions(&p.tree)
	if len(text) == 0 && len(rich) == 0 {
		// No MIME structure (not a MIME message), or only a TNEF
		// (winmail.dat) body, which counts only when the MIME message has
		// none of its own: Outlook sends the same text beside it.
		if len(p.plain) == 0 && len(p.html) == 0 {
			p.plain, p.html = p.tnefPlain, p.tnefHTML
		}
		text, rich = flatRenditions(len(p.plain), len(p.html))
	}
	htmlBody, hasHTML := p.richHTML(rich)
	if hasHTML {
		m.HTML = htmltext.Sanitize(htmlBody)
	}
	m.Text = p.plainText(text)
	if m.Text == "" && hasHTML {
		m.Text = htmltext.Text(htmltext.Parse(htmlBody))
	}
	if m.Text != "" {
		m.VisibleText = heuristics.Text(m.Subject, m.Text, htmlBody, hasHTML)
	}
}

// bodyNode is one entity of the body tree: a multipart (kind is its
// media type) or, with leaf set, one text part (p.html[idx] if html,
// else p.plain[idx]).
type bodyNode struct {
	kind     string
	children []*bodyNode
	leaf     bool
	html     bool
	idx      int
}

// node returns the multipart being walked, or the root.
func (p *processor) node() *bodyNode {
	if p.cur == nil {
		return &p.tree
	}
	return p.cur
}

// addBodyParts records the text parts a leaf added to p.plain and
// p.html (from the given lengths on) in the body tree.
func (p *processor) addBodyParts(plain, html int) {
	parent := p.node()
	for i := plain; i < len(p.plain); i++ {
		parent.children = append(parent.children, &bodyNode{leaf: true, idx: i})
	}
	for i := html; i < len(p.html); i++ {
		parent.children = append(parent.children, &bodyNode{leaf: true, html: true, idx: i})
	}
}

// renditions returns the text parts a mail client shows for n, in order:
// text prefers plain versions of alternatives, rich the richest (last).
func renditions(n *bodyNode) (text, rich []*bodyNode) {
	if n.leaf {
		return []*bodyNode{n}, []*bodyNode{n}
	}
	if n.kind == "multipart/alternative" {
		var lastText []*bodyNode
		for _, c := range n.children {
			t, r := renditions(c)
			if len(r) > 0 {
				rich = r
			}
			if len(t) > 0 {
				lastText = t
				if allPlain(t) {
					text = t
				}
			}
		}
		if text == nil {
			text = lastText
		}
		return text, rich
	}
	for _, c := range n.children {
		t, r := renditions(c)
		text = append(text, t...)
		rich = append(rich, r...)
	}
	return text, rich
}

func allPlain(ns []*bodyNode) bool {
	for _, n := range ns {
		if n.html {
			return false
		}
	}
	return true
}

// flatRenditions is the choice without a MIME structure: the plain parts
// for Text, the HTML parts for HTML, each standing in for the other.
func flatRenditions(plain, html int) (text, rich []*bodyNode) {
	var ps, hs []*bodyNode
	for i := 0; i < plain; i++ {
		ps = append(ps, &bodyNode{leaf: true, idx: i})
	}
	for i := 0; i < html; i++ {
		hs = append(hs, &bodyNode{leaf: true, html: true, idx: i})
	}
	text, rich = ps, hs
	if len(text) == 0 {
		text = hs
	}
	if len(rich) == 0 {
		rich = ps
	}
	return text, rich
}

// plainText renders the parts of a rendition as text, in order.
func (p *processor) plainText(parts []*bodyNode) string {
	var out []string
	for _, n := range parts {
		var t string
		if n.html {
			t = htmltext.Text(htmltext.Parse(p.html[n.idx]))
		} else {
			t = cleanText(p.plain[n.idx])
		}
		if t != "" {
			out = append(out, t)
		}
	}
	return cleanText(strings.Join(out, "\n\n"))
}

// richHTML joins the parts of a rendition into one HTML body, plain parts
// escaped with their line breaks kept; ok is false when no part is HTML.
func (p *processor) richHTML(parts []*bodyNode) (string, bool) {
	if allPlain(parts) {
		return "", false
	}
	var b strings.Builder
	for _, n := range parts {
		if n.html {
			b.WriteString(p.html[n.idx])
			b.WriteString("\n")
			continue
		}
		t := cleanText(p.plain[n.idx])
		if t == "" {
			continue
		}
		b.WriteString("<div>")
		b.WriteString(strings.ReplaceAll(html.EscapeString(t), "\n", "<br>\n"))
		b.WriteString("</div>\n")
	}
	s := b.String()
	return s, strings.TrimSpace(s) != ""
}

// cleanText normalizes line ends to "\n", drops control characters other
// than tab and newline, and trims blank lines at both ends.
func cleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r':
			return '\n'
		case unicode.IsControl(r), r == '\uFEFF':
			return -1
		}
		return r
	}, s)
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	return strings.TrimRightFunc(s, unicode.IsSpace)
}

// unflow joins the soft line breaks of a format=flowed body (RFC 3676
// section 4.2): a line ending in a space continues on the next line of
// the same quote depth. Space-stuffing is undone; with delsp=yes the
// trailing space is removed as well. The signature separator "-- " is
// never joined.
func unflow(s string, delSp bool) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	var out []string
	var cur strings.Builder
	curDepth := -1
	flush := func() {
		if curDepth >= 0 {
			out = append(out, cur.String())
			cur.Reset()
			curDepth = -1
		}
	}
	for _, l := range lines {
		depth := 0
		for depth < len(l) && l[depth] == '>' {
			depth++
		}
		quote, body := l[:depth], l[depth:]
		body = strings.TrimPrefix(body, " ") // space-stuffing (section 4.4)
		if curDepth >= 0 && depth != curDepth {
			flush()
		}
		if curDepth < 0 {
			if depth > 0 {
				cur.WriteString(quote + " ")
			}
			curDepth = depth
		}
		soft := strings.HasSuffix(body, " ") && body != "-- "
		if soft && delSp {
			body = body[:len(body)-1]
		}
		cur.WriteString(body)
		if !soft {
			flush()
		}
	}
	flush()
	return strings.Join(out, "\n")
}
