package preprocess

import (
	"strings"
	"unicode"
)

// bodies turns the collected text and HTML parts into Text, HTML and
// VisibleText.
func (p *processor) bodies() {
	m := p.msg
	rules, warnings := rulesFor(p.opts.Job)
	for _, w := range warnings {
		p.warn("%s", w)
	}
	// A TNEF (winmail.dat) body counts only when the MIME message has
	// none of its own: Outlook sends the same text beside it.
	if len(p.plain) == 0 && len(p.html) == 0 {
		p.plain, p.html = p.tnefPlain, p.tnefHTML
	}
	htmlBody := strings.Join(p.html, "\n")
	hasHTML := strings.TrimSpace(htmlBody) != ""
	if hasHTML {
		var n int
		if htmlBody, n = flattenHTML(htmlBody, maxHTMLDepth); n > 0 {
			p.warn("html: elements nested deeper than %d: %d flattened, their text kept", maxHTMLDepth, n)
		}
	}
	if hasHTML {
		m.HTML = sanitizeHTML(htmlBody)
	}
	if len(p.plain) > 0 {
		m.Text = cleanText(strings.Join(p.plain, "\n"))
	}
	if m.Text == "" && hasHTML {
		m.Text = htmlToText(parseHTML(htmlBody))
	}
	if m.Text != "" {
		m.VisibleText = visibleText(rules, m.Subject, m.Text, htmlBody, hasHTML)
	}
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
