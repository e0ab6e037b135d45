package visible

import (
	"strings"

	"mailconnector/shared/lazyre"
)

// --- shared text helpers

// isQuoted reports whether a line is quoted with ">" (RFC 3676 section 4.5
// style, and the common "> " of most clients).
func isQuoted(l string) bool {
	return strings.HasPrefix(strings.TrimLeft(l, " \t"), ">")
}

func isBlank(l string) bool { return strings.TrimSpace(l) == "" }

// attributionVerb is the verb of "On … X wrote:" in the languages the
// README lists.
const attributionVerb = `(wrote|writes|schrieb|schreibt|a [ée]crit|escribi[óo]|ha scritto|scrisse|escreveu|schreef|skrev|skriver|kirjoitti|napisa[łl](\(a\)|a)?|napsal(\(a\)|a)?|пишет|написал(\(а\)|а)?|yazdı|írta|写道|寫道|작성)`

// attribution matches a one-line attribution ending in the verb and a
// colon: "On Mon, 1 Jan 2024, Ann <ann@example.com> wrote:", "Le … a
// écrit :", "Am … schrieb Max <max@example.de>:", "… 写道：".
var attribution = lazyre.New(`(?i)(^|[\s)>\d])` + attributionVerb + `(\s.{0,80})?\s*[:：]\s*$`)

// attributionStart matches the first line of an attribution, which may
// wrap: "On Tue, Jan 2, 2024 at 9:00 AM Bob", "Il giorno mar 5 mar 2024".
var attributionStart = lazyre.New(`(?i)^\s*(On|Am|Le|El|Op|Il( giorno)?|Em|Den|W dniu|Dne|Pe|在)\s`)

// dateTime matches a time of day ("10:00", "10.00") near a date, as the
// attribution lines of Japanese, Chinese and Russian clients have.
var dateTime = lazyre.New(`((19|20)\d\d|\d{1,2}[./]\d{1,2}[./]\d{2,4}).*\d{1,2}[:.]\d{2}|\d{1,2}[:.]\d{2}.*(19|20)\d\d`)

// isAttribution reports whether l introduces quoted text.
func isAttribution(l string) bool {
	l = strings.TrimSpace(l)
	if !strings.HasSuffix(l, ":") && !strings.HasSuffix(l, "：") {
		return false
	}
	if attribution.MatchString(l) {
		return true
	}
	// "2024年3月5日(火) 10:00 山田 <yamada@example.jp>:", "вт, 5 мар. 2024 г. в 10:00, Иван <i@example.ru>:"
	return strings.Contains(l, "@") && dateTime.MatchString(l)
}

// attributionAt reports whether an attribution ends at line i and returns
// the line where it starts (it may wrap over up to three lines).
func attributionAt(lines []string, i int) (int, bool) {
	if i < 0 || i >= len(lines) || isQuoted(lines[i]) {
		return 0, false
	}
	if isAttribution(lines[i]) {
		if attributionStart.MatchString(lines[i]) {
			return i, true
		}
		for k := i - 1; k >= 0 && k >= i-2 && !isBlank(lines[k]); k-- {
			if attributionStart.MatchString(lines[k]) {
				return k, true
			}
		}
		return i, true
	}
	// A wrapped attribution whose last line is only "<x@example.org> wrote:".
	joined := lines[i]
	for k := i - 1; k >= 0 && k >= i-2 && !isBlank(lines[k]); k-- {
		joined = lines[k] + " " + joined
		if (attributionStart.MatchString(lines[k]) || strings.Contains(joined, "@") && dateTime.MatchString(joined)) && isAttribution(joined) {
			return k, true
		}
	}
	return 0, false
}

// isSignatureLine reports whether a line starts a signature or is a
// one-line client signature.
func isSignatureLine(l string) bool {
	return strings.TrimRight(l, " \t\r") == "--" || mobileSignature.MatchString(l) || androidSignature.MatchString(l)
}

// answersAfterQuotes counts the blocks of new (not quoted) text that
// follow a quoted block, up to a signature.
func answersAfterQuotes(lines []string) int {
	n := 0
	seenQuote, inAnswer := false, false
	for i, l := range lines {
		switch {
		case isSignatureLine(l):
			return n
		case isQuoted(l):
			seenQuote, inAnswer = true, false
		case isBlank(l):
		default:
			if _, ok := attributionAt(lines, i); ok && i+1 < len(lines) {
				continue
			}
			if seenQuote && !inAnswer {
				n++
			}
			inAnswer = true
		}
	}
	return n
}

