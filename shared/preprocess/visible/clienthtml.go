package visible

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"mailconnector/shared/preprocess/htmltext"
)

// --- the HTML heuristics of the clients

// outlookHTML cuts at the reply header of Outlook on the web
// (div#divRplyFwdMsg, with the <hr> and div#appendonsend before it), of the
// new Outlook and Outlook for Mac (#mail-editor-reference-message-container,
// span#OLK_SRC_BODY_SECTION) and of Outlook for Windows (a div with a top
// border holding "From:").
func outlookHTML(doc *html.Node, st *textState) {
	if st.forward || st.interleaved {
		return
	}
	if n := findFirst(doc, func(n *html.Node) bool {
		id := htmltext.Attr(n, "id")
		return id == "appendonsend" || id == "mail-editor-reference-message-container" || id == "OLK_SRC_BODY_SECTION"
	}); n != nil {
		htmltext.CutFrom(n)
		return
	}
	if n := findFirst(doc, func(n *html.Node) bool { return htmltext.Attr(n, "id") == "divRplyFwdMsg" }); n != nil {
		if hr := htmltext.PrevElement(n); hr != nil && hr.DataAtom == atom.Hr {
			n = hr
		}
		htmltext.CutFrom(n)
		return
	}
	if n := findFirst(doc, func(n *html.Node) bool {
		if n.DataAtom != atom.Div {
			return false
		}
		style := strings.ToLower(strings.ReplaceAll(htmltext.Attr(n, "style"), " ", ""))
		return strings.Contains(style, "border-top:solid") && headerFromValue.MatchString(htmltext.TextPrefix(n, 200))
	}); n != nil {
		htmltext.CutFrom(n)
		return
	}
	if n := findFirst(doc, func(n *html.Node) bool {
		return (n.DataAtom == atom.Div || n.DataAtom == atom.P) && originalMessage.MatchString(htmltext.TextPrefix(n, 200))
	}); n != nil {
		htmltext.CutFrom(n)
	}
}

// replyHeadersHTML cuts at a block element that starts a reply header
// block in any of the listed languages: its text begins with "From:" and
// has at least two of Sent/Date, To and Subject.
func replyHeadersHTML(doc *html.Node, st *textState) {
	if st.forward || st.interleaved {
		return
	}
	candidates := 0
	if n := findFirst(doc, func(n *html.Node) bool {
		if n.DataAtom != atom.Div && n.DataAtom != atom.P && n.DataAtom != atom.Font && n.DataAtom != atom.Span {
			return false
		}
		if candidates >= 20 {
			return false // bound the work on hostile markup
		}
		prefix := htmltext.TextPrefix(n, 200)
		if !headerFromValue.MatchString(prefix) {
			return false
		}
		candidates++
		// The header fields as lines: render the element.
		lines := strings.Split(htmltext.Text(n), "\n")
		return len(lines) > 1 && headerBlockAt(lines, 0)
	}); n != nil {
		htmltext.CutFrom(n)
	}
}

// findFirst returns the first element matching pred, or nil.
func findFirst(doc *html.Node, pred func(*html.Node) bool) *html.Node {
	var found *html.Node
	var walk func(*html.Node) bool
	walk = func(n *html.Node) bool {
		if n.Type == html.ElementNode && pred(n) {
			found = n
			return true
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if walk(c) {
				return true
			}
		}
		return false
	}
	walk(doc)
	return found
}

// gmailHTML removes Gmail's quote (div.gmail_quote with its "On … wrote:"
// div.gmail_attr and blockquote.gmail_quote) and signature
// (div.gmail_signature). With interleaved answers only the attribution and
// the signature go.
func gmailHTML(doc *html.Node, st *textState) {
	htmltext.RemoveAll(doc, func(n *html.Node) bool {
		if htmltext.HasClass(n, "gmail_signature") || htmltext.HasClass(n, "gmail_attr") && !st.forward {
			return true
		}
		return !st.forward && !st.interleaved && (htmltext.HasClass(n, "gmail_quote") || htmltext.HasClass(n, "gmail_quote_container"))
	})
}

// appleHTML removes Apple Mail's quotes (blockquote type=cite) and an
// attribution element just before one.
func appleHTML(doc *html.Node, st *textState) {
	if st.forward || st.interleaved {
		return
	}
	for _, n := range htmltext.FindAll(doc, func(n *html.Node) bool {
		return n.DataAtom == atom.Blockquote && strings.EqualFold(htmltext.Attr(n, "type"), "cite")
	}) {
		if prev := htmltext.PrevElement(n); prev != nil && isAttribution(htmltext.TextPrefix(prev, 300)) {
			prev.Parent.RemoveChild(prev)
		}
		// The attribution inside the quote, as Apple Mail writes it.
		if first := htmltext.FirstElement(n); first != nil && isAttribution(htmltext.TextPrefix(first, 300)) {
			n.RemoveChild(first)
		}
		n.Parent.RemoveChild(n)
	}
}

// thunderbirdHTML removes Thunderbird's attribution (div.moz-cite-prefix),
// its quote (blockquote type=cite) and signature (.moz-signature).
func thunderbirdHTML(doc *html.Node, st *textState) {
	htmltext.RemoveAll(doc, func(n *html.Node) bool { return htmltext.HasClass(n, "moz-signature") })
	if st.forward || st.interleaved {
		return
	}
	for _, n := range htmltext.FindAll(doc, func(n *html.Node) bool { return htmltext.HasClass(n, "moz-cite-prefix") }) {
		for s := n.NextSibling; s != nil; s = s.NextSibling {
			if s.Type == html.ElementNode {
				if s.DataAtom == atom.Blockquote && strings.EqualFold(htmltext.Attr(s, "type"), "cite") {
					s.Parent.RemoveChild(s)
				}
				break
			}
		}
		n.Parent.RemoveChild(n)
	}
}

// yahooHTML removes Yahoo Mail's quote (div.yahoo_quoted) and its mobile
// signature div.
func yahooHTML(doc *html.Node, st *textState) {
	htmltext.RemoveAll(doc, func(n *html.Node) bool {
		if strings.HasPrefix(htmltext.Attr(n, "id"), "ymail_android_signature") || strings.HasPrefix(htmltext.Attr(n, "id"), "ymail_ios_signature") {
			return true
		}
		return !st.forward && !st.interleaved && (htmltext.HasClass(n, "yahoo_quoted") || strings.Contains(htmltext.Attr(n, "id"), "yahoo_quoted_"))
	})
}

// protonHTML removes Proton Mail's quote and signature block.
func protonHTML(doc *html.Node, st *textState) {
	htmltext.RemoveAll(doc, func(n *html.Node) bool {
		if htmltext.HasClass(n, "protonmail_signature_block") {
			return true
		}
		return !st.forward && !st.interleaved && htmltext.HasClass(n, "protonmail_quote")
	})
}

// zohoHTML removes Zoho Mail's quote (div.zmail_extra and its rule) and
// its signature.
func zohoHTML(doc *html.Node, st *textState) {
	htmltext.RemoveAll(doc, func(n *html.Node) bool {
		if htmltext.HasClass(n, "zmail_signature_below") || strings.HasPrefix(htmltext.Attr(n, "id"), "Zm-_Id_-Sgn") {
			return true
		}
		return !st.forward && !st.interleaved && (htmltext.HasClass(n, "zmail_extra") || htmltext.HasClass(n, "zmail_extra_hr"))
	})
}
