package preprocess

import (
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"mailconnector/shared/job"
	"mailconnector/shared/preprocess/htmltext"
)

// A rule is one step that turns the text of a message into what the sender
// wrote now. Rules run in the order of the job's preprocessing rules.
//
// When the message has an HTML body, the HTML steps of all rules run
// first, in order, on the parsed tree (where quoting is marked up
// reliably); the tree then becomes text and the text steps run, in order.
// When the message has only a text body, only the text steps run. Either
// step may be nil.
type rule struct {
	name string
	// doc is one line for the README and `connector` help.
	doc  string
	html func(doc *html.Node, st *textState)
	text func(st *textState)
}

// textState is what the rules of one message share.
type textState struct {
	lines []string
	// forward is set when the subject says the message is a forward
	// ("Fwd:", "WG:", "TR:"...): the forwarded message is the content, so
	// the rules that cut quoted history leave it alone.
	forward bool
	// interleaved is set when the sender answered between quoted lines
	// and the inline-replies rule is enabled: quote markup is then left
	// for inline-replies, which keeps each answer with its context.
	interleaved bool
	// keepQuotes is set by inline-replies once it has kept the quoted
	// context of interleaved answers: quoted-lines then leaves them.
	keepQuotes bool
}

// builtinRules implement the names in job.BuiltinPreprocessRules.
var builtinRules = map[string]rule{
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
	"signature-delimiter": {name: "signature-delimiter", text: signatureDelimiter,
		doc: "the signature below the \"-- \" line (RFC 3676 section 4.3; also \"--\")"},
	"quoted-lines": {name: "quoted-lines", text: quotedLines,
		doc: "lines quoted with \">\" and the attribution line above them (bottom posting)"},
}

