package visible

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"mailconnector/shared/lazyre"
)

// --- signatures without the "-- " delimiter

// signatures cuts the signature: below the "-- " line (RFC 3676 section
// 4.3), a mailing-list footer (an underscore rule followed by the list's
// name, address or listinfo URL), a last line "-Name", and the name and
// contact lines below a closing ("Thanks,", "Viele Grüße", "Cordialement,"
// …), which itself stays. In a forward only the delimiter counts: the
// forwarded message's own closing is content.
func signatures(st *textState) {
	signatureDelimiter(st)
	listFooter(st)
	if st.forward {
		return
	}
	dashName(st)
	closingName(st)
}

var (
	listRule   = lazyre.New(`^\s*(_{10,}|-{10,}|={10,})\s*$`)
	listMarker = lazyre.New(`(?i)mailing list|listinfo|/mailman/|/lists?/|unsubscribe|list-?serv|googlegroups|groups\.io|you received this (message|email) because`)
)

// listFooter cuts a mailing-list footer: a rule with a list marker in the
// five lines below it.
func listFooter(st *textState) {
	for i, l := range st.lines {
		if !listRule.MatchString(l) || isQuoted(l) {
			continue
		}
		for k := i + 1; k < len(st.lines) && k <= i+5; k++ {
			if listMarker.MatchString(st.lines[k]) {
				st.cut(i)
				return
			}
		}
	}
}

// lastLine returns the index of the last non-blank line, or -1.
func lastLine(lines []string) int {
	for i := len(lines) - 1; i >= 0; i-- {
		if !isBlank(lines[i]) {
			return i
		}
	}
	return -1
}

var dashNameLine = lazyre.New(`^\s*-{1,2}\s?\p{Lu}[\p{L}.'’-]*(\s\p{Lu}[\p{L}.'’-]*){0,3}\s*$`)

// dashName removes a last line "-Name" ("-Abhishek Kona", "--Ann").
func dashName(st *textState) {
	i := lastLine(st.lines)
	if i > 0 && dashNameLine.MatchString(st.lines[i]) && !isBlank(strings.Join(st.lines[:i], "")) {
		st.lines = st.lines[:i]
	}
}

// closing matches a closing line in the languages of the README.
var closing = lazyre.New(`(?i)^\s*(thanks( (a lot|again|and regards|in advance))?|thank you( (very much|in advance))?|many thanks|cheers|regards|best( regards| wishes)?|kind regards|warm regards|best,|sincerely|yours( (sincerely|truly))?|all the best|br|` +
	`(mit )?(freundlichen|besten|vielen|lieben|herzlichen|schönen) gr(ü|ue)(ß|ss)en|viele gr(ü|ue)(ß|ss)e|liebe gr(ü|ue)(ß|ss)e|beste gr(ü|ue)(ß|ss)e|gr(ü|ue)(ß|ss)e|gru(ß|ss)|lg|mfg|danke( schön| sehr)?|vielen dank|` +
	`cordialement|bien (à vous|cordialement)|salutations|merci( beaucoup| d'avance)?|bonne journée|` +
	`saludos( cordiales)?|un saludo|atentamente|gracias|cordiali saluti|saluti|distinti saluti|grazie( mille)?|` +
	`atenciosamente|abraços|obrigad[oa]|cumprimentos|met vriendelijke groet(en)?|groet(en|jes)?|bedankt|` +
	`med vänlig hälsning|vänliga hälsningar|hälsningar|mvh|tack|med venlig hilsen|venlig hilsen|mvh|hilsen|` +
	`pozdrawiam|z poważaniem|dziękuję|с уважением|спасибо|всего доброго|` +
	`よろしくお願い(いた)?します。?|以上、?よろしくお願いいたします。?|谢谢|此致|감사합니다)\s*[,.!]?\s*$`)

// nameLine matches the first line under a closing: a name of up to four
// words, each capitalised (or in a script without case).
func nameLine(l string) bool {
	t := strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(l), "-–— "))
	if t == "" || utf8.RuneCountInString(t) > 40 || strings.ContainsAny(t, "?!:;@") {
		return false
	}
	words := strings.Fields(t)
	if len(words) > 4 {
		return false
	}
	for _, w := range words {
		r, _ := utf8.DecodeRuneInString(w)
		if unicode.IsLower(r) || unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// closingName removes the name and contact lines under the last closing
// of the text: at most five short lines, the first a name.
func closingName(st *textState) {
	end := lastLine(st.lines)
	for i := end - 1; i >= 0 && i >= end-5; i-- {
		l := st.lines[i]
		if isQuoted(l) {
			return
		}
		if !closing.MatchString(l) {
			continue
		}
		if i == 0 || !nameLine(st.lines[i+1]) {
			return
		}
		for k := i + 1; k <= end; k++ {
			if utf8.RuneCountInString(strings.TrimSpace(st.lines[k])) > 60 || isQuoted(st.lines[k]) {
				return
			}
		}
		st.lines = st.lines[:i+1]
		return
	}
}

// startsForward reports whether the text forwards a message: a
// forward separator comes, within the first 200 lines, before any reply
// header or attribution.
func startsForward(lines []string) bool {
	for i, l := range lines[:min(len(lines), 200)] {
		switch {
		case isQuoted(l):
			return false
		case forwardSeparator.MatchString(l):
			return true
		case originalMessage.MatchString(l), headerBlockAt(lines, i), isAttribution(l):
			return false
		}
	}
	return false
}
