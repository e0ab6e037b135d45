package htmltext

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// MaxDepth is the deepest nesting of elements kept in an HTML body.
// golang.org/x/net/html refuses a document whose stack of open elements
// passes 512 (and the parser adds elements of its own: html, body,
// tbody, tr, reconstructed formatting elements), so deeper elements are
// flattened away before parsing: their tags go, their text stays.
const MaxDepth = 256

// voidElements have no end tag (HTML Living Standard, "void elements").
var voidElements = map[atom.Atom]bool{
	atom.Area: true, atom.Base: true, atom.Br: true, atom.Col: true, atom.Embed: true,
	atom.Hr: true, atom.Img: true, atom.Input: true, atom.Link: true, atom.Meta: true,
	atom.Source: true, atom.Track: true, atom.Wbr: true, atom.Param: true, atom.Keygen: true,
}

// Flatten returns s with every element nested deeper than limit
// removed (start and end tag; the content stays in place), and how many
// elements were removed. An s within the limit comes back as it is. One
// pass of the tokenizer: time and memory grow linearly with s, whatever
// its nesting.
func Flatten(s string, limit int) (string, int) {
	z := html.NewTokenizer(strings.NewReader(s))
	var out strings.Builder
	var kept []string    // open elements written out, at most limit
	var dropped []string // open elements above them, not written
	inDropped := map[string]int{}
	n := 0
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		raw := z.Raw()
		switch tt {
		case html.StartTagToken:
			name, _ := z.TagName()
			if voidElements[atom.Lookup(name)] {
				break
			}
			if len(kept)+len(dropped) >= limit {
				dropped = append(dropped, string(name))
				inDropped[string(name)]++
				n++
				continue
			}
			kept = append(kept, string(name))
		case html.EndTagToken:
			b, _ := z.TagName()
			name := string(b)
			if inDropped[name] > 0 {
				// Close the dropped element and those opened inside it.
				for {
					top := dropped[len(dropped)-1]
					dropped = dropped[:len(dropped)-1]
					inDropped[top]--
					if top == name {
						break
					}
				}
				continue
			}
			found := false
			for i := len(kept) - 1; i >= 0; i-- {
				if kept[i] == name {
					// The parser closes everything opened inside it.
					kept = kept[:i]
					dropped = dropped[:0]
					clear(inDropped)
					found = true
					break
				}
			}
			if !found && name != "br" {
				// A stray end tag: the parser would ignore it (or add
				// an empty paragraph for </p>), after a search of its
				// whole stack.
				continue
			}
		}
		out.Write(raw)
	}
	if n == 0 {
		return s, 0
	}
	return out.String(), n
}

// textOnlyHTML is the last resort for a document the parser still
// refuses: its text, one line per line, in a shallow document.
func textOnlyHTML(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	b.WriteString("<body>")
	skip := false // inside script or style
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			b.WriteString("</body>")
			return b.String()
		case html.TextToken:
			if !skip {
				b.WriteString(strings.ReplaceAll(html.EscapeString(string(z.Text())), "\n", "<br>"))
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if a == atom.Script || a == atom.Style {
				skip = tt == html.StartTagToken
			}
			if a == atom.Br || a == atom.P || a == atom.Div || a == atom.Tr || a == atom.Li || a == atom.Blockquote {
				b.WriteString("<br>")
			}
		}
	}
}
