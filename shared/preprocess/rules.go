package preprocess

import (
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"mailconnector/shared/job"
)

// A rule is one step that turns the text of a message into what the sender
// wrote now. Rules run in the order of the job's preprocessing rules.
//
// When the text comes from an HTML body, the HTML steps of all rules run
// first, in order, on the parsed tree (where quoting is marked up reliably);
// the tree then becomes text and the text steps run, in order. When the
// text comes from a text/plain body, only the text steps run. Either step
// may be nil.
type rule struct {
	name string
	html func(doc *html.Node)
	text func(lines []string) []string
}

// builtinRules implement the names in job.BuiltinPreprocessRules. A name
// without an implementation yet maps to a rule that does nothing, so every
// valid jobs file works.
var builtinRules = map[string]rule{
	"outlook":             {name: "outlook", html: outlookHTML, text: outlookText},
	"gmail":               {name: "gmail", html: gmailHTML},
	"apple":               {name: "apple", html: appleHTML},
	"thunderbird":         {name: "thunderbird", html: thunderbirdHTML},
	"yahoo":               {name: "yahoo", html: yahooHTML},
	"protonmail":          {name: "protonmail", html: protonHTML},
	"zoho":                {name: "zoho", html: zohoHTML},
	"mobile-signatures":   {name: "mobile-signatures", text: mobileSignatures},
	"signature-delimiter": {name: "signature-delimiter", text: signatureDelimiter},
	"quoted-lines":        {name: "quoted-lines", text: quotedLines},
}

// rulesFor returns the rules of a job in order. With no job or no rules,
// every built-in rule runs in the default order. Problems (an unknown name
// or a bad expression in a job that was not validated) become warnings.
func rulesFor(j *job.Job) ([]rule, []string) {
	if j == nil || len(j.Preprocessing.Rules) == 0 {
		out := make([]rule, 0, len(job.BuiltinPreprocessRules))
		for _, name := range job.BuiltinPreprocessRules {
			if r, ok := builtinRules[name]; ok {
				out = append(out, r)
			}
		}
		return out, nil
	}
	var out []rule
	var warnings []string
	for i, pr := range j.Preprocessing.Rules {
		if !pr.IsEnabled() {
			continue
		}
		switch {
		case pr.Builtin != "":
			r, ok := builtinRules[pr.Builtin]
			if !ok {
				warnings = append(warnings, fmt.Sprintf("preprocessing rule %d: unknown built-in rule %q skipped", i, pr.Builtin))
				continue
			}
			out = append(out, r)
		case pr.RegexRemove != "":
			re, err := regexp.Compile(pr.RegexRemove)
			if err != nil {
				warnings = append(warnings, fmt.Sprintf("preprocessing rule %d: regexRemove skipped: %v", i, err))
				continue
			}
			out = append(out, rule{name: "regexRemove", text: regexRemove(re)})
		case pr.CutBelow != "":
			re, err := regexp.Compile(pr.CutBelow)
			if err != nil {
				warnings = append(warnings, fmt.Sprintf("preprocessing rule %d: cutBelow skipped: %v", i, err))
				continue
			}
			out = append(out, rule{name: "cutBelow", text: cutBelow(re)})
		}
	}
	return out, warnings
}

// visibleText applies the rules to the text body, or to the HTML body
// when the message has no text body. It never returns "" for a non-empty
// text: if the rules remove everything, the whole text is what was written.
func visibleText(rules []rule, text, htmlBody string, fromHTML bool) string {
	src := text
	if fromHTML {
		doc := parseHTML(htmlBody)
		for _, r := range rules {
			if r.html != nil {
				r.html(doc)
			}
		}
		src = htmlToText(doc)
	}
	lines := strings.Split(src, "\n")
	for _, r := range rules {
		if r.text != nil {
			lines = r.text(lines)
		}
	}
	out := normalizeText(strings.Join(lines, "\n"))
	if out == "" {
		return text
	}
	return out
}

