package preprocess

import (
	"regexp"
	"strings"

	"github.com/emersion/go-message/textproto"

	"mailconnector/shared/message"
	"mailconnector/shared/preprocess/visible"
)

// autoReplyPrefix matches the subject of an out-of-office or other
// automatic reply in the languages of the README, as its clients write it:
// the phrase alone, or followed by ":" or "]" and the original subject.
var autoReplyPrefix = regexp.MustCompile(`(?i)^\s*\[?\s*(` +
	`out of (the )?office|automatic reply|auto(matic)?[- ]?reply|auto(matic)?[- ]?response|autoreply|autoresponse|auto|away from (the )?office|on vacation|vacation reply|` +
	`abwesenheitsnotiz|automatische antwort|abwesend|au(ß|ss)er haus|abwesenheit|` +
	`r[ée]ponse automatique|absence du bureau|absente?|message d'absence|` +
	`respuesta autom[áa]tica|fuera de la oficina|ausente|` +
	`risposta automatica|fuori sede|fuori ufficio|assente|` +
	`resposta autom[áa]tica|aus[êe]ncia tempor[áa]ria|fora do escrit[óo]rio|` +
	`automatisch antwoord|afwezig|niet aanwezig|buiten kantoor|` +
	`automatiskt svar|fr[åa]nvaromeddelande|fr[åa]nvarande|ej p[åa] kontoret|` +
	`automatisk svar|frav[æe]rende|ikke til stede|` +
	`automaattinen vastaus|poissa|` +
	`automatyczna odpowied[źz]|nieobecno[śs][ćc]|poza biurem|` +
	`automatick[áa] odpov[ěe][ďd]|nep[řr][íi]tomnost|` +
	`otomatik yan[ıi]t|ofis d[ıi][şs][ıi]nda|automatikus v[áa]lasz|h[áa]zon k[íi]v[üu]l|` +
	`автоматический ответ|автоответ|вне офиса|нет на месте|отсутств(ую|ие)|` +
	`自動応答|自動返信|不在(通知)?|自动回复|自動回覆|自动答复|不在办公室|외부 출타|자동 회신` +
	`)\s*(:|：|\]|$)`)

// bounceSubject matches the subjects of the delivery failure reports of
// common MTAs and providers: Postfix ("Undelivered Mail Returned to
// Sender"), Exim ("Mail delivery failed"), Sendmail ("Returned mail"),
// qmail and Yahoo ("failure notice"), Exchange and Office 365
// ("Undeliverable:" and its translations), Gmail and Amazon SES
// ("Delivery Status Notification (Failure)"), Lotus Notes ("DELIVERY
// FAILURE"), and delay warnings.
var bounceSubject = regexp.MustCompile(`(?i)(` +
	`undeliver(ed|able)|returned mail|returned to sender|mail delivery (failed|failure|subsystem|system)|delivery status notification|` +
	`delivery (failure|has failed|failed|notification: delivery has failed)|failure notice|message not delivered|non[- ]?deliver(y|able)|` +
	`could not be delivered|delayed mail|warning: (could not send|message .* delayed)|mail system error|message delivery (has )?failed|` +
	`unzustellbar|nicht zustellbar|zustellung fehlgeschlagen|unzustellbare nachricht|` +
	`non remis|non distribu|[ée]chec de (la )?remise|no se puede entregar|no entregado|non recapitabile|` +
	`n[ãa]o [ée] poss[íi]vel entregar|onbestelbaar|olevererbart|kan ikke leveres|niedostarczalne|nie mo[żz]na dostarczy[ćc]|` +
	`недоставляем|не доставлено|配信不能|配信エラー|无法送达|未送达|退信|無法傳遞` +
	`)`)

