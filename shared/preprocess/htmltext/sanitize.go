package htmltext

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"mailconnector/shared/lazyre"
)

// Sanitize removes active content from an HTML body: script, style,
// frames, plugins, event handler attributes, javascript: and similar URLs
// and remote images (which would tell the sender the message was read).
// Inline (cid:) and data: images stay.
func Sanitize(s string) string {
	doc := Parse(s)
	RemoveAll(doc, func(n *html.Node) bool { return unsafeElements[n.DataAtom] })
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

var cssURL = lazyre.New(`(?i)url\s*\(|expression\s*\(|@import|behavior\s*:|-moz-binding`)

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