// BuiltinRuleDocs returns each built-in rule's name and a one-line
// description, in the default order.
func BuiltinRuleDocs() [][2]string {
	out := make([][2]string, 0, len(job.BuiltinPreprocessRules))
	for _, name := range job.BuiltinPreprocessRules {
		out = append(out, [2]string{name, builtinRules[name].doc})
	}
	return out
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

func hasRule(rules []rule, name string) bool {
	for _, r := range rules {
		if r.name == name {
			return true
		}
	}
	return false
}

// forwardSubject matches the forward prefixes of common clients in many
// languages (Fwd, FW, WG, TR, RV, I, Doorst, VS, VB, PD, ENC, Пересл, 转发, 転送).
var forwardSubject = regexp.MustCompile(`(?i)^\s*(fwd?|wg|tr|rv|i|doorst|vs|vb|vl|pd|enc|fs|пересл|переслать|转发|轉寄|転送)\s*[:：]`)

// visibleText applies the rules to the HTML body when there is one (the
// structure marks quotes reliably), else to the text body. It never
// returns "" for a non-empty text: if the rules remove everything, the
// whole text is what was written.
func visibleText(rules []rule, subject, text, htmlBody string, hasHTML bool) string {
	forward := forwardSubject.MatchString(subject)
	if hasHTML {
		if out := visibleFromHTML(rules, forward, htmlBody); out != "" {
			return out
		}
	}
	if text != "" {
		st := &textState{lines: strings.Split(text, "\n"), forward: forward}
		st.interleaved = hasRule(rules, "inline-replies") && isInterleaved(st.lines)
		if out := runText(rules, st); out != "" {
			return out
		}
	}
	return text
}

func visibleFromHTML(rules []rule, forward bool, htmlBody string) string {
	doc := htmltext.Parse(htmlBody)
	st := &textState{forward: forward}
	if hasRule(rules, "inline-replies") {
		st.interleaved = isInterleaved(strings.Split(htmltext.Text(doc), "\n"))
	}
	for _, r := range rules {
		if r.html != nil {
			r.html(doc, st)
		}
	}
	st.lines = strings.Split(htmltext.Text(doc), "\n")
	return runText(rules, st)
}

func runText(rules []rule, st *textState) string {
	for _, r := range rules {
		if r.text != nil {
			r.text(st)
		}
	}
	return htmltext.NormalizeText(strings.Join(st.lines, "\n"))
}

// --- custom rules

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
var attribution = regexp.MustCompile(`(?i)(^|[\s)>\d])` + attributionVerb + `(\s.{0,80})?\s*[:：]\s*$`)

// attributionStart matches the first line of an attribution, which may
// wrap: "On Tue, Jan 2, 2024 at 9:00 AM Bob", "Il giorno mar 5 mar 2024".
var attributionStart = regexp.MustCompile(`(?i)^\s*(On|Am|Le|El|Op|Il( giorno)?|Em|Den|W dniu|Dne|Pe|在)\s`)

// dateTime matches a time of day ("10:00", "10.00") near a date, as the
// attribution lines of Japanese, Chinese and Russian clients have.
var dateTime = regexp.MustCompile(`((19|20)\d\d|\d{1,2}[./]\d{1,2}[./]\d{2,4}).*\d{1,2}[:.]\d{2}|\d{1,2}[:.]\d{2}.*(19|20)\d\d`)

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
		if attributionStart.MatchString(lines[k]) && isAttribution(joined) {
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

// --- reply header blocks

// Labels of the reply header block Outlook and other clients write above
// the quoted message, in the languages the README lists.
const (
	fromLabels    = `from|von|de|da|van|från|fra|frá|od|от|kimden|feladó|lähettäjä|afzender|差出人|发件人|寄件者|寄件人|보낸 사람`
	sentLabels    = `sent|gesendet|envoy[ée]|enviado el|enviado|enviada|inviato|verzonden|skickat|sendt|wysłano|wysłane|odesláno|отправлено|gönderildi|elküldve|lähetetty|date|datum|data|fecha|дата|tarih|dátum|päivämäärä|送信日時|日付|发送时间|發送時間|傳送時間|寄件日期|日期|时间|보낸 날짜`
	toLabels      = `to|an|à|a|para|aan|till|til|do|komu|кому|kime|címzett|vastaanottaja|宛先|收件人|收件者|받는 사람`
	subjectLabels = `subject|betreff|objet|asunto|oggetto|assunto|onderwerp|ämne|emne|temat|předmět|тема|konu|tárgy|aihe|件名|主题|主旨|제목`
	ccLabels      = `cc|kopie|copie|kopia|копия|bilgi|másolat|kopio|抄送|副本|참조`
)

func headerLine(labels string) *regexp.Regexp {
	return regexp.MustCompile(`(?i)^\s*[*_]{0,2}(` + labels + `)[*_]{0,2}\s*[:：]`)
}

var (
	headerSent    = headerLine(sentLabels)
	headerTo      = headerLine(toLabels)
	headerSubject = headerLine(subjectLabels)
	headerCc      = headerLine(ccLabels)
	// headerFromValue needs a value after "From:" on the same line.
	headerFromValue = regexp.MustCompile(`(?i)^\s*[*_]{0,2}(` + fromLabels + `)[*_]{0,2}\s*[:：][*_]{0,2}\s*\S`)
	underscoreLine  = regexp.MustCompile(`^\s*_{8,}\s*$`)
)

// headerBlockAt reports whether a reply header block starts at line i: a
// From line followed, within the next eight lines, by at least two of
// Sent/Date, To and Subject (and nothing but header lines, blanks and
// wrapped values).
func headerBlockAt(lines []string, i int) bool {
	if !headerFromValue.MatchString(lines[i]) {
		return false
	}
	sent, to, subject := false, false, false
	for k := i + 1; k < len(lines) && k <= i+8; k++ {
		l := lines[k]
		switch {
		case headerSent.MatchString(l):
			sent = true
		case headerTo.MatchString(l):
			to = true
		case headerSubject.MatchString(l):
			subject = true
		case headerCc.MatchString(l):
		}
	}
	n := 0
	for _, b := range []bool{sent, to, subject} {
		if b {
			n++
		}
	}
	return n >= 2
}

// originalMessage matches the separator lines Outlook, Thunderbird,
// Samsung Email, Proton Mail and others put above a quoted message (but
// not the forwarded-message separators: a forward is content).
var originalMessage = regexp.MustCompile(`(?i)^\s*[-_=]{2,}\s*(original message|original e-?mail|ursprüngliche nachricht|originalnachricht|message d'origine|message original|mensaje original|messaggio originale|mensagem original|oorspronkelijk bericht|origineel bericht|ursprungligt meddelande|originalmeddelande|oprindelig meddelelse|opprinnelig melding|alkuperäinen viesti|wiadomość oryginalna|oryginalna wiadomość|původní zpráva|eredeti üzenet|orijinal ileti|исходное сообщение|оригинальное сообщение|元のメッセージ|原始邮件|原始郵件|原邮件|원본 메시지)\s*[-_=]{2,}\s*$`)

// cutAtHeaderBlock cuts at the first reply header block or original
// message separator, with an underscore line or separator just above it.
func cutAtHeaderBlock(st *textState) bool {
	lines := st.lines
	for i, l := range lines {
		if originalMessage.MatchString(l) {
			st.cut(i)
			return true
		}
		if isQuoted(l) || !headerBlockAt(lines, i) {
			continue
		}
		cut := i
		j := i - 1
		for j >= 0 && isBlank(lines[j]) {
			j--
		}
		if j >= 0 && (underscoreLine.MatchString(lines[j]) || strings.Trim(lines[j], " -_=") == "") {
			cut = j
		}
		st.cut(cut)
		return true
	}
	return false
}

// outlookText cuts at "-----Original Message-----" and at an Outlook
// header block ("From: … Sent: … To: … Subject: …" in any of the listed
// languages), with the underscore line Outlook puts above it.
func outlookText(st *textState) {
	if st.forward || st.interleaved {
		return
	}
	cutAtHeaderBlock(st)
}

// replyHeadersText cuts at a reply header block, as outlookText does, and
// at an attribution line ("On … wrote:") that follows the sender's text
// and is not followed by answers between the quoted lines (top posting).
func replyHeadersText(st *textState) {
	if st.forward || st.interleaved {
		return
	}
	if cutAtHeaderBlock(st) {
		return
	}
	cutAtAttribution(st)
}

// cutAtAttribution cuts at the first attribution line that has the
// sender's text above it and no answer below it. Only a clear attribution
// counts: one that starts like "On …", "Am …", or names an address or a
// date and time ("My colleague wrote:" is the sender's own text).
func cutAtAttribution(st *textState) {
	lines := st.lines
	above := false
	for i, l := range lines {
		if isQuoted(l) {
			return // bottom posting or interleaved: quoted-lines decides
		}
		if isBlank(l) {
			continue
		}
		if above && (strings.HasSuffix(strings.TrimSpace(l), ":") || strings.HasSuffix(strings.TrimSpace(l), "：")) {
			if start, ok := attributionAt(lines, i); ok && clearAttribution(lines[start:i+1]) && answersAfterQuotes(lines[i+1:]) == 0 {
				if start == 0 {
					return
				}
				st.cut(start)
				return
			}
		}
		above = true
	}
}

// clearAttribution reports whether the lines of an attribution are
// clearly one.
func clearAttribution(lines []string) bool {
	joined := strings.Join(lines, " ")
	return attributionStart.MatchString(lines[0]) || strings.Contains(joined, "@") || dateTime.MatchString(joined)
}

// --- text rules of the clients

func gmailText(st *textState) {
	if st.forward || st.interleaved {
		return
	}
	cutAtAttribution(st)
}

// appleText removes "Sent from my iPhone" and its kin.
func appleText(st *textState) { st.lines = dropLines(st.lines, appleSignature) }

var appleSignature = regexp.MustCompile(`(?i)^\s*(sent from my (iphone|ipad|apple watch|mac)|von meinem (iphone|ipad) gesendet|envoy[ée] de mon (iphone|ipad)|enviado desde mi (iphone|ipad)|enviado do meu (iphone|ipad)|inviato da (iphone|ipad)|verstuurd vanaf mijn (iphone|ipad)|skickat från min (iphone|ipad)|sendt fra min (iphone|ipad)|wysłane z (mojego )?(iphone|ipad)('a)?|отправлено с (iphone|ipad)|(iphone|ipad)から送信|(从|發自|发自)我的\s?(iphone|ipad)(发送)?)\s*\.?\s*$`)

// thunderbirdText cuts at Thunderbird's -------- Original Message --------.
func thunderbirdText(st *textState) {
	if st.forward || st.interleaved {
		return
	}
	for i, l := range st.lines {
		if originalMessage.MatchString(l) {
			st.cut(i)
			return
		}
	}
}

var yahooSignature = regexp.MustCompile(`(?i)^\s*(sent from yahoo mail (for|on) (iphone|ipad|android)|yahoo mail: search, organi[sz]e, conquer|gesendet von yahoo mail (für|auf) (iphone|android)|envoy[ée] de yahoo mail (pour|sur) (iphone|android)|enviado desde yahoo mail (para|con) (iphone|android))\s*\.?\s*$`)

func yahooText(st *textState) { st.lines = dropLines(st.lines, yahooSignature) }

var protonSignature = regexp.MustCompile(`(?i)^\s*(sent with proton ?mail( secure email)?|sent from proton mail (mobile|android|ios))\s*\.?\s*$`)

func protonText(st *textState) {
	st.lines = dropLines(st.lines, protonSignature)
	thunderbirdText(st) // ------- Original Message -------
}

// zohoAttribution is Zoho Mail's "---- On Tue, 05 Mar 2024 10:00:00 +0100
// X <x@example.com> wrote ----" and its German and French forms.
var zohoAttribution = regexp.MustCompile(`(?i)^\s*-{3,}\s*(on|am|le|el)\s.*\s` + attributionVerb + `\s*-{3,}\s*$`)

func zohoText(st *textState) {
	if st.forward || st.interleaved {
		return
	}
	for i, l := range st.lines {
		if zohoAttribution.MatchString(l) {
			st.cut(i)
			return
		}
	}
}

// androidSignature matches the "Sent from" lines of Android mail apps.
var androidSignature = regexp.MustCompile(`(?i)^\s*(` +
	`sent from my (samsung|galaxy|huawei|xiaomi|redmi|oneplus|pixel|android|lg|motorola|sony|oppo|vivo|nokia)\b.{0,60}|` +
	`sent via the samsung .{0,80}|sent from samsung (mobile|email).{0,40}|` +
	`sent from (my )?android( device)?.{0,60}|sent from bluemail|sent with aqua mail for android.{0,60}|` +
	`sent from (gmail mobile|outlook for android|yahoo mail on android|k-9 mail)\b.{0,40}|` +
	`get outlook for android|download outlook for android|` +
	`(von meinem|gesendet von meinem) (samsung|galaxy|huawei|android|smartphone).{0,40}|` +
	`envoy[ée] (de|depuis) (mon|un) (smartphone|appareil|samsung|android).{0,40}|` +
	`enviado desde mi (smartphone|dispositivo|samsung|huawei|android).{0,40}|` +
	`enviado do meu (smartphone|dispositivo|samsung|android).{0,40}|` +
	`inviato da (smartphone|samsung|android).{0,40}|` +
	`verzonden (vanaf|met) (mijn )?(samsung|android|smartphone).{0,40}|` +
	`skickat från (min )?(samsung|android|mobil).{0,40}|sendt fra (min )?(samsung|android|mobil).{0,40}|` +
	`wysłano z (mojego )?(samsung|android|smartfona).{0,40}|отправлено с (моего )?(samsung|android|смартфона|устройства).{0,40}` +
	`)\s*$`)

// androidText removes the "Sent from" lines of Android mail apps and cuts
// at Samsung Email's "-------- Original message --------" block.
func androidText(st *textState) {
	st.lines = dropLines(st.lines, androidSignature)
	if !st.forward && !st.interleaved {
		thunderbirdText(st)
	}
}

// mobileSignature matches the one-line signatures mobile mail apps add.
var mobileSignature = regexp.MustCompile(`(?i)^\s*(` +
	`sent from my \S.{0,40}|sent from (outlook|mail|yahoo mail|samsung|aol|proton ?mail|windows mail|mail for windows)\b.{0,40}|` +
	`get outlook for (ios|android|mac)|download outlook for (ios|android)|sent from outlook for (ios|android|mac)|` +
	`sent with proton ?mail.{0,40}|sent from my blackberry.{0,40}|sent from a mobile device|sent on the go.{0,30}|` +
	`von meinem \S.{0,40} gesendet|gesendet von meinem \S.{0,40}|von (meinem )?(iphone|ipad|smartphone|handy|mobiltelefon) gesendet|gesendet mit der (web\.de|gmx) mail app|` +
	`envoy[ée] (de|depuis) (mon|ma|l'application|un) \S.{0,40}|` +
	`enviado (desde|de) mi \S.{0,40}|enviado do meu \S.{0,40}|enviado desde (outlook|correo|yahoo).{0,40}|` +
	`verzonden (vanaf|met) mijn \S.{0,40}|verstuurd vanaf mijn \S.{0,40}|inviato da \S.{0,40}|` +
	`skickat från min \S.{0,40}|sendt fra min \S.{0,40}|lähetetty (iphonesta|ipadista|android-laitteesta|puhelimesta).{0,30}|` +
	`wysłane z (mojego )?\S.{0,40}|wysłano z (mojego )?\S.{0,40}|odesláno z (mého )?\S.{0,40}|` +
	`отправлено (с|из) \S.{0,40}|(iphone|ipad|android)から送信|(从|發自|发自|寄自)我的\s?\S{1,30}` +
	`)\s*$`)

func dropLines(lines []string, re *regexp.Regexp) []string {
	out := lines[:0:0]
	for _, l := range lines {
		if !isQuoted(l) && re.MatchString(l) {
			continue
		}
		out = append(out, l)
	}
	return out
}

// mobileSignatures removes lines such as "Sent from my iPhone" and "Get
// Outlook for Android".
func mobileSignatures(st *textState) { st.lines = dropLines(st.lines, mobileSignature) }

// signatureDelimiter cuts the signature: the line "-- " (RFC 3676 section
// 4.3; also "--", as many clients strip the space) and everything below.
// In a forward, only a signature above the forwarded message goes.
func signatureDelimiter(st *textState) {
	for i, l := range st.lines {
		if strings.TrimRight(l, " \t\r") != "--" {
			continue
		}
		if st.forward {
			// Keep the forwarded message: cut the signature only up to
			// the forward separator or header block below it.
			for k := i + 1; k < len(st.lines); k++ {
				if forwardSeparator.MatchString(st.lines[k]) || headerBlockAt(st.lines, k) {
					st.lines = append(st.lines[:i:i], st.lines[k:]...)
					return
				}
			}
			continue
		}
		st.cut(i)
		return
	}
}

// forwardSeparator matches the separator above a forwarded message.
var forwardSeparator = regexp.MustCompile(`(?i)^\s*(-{2,}\s*(forwarded message|weitergeleitete nachricht|message transf[ée]r[ée]|mensaje reenviado|messaggio inoltrato|mensagem encaminhada|doorgestuurd bericht|vidarebefordrat meddelande|videresendt meddelelse|przekazana wiadomość|пересылаемое сообщение|転送されたメッセージ|转发的邮件)\s*-{2,}|begin forwarded message:|anfang der weitergeleiteten nachricht:|début du message réexpédié :?)\s*$`)

// quotedLines removes runs of ">"-quoted lines and the attribution line
// (up to three lines when it wraps) just above each run. After
// inline-replies kept quoted context, it does nothing.
func quotedLines(st *textState) {
	if st.keepQuotes {
		return
	}
	lines := st.lines
	drop := make([]bool, len(lines))
	for i := 0; i < len(lines); i++ {
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
	out := lines[:0:0]
	for i, l := range lines {
		if drop[i] || isQuoted(l) {
			continue
		}
		out = append(out, l)
	}
	st.lines = out
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
	drop := make([]bool, len(lines))
	for i := 0; i <= last; i++ {
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
	out = append(out, lines[end:]...) // the signature, for the signature rules
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

// --- HTML rules

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