// bounceBody matches the opening sentences of the bodies of those MTAs.
var bounceBody = regexp.MustCompile(`(?i)(` +
	`this is the mail system at host|i'm sorry to have to inform you that your message could not|` +
	`this message was created automatically by mail delivery software|` +
	`the original message was received at .* from|` +
	`hi\. this is the qmail-send program|` +
	`sorry, we were unable to deliver your message|` +
	`delivery has failed to these recipients or groups|your message (to .* )?couldn't be delivered|` +
	`delivery to the following recipients? (failed|has been delayed)|` +
	`the following message to .* was undeliverable|` +
	`an error occurred while trying to deliver the mail to the following recipients|` +
	`your message wasn't delivered|address not found|the response from the remote server was|` +
	`unable to deliver (your )?message|message could not be delivered|` +
	`diagnostic-code:|status: 5\.\d+\.\d+|remote-mta:` +
	`)`)

// daemonLocal are the local parts of the addresses bounces come from.
var daemonLocal = map[string]bool{
	"mailer-daemon": true, "mailerdaemon": true, "mail-daemon": true, "postmaster": true,
	"mail.daemon": true, "bounce": true, "bounces": true, "mdaemon": true,
}

// classify returns message.Bounce, message.AutoReply, message.List or ""
// (in that order of precedence). The rules stage uses it to avoid mail
// loops: it neither answers nor opens requests for auto-generated mail.
func classify(h textproto.Header, m *message.Message, reportType string) string {
	from := strings.ToLower(m.From.Address)
	local, _, _ := strings.Cut(from, "@")
	name := strings.ToLower(m.From.Name)
	autoSubmitted := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted")))
	autoSub := autoSubmitted != "" && !strings.HasPrefix(autoSubmitted, "no")
	nullPath := strings.TrimSpace(h.Get("Return-Path")) == "<>"
	automated := daemonLocal[local] || strings.HasPrefix(local, "mailer-daemon") ||
		strings.Contains(name, "mail delivery") || strings.Contains(name, "mailer-daemon") ||
		nullPath || autoSub
	body := m.Text
	if len(body) > 8<<10 {
		body = body[:8<<10]
	}

	// RFC 3464 section 2: delivery status notifications are
	// multipart/report; report-type=delivery-status (RFC 6522). Exim adds
	// X-Failed-Recipients, Exchange X-MS-Exchange-Message-Is-Ndr.
	if reportType == "delivery-status" || h.Has("X-Failed-Recipients") || h.Has("X-MS-Exchange-Message-Is-Ndr") ||
		automated && (bounceSubject.MatchString(m.Subject) || bounceBody.MatchString(body)) ||
		bounceSubject.MatchString(m.Subject) && bounceBody.MatchString(body) && !visible.IsForward(m.Subject) {
		return message.Bounce
	}
	// RFC 3834 section 5: any Auto-Submitted value but "no" marks
	// automatic mail; read receipts are multipart/report;
	// report-type=disposition-notification (RFC 8098).
	precedence := strings.ToLower(strings.TrimSpace(h.Get("Precedence")))
	if autoSub || reportType == "disposition-notification" ||
		h.Has("X-Autoreply") || h.Has("X-Autorespond") || h.Has("X-Autoresponder") ||
		strings.EqualFold(strings.TrimSpace(h.Get("X-Autogenerated")), "reply") ||
		precedence == "auto_reply" || strings.EqualFold(strings.TrimSpace(h.Get("X-Precedence")), "auto_reply") ||
		suppressesAutoReplies(h.Get("X-Auto-Response-Suppress")) ||
		autoReplyPrefix.MatchString(m.Subject) {
		return message.AutoReply
	}
	// RFC 2919 (List-Id), RFC 2369 (List-Unsubscribe, List-Post), and the
	// non-standard Precedence field.
	switch precedence {
	case "bulk", "list", "junk":
		return message.List
	}
	for _, k := range []string{"List-Id", "List-Unsubscribe", "List-Post", "X-Mailing-List", "Mailing-List"} {
		if h.Has(k) {
			return message.List
		}
	}
	return ""
}

// suppressesAutoReplies reports whether an X-Auto-Response-Suppress value
// ([MS-OXCMAIL] 2.2.3.2.20) contains All, OOF or AutoReply, as Exchange
// sets on automatic replies.
func suppressesAutoReplies(v string) bool {
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		if strings.EqualFold(f, "All") || strings.EqualFold(f, "OOF") || strings.EqualFold(f, "AutoReply") {
			return true
		}
	}
	return false
}
