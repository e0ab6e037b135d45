package preprocess

import (
	"regexp"
	"strings"

	"github.com/emersion/go-message/textproto"

	"mailconnector/shared/message"
)

// autoReplySubject matches the subjects of out-of-office and other
// automatic replies in English, German, French and Spanish.
var autoReplySubject = regexp.MustCompile(`(?i)^\s*(` +
	`out of (the )?office|automatic reply|auto(matic)?[- ]?reply|auto(matic)?[- ]?response|autoreply|auto:|` +
	`abwesenheitsnotiz|automatische antwort|abwesend|` +
	`r[ée]ponse automatique|absence du bureau|absent\b|` +
	`respuesta autom[áa]tica|fuera de la oficina|ausente\b` +
	`)`)

// bounceSubject matches the subjects of delivery failure reports of
// common MTAs (Postfix, Exim, Sendmail, Exchange, Gmail).
var bounceSubject = regexp.MustCompile(`(?i)(` +
	`undeliver(ed|able)|returned mail|mail delivery (failed|failure|subsystem)|delivery status notification|` +
	`delivery (failure|has failed)|failure notice|message not delivered|non[- ]?delivery|` +
	`unzustellbar|nicht zustellbar|non remis|non distribu|no se puede entregar|no entregado` +
	`)`)

// classify returns message.Bounce, message.AutoReply, message.List or ""
// (in that order of precedence).
func classify(h textproto.Header, m *message.Message, reportType string) string {
	from := strings.ToLower(m.From.Address)
	local, _, _ := strings.Cut(from, "@")
	daemon := local == "mailer-daemon" || local == "postmaster" || local == "mail-daemon"
	autoSubmitted := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted")))
	// RFC 3464 section 2: delivery status notifications are
	// multipart/report; report-type=delivery-status (RFC 6522).
	if reportType == "delivery-status" ||
		daemon && (bounceSubject.MatchString(m.Subject) || autoSubmitted != "" && autoSubmitted != "no") ||
		bounceSubject.MatchString(m.Subject) && autoSubmitted != "" && autoSubmitted != "no" {
		return message.Bounce
	}
	// RFC 3834 section 5: any Auto-Submitted value but "no" marks
	// automatic mail.
	if autoSubmitted != "" && autoSubmitted != "no" ||
		h.Has("X-Autoreply") || h.Has("X-Autorespond") ||
		suppressesAutoReplies(h.Get("X-Auto-Response-Suppress")) ||
		autoReplySubject.MatchString(m.Subject) {
		return message.AutoReply
	}
	// RFC 2919 (List-Id), RFC 2369 (List-Unsubscribe), and the
	// non-standard Precedence field.
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "bulk", "list", "junk":
		return message.List
	}
	if h.Has("List-Id") || h.Has("List-Unsubscribe") {
		return message.List
	}
	return ""
}

// suppressesAutoReplies reports whether an X-Auto-Response-Suppress value
// ([MS-OXCMAIL] 2.2.3.2.20) contains All or OOF, as Exchange sets on
// automatic replies.
func suppressesAutoReplies(v string) bool {
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		if strings.EqualFold(f, "All") || strings.EqualFold(f, "OOF") {
			return true
		}
	}
	return false
}
