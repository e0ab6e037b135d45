package htmltext

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// attr returns the value of an attribute, or "".
func Attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// HasClass reports whether the element's class list contains c.
func HasClass(n *html.Node, c string) bool {
	for _, f := range strings.Fields(Attr(n, "class")) {
		if f == c {
			return true
		}
	}
	return false
}

// TextPrefix is the start of the text of a subtree, at most max bytes,
// with collapsed whitespace; it stops walking once it has enough, so it is
// cheap on large subtrees.
func TextPrefix(n *html.Node, max int) string {
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
	s := strings.Join(strings.Fields(b.String()), " ")
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return s[:max]
}

// FirstElement is the first child element, skipping whitespace text and
// comments; nil if text comes first.
func FirstElement(n *html.Node) *html.Node {
	return element(n.FirstChild, func(c *html.Node) *html.Node { return c.NextSibling })
}

// element is the first element from n on, following next, skipping
// whitespace text and comments; nil if text comes first.
func element(n *html.Node, next func(*html.Node) *html.Node) *html.Node {
	for c := n; c != nil; c = next(c) {
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

// FindAll returns the elements matching pred in document order, not
// descending into matches.
func FindAll(n *html.Node, pred func(*html.Node) bool) []*html.Node {
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

// RemoveAll removes every element matching pred.
func RemoveAll(doc *html.Node, pred func(*html.Node) bool) {
	for _, n := range FindAll(doc, pred) {
		if n.Parent != nil {
			n.Parent.RemoveChild(n)
		}
	}
}

// CutFrom removes n and everything after it in document order: its
// following siblings and those of each ancestor up to <body>.
func CutFrom(n *html.Node) {
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

// PrevElement is the previous sibling element, skipping whitespace text
// and comments; nil if text comes first.
func PrevElement(n *html.Node) *html.Node {
	return element(n.PrevSibling, func(s *html.Node) *html.Node { return s.PrevSibling })
}
