package visible

import (
	"strings"

	"mailconnector/shared/lazyre"
)

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

func headerLine(labels string) *lazyre.Regexp {
	return lazyre.New(`(?i)^\s*[*_]{0,2}(` + labels + `)[*_]{0,2}\s*[:：]`)
}

var (
	headerSent    = headerLine(sentLabels)
	headerTo      = headerLine(toLabels)
	headerSubject = headerLine(subjectLabels)
	headerCc      = headerLine(ccLabels)
	// headerFromValue needs a value after "From:" on the same line.
	headerFromValue = lazyre.New(`(?i)^\s*[*_]{0,2}(` + fromLabels + `)[*_]{0,2}\s*[:：][*_]{0,2}\s*\S`)
	underscoreLine  = lazyre.New(`^\s*_{8,}\s*$`)
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
var originalMessage = lazyre.New(`(?i)^\s*[-_=]{2,}\s*(original message|original e-?mail|ursprüngliche nachricht|originalnachricht|message d'origine|message original|mensaje original|messaggio originale|mensagem original|oorspronkelijk bericht|origineel bericht|ursprungligt meddelande|originalmeddelande|oprindelig meddelelse|opprinnelig melding|alkuperäinen viesti|wiadomość oryginalna|oryginalna wiadomość|původní zpráva|eredeti üzenet|orijinal ileti|исходное сообщение|оригинальное сообщение|元のメッセージ|原始邮件|原始郵件|原邮件|원본 메시지)\s*[-_=]{2,}\s*$`)

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
