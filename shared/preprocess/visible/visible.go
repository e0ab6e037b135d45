// Package visible decides which part of a mail's text the sender wrote
// now: it cuts quoted history (reply header blocks, attribution lines,
// ">" quotes, each mail client's quote markup in HTML), signatures and
// mobile "Sent from" lines, and keeps interleaved answers with the lines
// they answer. The job's preprocessing rules choose and order the
// heuristics (job.BuiltinPreprocessRules, regexRemove, cutBelow).
//
// It is written by hand: what it recognizes is the output of particular
// mail clients in many languages, which no maintained Go library covers;
// each heuristic names the client markup or RFC 3676 convention it reads.
package visible

import (
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/net/html"

	"mailconnector/shared/job"
	"mailconnector/shared/lazyre"
	"mailconnector/shared/preprocess/htmltext"
)

// A heuristic is one step that turns the text of a message into what the
// sender wrote now. Heuristics run in the order of the job's preprocessing
// rules.
//
// When the message has an HTML body, the HTML steps of all heuristics run
// first, in order, on the parsed tree (where quoting is marked up
// reliably); the tree then becomes text and the text steps run, in order.
// When the message has only a text body, only the text steps run. Either
// step may be nil.
type heuristic struct {
	name string
	// doc is one line for the README and `connector` help.
	doc  string
	html func(doc *html.Node, st *textState)
	text func(st *textState)
}

// textState is what the heuristics of one message share.
type textState struct {
	lines []string
	// forward is set when the subject says the message is a forward
	// ("Fwd:", "WG:", "TR:"...): the forwarded message is the content, so
	// the heuristics that cut quoted history leave it alone.
	forward bool
	// interleaved is set when the sender answered between quoted lines
	// and the inline-replies heuristic is enabled: quote markup is then left
	// for inline-replies, which keeps each answer with its context.
	interleaved bool
	// keepQuotes is set by inline-replies once it has kept the quoted
	// context of interleaved answers: quoted-lines then leaves them.
	keepQuotes bool
}

// builtins implement the names in job.BuiltinPreprocessRules.
var builtins = map[string]heuristic{
	"outlook": {name: "outlook", html: outlookHTML, text: outlookText,
		doc: "Outlook desktop, web and mobile: the From:/Sent:/To:/Subject: header block (HTML: div#divRplyFwdMsg, #appendonsend, the bordered header div; text: with the underscore separator above it) and -----Original Message----- in many languages"},
	"gmail": {name: "gmail", html: gmailHTML, text: gmailText,
		doc: "Gmail: div.gmail_quote with its \"On … wrote:\" line, div.gmail_signature; in text the attribution line in any of the listed languages"},
	"apple": {name: "apple", html: appleHTML, text: appleText,
		doc: "Apple Mail and iOS: blockquote type=cite with the attribution line above it; \"Sent from my iPhone/iPad\""},
	"thunderbird": {name: "thunderbird", html: thunderbirdHTML, text: thunderbirdText,
		doc: "Thunderbird: div.moz-cite-prefix with its blockquote type=cite, .moz-signature, -------- Original Message --------"},
	"yahoo": {name: "yahoo", html: yahooHTML, text: yahooText,
		doc: "Yahoo Mail: div.yahoo_quoted, \"Sent from Yahoo Mail for iPhone/on Android\""},
	"protonmail": {name: "protonmail", html: protonHTML, text: protonText,
		doc: "Proton Mail: .protonmail_quote, .protonmail_signature_block, \"Sent with Proton Mail secure email\""},
	"zoho": {name: "zoho", html: zohoHTML, text: zohoText,
		doc: "Zoho Mail: div.zmail_extra, the ---- On … wrote ---- line, the Zoho signature"},
	"reply-headers": {name: "reply-headers", html: replyHeadersHTML, text: replyHeadersText,
		doc: "any client: a reply header block (From/Sent/To/Subject) or an attribution line (\"On … wrote:\") in English, German, French, Spanish, Italian, Portuguese, Dutch, Swedish, Danish, Norwegian, Finnish, Polish, Czech, Russian, Turkish, Hungarian, Japanese, Chinese and Korean, with everything below it (top posting)"},
	"inline-replies": {name: "inline-replies", text: inlineReplies,
		doc: "interleaved answers between quoted lines: keeps each answer with up to 3 lines of the quote it answers, drops the rest of the history"},
	"android": {name: "android", text: androidText,
		doc: "Android mail apps (Samsung Email, Gmail app, Outlook, Yahoo, BlueMail, Aqua Mail, K-9, Huawei, Xiaomi): their \"Sent from …\" lines and the -------- Original message -------- block"},
	"mobile-signatures": {name: "mobile-signatures", text: mobileSignatures,
		doc: "one-line mobile signatures in many languages: \"Sent from my iPhone\", \"Von meinem iPhone gesendet\", \"Envoyé de mon iPad\", \"Get Outlook for iOS\"…"},
	"signature-delimiter": {name: "signature-delimiter", text: signatures,
		doc: "the signature below the \"-- \" line (RFC 3676 section 4.3; also \"--\"), a mailing-list footer below an underscore rule, a last line \"-Name\", and the name and contact lines under a closing (\"Thanks,\", \"Viele Grüße\", \"Cordialement,\"…), which stays"},
	"quoted-lines": {name: "quoted-lines", text: quotedLines,
		doc: "lines quoted with \">\" and the attribution line above them (bottom posting)"},
}