// normalizeText trims trailing space from lines, drops blank lines at the
// start and end and collapses runs of blank lines into one.
func normalizeText(s string) string {
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

// --- custom rules

func regexRemove(re *regexp.Regexp) func([]string) []string {
	return func(lines []string) []string {
		return strings.Split(re.ReplaceAllString(strings.Join(lines, "\n"), ""), "\n")
	}
}

func cutBelow(re *regexp.Regexp) func([]string) []string {
	return func(lines []string) []string {
		for i, l := range lines {
			if re.MatchString(l) {
				return lines[:i]
			}
		}
		return lines
	}
}

// --- text rules

// isQuoted reports whether a line is quoted with ">" (RFC 3676 section 4.5
// style, and the common "> " of most clients).
func isQuoted(l string) bool {
	return strings.HasPrefix(strings.TrimLeft(l, " \t"), ">")
}

func isBlank(l string) bool { return strings.TrimSpace(l) == "" }

// attribution matches the line that introduces quoted text, such as
// "On Mon, 1 Jan 2024, Ann <ann@example.com> wrote:" and its German,
// French, Spanish, Dutch, Italian and Portuguese equivalents.
var attribution = regexp.MustCompile(`(?i)(\bwrote|\bschrieb|\ba [ée]crit|\bescribi[óo]|\bschreef|\bha scritto|\bescreveu|\bskrev)\s*:\s*$`)

// attributionInside matches attributions where the verb comes before the
// name, as in "Am 04.03.2024 um 10:00 schrieb Max Mustermann <max@example.de>:".
var attributionInside = regexp.MustCompile(`(?i)^\s*(On|Am|Le|El|Op|Il|Em|Den)\s.*(\bwrote|\bschrieb|\ba [ée]crit|\bescribi[óo]|\bschreef|\bha scritto|\bescreveu|\bskrev)\b.*:\s*$`)

func isAttribution(l string) bool {
	return attribution.MatchString(l) || attributionInside.MatchString(l)
}

// attributionStart matches the first line of an attribution that wraps.
var attributionStart = regexp.MustCompile(`(?i)^\s*(On|Am|Le|El|Op|Il|Em|Den|Dne)\s`)

// quotedLines removes runs of ">"-quoted lines and the attribution line
// (up to three lines when it wraps) just above each run.
func quotedLines(lines []string) []string {
	drop := make([]bool, len(lines))
	for i := 0; i < len(lines); i++ {
		if !isQuoted(lines[i]) || (i > 0 && isQuoted(lines[i-1])) {
			continue
		}
		// i starts a quoted run; look above it for the attribution.
		j := i - 1
		for j >= 0 && isBlank(lines[j]) {
			j--
		}
		if j < 0 || !isAttribution(lines[j]) {
			continue
		}
		drop[j] = true
		if attributionStart.MatchString(lines[j]) {
			continue
		}
		for k := j - 1; k >= 0 && k >= j-2 && !isBlank(lines[k]); k-- {
			if attributionStart.MatchString(lines[k]) {
				for m := k; m < j; m++ {
					drop[m] = true
				}
				break
			}
		}
	}
	out := lines[:0:0]
	for i, l := range lines {
		if drop[i] || isQuoted(l) {
			continue
		}
		out = append(out, l)
	}
	return out
}

// mobileSignature matches the one-line signatures mobile mail apps add.
var mobileSignature = regexp.MustCompile(`(?i)^\s*(` +
	`sent from my \S.{0,40}|sent from (outlook|mail|yahoo mail|samsung|aol|proton ?mail)\b.{0,40}|` +
	`get outlook for (ios|android)|download outlook for (ios|android)|` +
	`sent with proton ?mail.{0,40}|` +
	`von meinem \S.{0,40} gesendet|gesendet von meinem \S.{0,40}|von (meinem )?(iphone|ipad|smartphone|handy) gesendet|` +
	`envoy[ée] (de|depuis) (mon|ma|l'application) \S.{0,40}|` +
	`enviado (desde|de) mi \S.{0,40}|` +
	`verzonden (vanaf|met) mijn \S.{0,40}|inviato da \S.{0,40}` +
	`)\s*$`)

// mobileSignatures removes lines such as "Sent from my iPhone" and "Get
// Outlook for Android".
func mobileSignatures(lines []string) []string {
	out := lines[:0:0]
	for _, l := range lines {
		if !isQuoted(l) && mobileSignature.MatchString(l) {
			continue
		}
		out = append(out, l)
	}
	return out
}

// signatureDelimiter cuts the signature: the line "-- " (RFC 3676 section
// 4.3; also "--", as many clients strip the space) and everything below.
func signatureDelimiter(lines []string) []string {
	for i, l := range lines {
		if strings.TrimRight(l, " \t\r") == "--" {
			return lines[:i]
		}
	}
	return lines
}

// originalMessage matches the separator lines Outlook and others put above
// a quoted message.
var originalMessage = regexp.MustCompile(`(?i)^\s*[-_]{2,}\s*(original message|ursprüngliche nachricht|originalnachricht|message d'origine|mensaje original|messaggio originale|oorspronkelijk bericht)\s*[-_]{2,}\s*$`)

var (
	outlookFrom    = regexp.MustCompile(`(?i)^\s*\*?(from|von|de|da|van|fra)\s?:\*?\s*\S`)
	outlookSent    = regexp.MustCompile(`(?i)^\s*\*?(sent|gesendet|envoy[ée]|enviado|date|datum|inviato|verzonden|data)\s?:`)
	outlookTo      = regexp.MustCompile(`(?i)^\s*\*?(to|an|à|a|para|aan|til|subject|betreff|objet|asunto|oggetto|onderwerp|cc)\s?:`)
	underscoreLine = regexp.MustCompile(`^\s*_{8,}\s*$`)
)

// outlookText cuts at "-----Original Message-----" and at an Outlook
// header block ("From: … Sent: … To: … Subject: …" and its German and
// French forms "Von: … Gesendet: …", "De : … Envoyé : …"), with the
// underscore line Outlook puts above it.
func outlookText(lines []string) []string {
	for i, l := range lines {
		if originalMessage.MatchString(l) {
			return lines[:i]
		}
		if !outlookFrom.MatchString(l) {
			continue
		}
		sent, to := false, false
		for k := i + 1; k < len(lines) && k <= i+6; k++ {
			switch {
			case outlookSent.MatchString(lines[k]):
				sent = true
			case outlookTo.MatchString(lines[k]):
				to = true
			}
		}
		if !sent || !to {
			continue
		}
		cut := i
		j := i - 1
		for j >= 0 && isBlank(lines[j]) {
			j--
		}
		if j >= 0 && underscoreLine.MatchString(lines[j]) {
			cut = j
		}
		return lines[:cut]
	}
	return lines
}

// --- HTML rules

// outlookHTML cuts at the reply header of Outlook on the web
// (div#divRplyFwdMsg, with the <hr> and div#appendonsend before it) and of
// Outlook for Windows (a div with a top border holding "From:").
func outlookHTML(doc *html.Node) {
	if n := findFirst(doc, func(n *html.Node) bool { return attr(n, "id") == "appendonsend" }); n != nil {
		cutFrom(n)
		return
	}
	if n := findFirst(doc, func(n *html.Node) bool { return attr(n, "id") == "divRplyFwdMsg" }); n != nil {
		if hr := prevElement(n); hr != nil && hr.DataAtom == atom.Hr {
			n = hr
		}
		cutFrom(n)
		return
	}
	if n := findFirst(doc, func(n *html.Node) bool {
		style := strings.ToLower(strings.ReplaceAll(attr(n, "style"), " ", ""))
		return n.DataAtom == atom.Div && strings.Contains(style, "border-top:solid") && outlookFrom.MatchString(textContent(n))
	}); n != nil {
		cutFrom(n)
		return
	}
	if n := findFirst(doc, func(n *html.Node) bool {
		return (n.DataAtom == atom.Div || n.DataAtom == atom.P) && originalMessage.MatchString(textContent(n))
	}); n != nil {
		cutFrom(n)
	}
}

// findFirst returns the first element matching pred, or nil.
func findFirst(doc *html.Node, pred func(*html.Node) bool) *html.Node {
	if all := findAll(doc, pred); len(all) > 0 {
		return all[0]
	}
	return nil
}

// gmailHTML removes Gmail's quote (div.gmail_quote with its "On … wrote:"
// div.gmail_attr and blockquote.gmail_quote) and signature
// (div.gmail_signature).
func gmailHTML(doc *html.Node) {
	removeAll(doc, func(n *html.Node) bool {
		return hasClass(n, "gmail_quote") || hasClass(n, "gmail_quote_container") ||
			hasClass(n, "gmail_attr") || hasClass(n, "gmail_signature")
	})
}

// appleHTML removes Apple Mail's quotes (blockquote type=cite) and an
// attribution element just before one.
func appleHTML(doc *html.Node) {
	for _, n := range findAll(doc, func(n *html.Node) bool {
		return n.DataAtom == atom.Blockquote && strings.EqualFold(attr(n, "type"), "cite")
	}) {
		if prev := prevElement(n); prev != nil && isAttribution(textContent(prev)) {
			prev.Parent.RemoveChild(prev)
		}
		n.Parent.RemoveChild(n)
	}
}

// thunderbirdHTML removes Thunderbird's attribution (div.moz-cite-prefix),
// its quote (blockquote type=cite) and signature (.moz-signature).
func thunderbirdHTML(doc *html.Node) {
	for _, n := range findAll(doc, func(n *html.Node) bool { return hasClass(n, "moz-cite-prefix") }) {
		for s := n.NextSibling; s != nil; s = s.NextSibling {
			if s.Type == html.ElementNode {
				if s.DataAtom == atom.Blockquote && strings.EqualFold(attr(s, "type"), "cite") {
					s.Parent.RemoveChild(s)
				}
				break
			}
		}
		n.Parent.RemoveChild(n)
	}
	removeAll(doc, func(n *html.Node) bool { return hasClass(n, "moz-signature") })
}

// yahooHTML removes Yahoo Mail's quote (div.yahoo_quoted).
func yahooHTML(doc *html.Node) {
	removeAll(doc, func(n *html.Node) bool {
		return hasClass(n, "yahoo_quoted") || strings.HasPrefix(attr(n, "id"), "yahoo_quoted_")
	})
}

// protonHTML removes Proton Mail's quote and signature block.
func protonHTML(doc *html.Node) {
	removeAll(doc, func(n *html.Node) bool {
		return hasClass(n, "protonmail_quote") || hasClass(n, "protonmail_signature_block")
	})
}

// zohoHTML removes Zoho Mail's quote (div.zmail_extra and its rule).
func zohoHTML(doc *html.Node) {
	removeAll(doc, func(n *html.Node) bool {
		return hasClass(n, "zmail_extra") || hasClass(n, "zmail_extra_hr")
	})
}