// isInterleaved reports whether the sender answered between quoted lines:
// at least two answers each follow a quoted block.
func isInterleaved(lines []string) bool { return answersAfterQuotes(lines) >= 2 }

// cut keeps the lines above i.
func (st *textState) cut(i int) { st.lines = st.lines[:i] }

// cutHistoryAt cuts at the first line re matches, unless the message is
// a forward or interleaved answers keep the quotes.
func (st *textState) cutHistoryAt(re *lazyre.Regexp) {
	if st.forward || st.interleaved {
		return
	}
	for i, l := range st.lines {
		if re.MatchString(l) {
			st.cut(i)
			return
		}
	}
}

var forwardSeparator = lazyre.New(`(?i)^\s*(-{2,}\s*(forwarded message|weitergeleitete nachricht|message transf[ée]r[ée]|mensaje reenviado|messaggio inoltrato|mensagem encaminhada|doorgestuurd bericht|vidarebefordrat meddelande|videresendt meddelelse|przekazana wiadomość|пересылаемое сообщение|転送されたメッセージ|转发的邮件)\s*-{2,}|begin forwarded message:|anfang der weitergeleiteten nachricht:|début du message réexpédié :?)\s*$`)

// quotedLines removes runs of ">"-quoted lines and the attribution line
// (up to three lines when it wraps) just above each run. After
// inline-replies kept quoted context, it does nothing.
func quotedLines(st *textState) {
	if st.keepQuotes {
		return
	}
	lines := st.lines
	drop := attributionsAboveQuotes(lines, len(lines))
	out := lines[:0:0]
	for i, l := range lines {
		if drop[i] || isQuoted(l) {
			continue
		}
		out = append(out, l)
	}
	st.lines = out
}

// attributionsAboveQuotes marks the attribution line (up to three lines
// when it wraps) just above each run of quoted lines that starts before
// line n.
func attributionsAboveQuotes(lines []string, n int) []bool {
	drop := make([]bool, len(lines))
	for i := 0; i < n; i++ {
		if !isQuoted(lines[i]) || (i > 0 && isQuoted(lines[i-1])) {
			continue
		}
		j := i - 1
		for j >= 0 && isBlank(lines[j]) {
			j--
		}
		if start, ok := attributionAt(lines, j); ok {
			for m := start; m <= j; m++ {
				drop[m] = true
			}
		}
	}
	return drop
}

// contextLines is how many quoted lines inline-replies keeps above each
// answer.
const contextLines = 3

// inlineReplies handles answers written between quoted lines: each answer
// keeps the last lines of the quote it answers (as "> " lines), the
// attribution and the quoted history below the last answer go.
func inlineReplies(st *textState) {
	if st.forward || !isInterleaved(st.lines) {
		return
	}
	lines := st.lines
	// The end of the new text: the last non-quoted, non-blank line before
	// a signature.
	end := len(lines)
	for i, l := range lines {
		if isSignatureLine(l) {
			end = i
			break
		}
	}
	last := -1
	for i := 0; i < end; i++ {
		if !isQuoted(lines[i]) && !isBlank(lines[i]) {
			last = i
		}
	}
	// The attribution lines above each quoted run go.
	drop := attributionsAboveQuotes(lines, last+1)
	var out []string
	var quote []string // the current quoted run
	for i := 0; i <= last; i++ {
		l := lines[i]
		if drop[i] {
			continue
		}
		switch {
		case isQuoted(l):
			quote = append(quote, l)
			continue
		case isBlank(l):
			if len(quote) > 0 {
				continue
			}
			out = append(out, l)
			continue
		}
		if len(quote) > 0 {
			ctx := quoteContext(quote)
			if len(out) > 0 && !isBlank(out[len(out)-1]) {
				out = append(out, "")
			}
			out = append(out, ctx...)
			quote = nil
		}
		out = append(out, l)
	}
	out = append(out, lines[end:]...) // the signature, for the signature heuristics
	st.lines = out
	st.keepQuotes = true
}

// quoteContext returns the last paragraph of a quoted run at the first
// quote level, at most contextLines lines, each as "> text".
func quoteContext(quote []string) []string {
	var out []string
	for i := len(quote) - 1; i >= 0 && len(out) < contextLines; i-- {
		t := strings.TrimLeft(quote[i], " \t")
		t = strings.TrimPrefix(t, ">")
		if strings.HasPrefix(strings.TrimLeft(t, " "), ">") {
			continue // an older quote inside the quote
		}
		t = strings.TrimSpace(t)
		if t == "" {
			if len(out) > 0 {
				break // the paragraph the answer refers to is complete
			}
			continue
		}
		out = append(out, "> "+t)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