// BuiltinDocs returns each built-in heuristic's name and a one-line
// description, in the default order (job.BuiltinPreprocessRules).
func BuiltinDocs() [][2]string {
	out := make([][2]string, 0, len(job.BuiltinPreprocessRules))
	for _, name := range job.BuiltinPreprocessRules {
		out = append(out, [2]string{name, builtins[name].doc})
	}
	return out
}

// Heuristics are the visible-text steps of one job, in order.
type Heuristics []heuristic

// ForJob returns the heuristics a job's preprocessing rules name, in order.
// With no job or no rules, every built-in heuristic runs in the default
// order. Problems (an unknown name
// or a bad expression in a job that was not validated) become warnings.
func ForJob(j *job.Job) (Heuristics, []string) {
	if j == nil || len(j.Preprocessing.Rules) == 0 {
		out := make(Heuristics, 0, len(job.BuiltinPreprocessRules))
		for _, name := range job.BuiltinPreprocessRules {
			if r, ok := builtins[name]; ok {
				out = append(out, r)
			}
		}
		return out, nil
	}
	var out Heuristics
	var warnings []string
	for i, pr := range j.Preprocessing.Rules {
		if !pr.IsEnabled() {
			continue
		}
		switch {
		case pr.Builtin != "":
			r, ok := builtins[pr.Builtin]
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
			out = append(out, heuristic{name: "regexRemove", text: regexRemove(re)})
		case pr.CutBelow != "":
			re, err := regexp.Compile(pr.CutBelow)
			if err != nil {
				warnings = append(warnings, fmt.Sprintf("preprocessing rule %d: cutBelow skipped: %v", i, err))
				continue
			}
			out = append(out, heuristic{name: "cutBelow", text: cutBelow(re)})
		}
	}
	return out, warnings
}

func (hs Heuristics) has(name string) bool {
	for _, r := range hs {
		if r.name == name {
			return true
		}
	}
	return false
}

// forwardSubject matches the forward prefixes of common clients in many
// languages (Fwd, FW, WG, TR, RV, I, Doorst, VS, VB, PD, ENC, Пересл, 转发, 転送).
var forwardSubject = lazyre.New(`(?i)^\s*(fwd?|wg|tr|rv|i|doorst|vs|vb|vl|pd|enc|fs|пересл|переслать|转发|轉寄|転送)\s*[:：]`)

// replySubject matches the reply prefixes of common clients: a reply's
// forward separator below the sender's text is quoted history.
var replySubject = lazyre.New(`(?i)^\s*(re|aw|sv|vs|antw|odp|ynt|res|r|rif|atb|отв|回复|回覆|답장)\s*(\[\d+\])?\s*[:：]`)

// IsForward reports whether a subject says the message is a forward.
func IsForward(subject string) bool { return forwardSubject.MatchString(subject) }

// Text returns what the sender wrote now: it applies the heuristics to
// the HTML body when there is one (the structure marks quotes reliably),
// else to the text body. It never returns "" for a non-empty text: if the
// heuristics remove everything, the whole text is what was written.
func (hs Heuristics) Text(subject, text, htmlBody string, hasHTML bool) string {
	forward := forwardSubject.MatchString(subject) || !replySubject.MatchString(subject) && startsForward(strings.Split(text, "\n"))
	if hasHTML {
		if out := hs.fromHTML(forward, htmlBody); out != "" {
			return out
		}
	}
	if text != "" {
		st := &textState{lines: strings.Split(text, "\n"), forward: forward}
		st.interleaved = hs.has("inline-replies") && isInterleaved(st.lines)
		if out := hs.runText(st); out != "" {
			return out
		}
	}
	return text
}

func (hs Heuristics) fromHTML(forward bool, htmlBody string) string {
	doc := htmltext.Parse(htmlBody)
	st := &textState{forward: forward}
	if hs.has("inline-replies") {
		st.interleaved = isInterleaved(strings.Split(htmltext.Text(doc), "\n"))
	}
	for _, r := range hs {
		if r.html != nil {
			r.html(doc, st)
		}
	}
	st.lines = strings.Split(htmltext.Text(doc), "\n")
	return hs.runText(st)
}

func (hs Heuristics) runText(st *textState) string {
	for _, r := range hs {
		if r.text != nil {
			r.text(st)
		}
	}
	return htmltext.NormalizeText(strings.Join(st.lines, "\n"))
}

// --- the jobs file's own expressions

func regexRemove(re *regexp.Regexp) func(*textState) {
	return func(st *textState) {
		st.lines = strings.Split(re.ReplaceAllString(strings.Join(st.lines, "\n"), ""), "\n")
	}
}

func cutBelow(re *regexp.Regexp) func(*textState) {
	return func(st *textState) {
		for i, l := range st.lines {
			if re.MatchString(l) {
				st.lines = st.lines[:i]
				return
			}
		}
	}
}
