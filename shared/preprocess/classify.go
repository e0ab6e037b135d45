package preprocess

import (
	"strings"

	"github.com/emersion/go-message/textproto"

	"mailconnector/shared/controlchar"
	"mailconnector/shared/lazyre"
	"mailconnector/shared/message"
	"mailconnector/shared/preprocess/bounce"
	"mailconnector/shared/preprocess/visible"
)

// autoReplyPrefix matches the subject of an out-of-office or other
// automatic reply in the languages of the README, as its clients write it:
// the phrase alone, or followed by ":" or "]" and the original subject.
var autoReplyPrefix = lazyre.New(`(?i)^\s*\[?\s*(` +
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
var bounceSubject = lazyre.New(`(?i)(` +
	`undeliver(ed|able)|returned mail|mail delivery status|returned to sender|mail delivery (failed|failure|subsystem|system)|delivery status notification|` +
	`delivery (failure|has failed|failed|notification: delivery has failed)|failure notice|message not delivered|non[- ]?deliver(y|able)|` +
	`could not be delivered|delayed mail|warning: (could not send|message .* delayed)|mail system error|message delivery (has )?failed|` +
	`unzustellbar|nicht zustellbar|zustellung fehlgeschlagen|unzustellbare nachricht|` +
	`non remis|non distribu|[ée]chec de (la )?remise|no se puede entregar|no entregado|non recapitabile|` +
	`n[ãa]o [ée] poss[íi]vel entregar|onbestelbaar|olevererbart|kan ikke leveres|niedostarczalne|nie mo[żz]na dostarczy[ćc]|` +
	`недоставляем|не доставлено|配信不能|配信エラー|无法送达|未送达|退信|無法傳遞` +
	`)`)

// bounceBody matches the opening sentences of the bodies of those MTAs;
// bounceBodyMTA only those no person writes in their own words.
var bounceBody = lazyre.New(`(?i)(` +
	`i'm sorry to have to inform you that your message could not|` +
	`sorry, we were unable to deliver your message|` +
	`your message (to .* )?couldn't be delivered|` +
	`delivery to the following recipients? (failed|has been delayed)|` +
	`the following message to .* was undeliverable|` +
	`your message wasn't delivered|address not found|the response from the remote server was|` +
	`unable to deliver (your )?message|message could not be delivered|` +
	`diagnostic-code:|status: 5\.\d+\.\d+|remote-mta:` +
	`)`)

var bounceBodyMTA = lazyre.New(`(?i)(` +
	`this is the mail system at host|this message was created automatically by mail delivery software|` +
	`the original message was received at .* from|hi\. this is the qmail-send program|` +
	`delivery has failed to these recipients or groups|` +
	`an error occurred while trying to deliver the mail to the following recipients|` +
	`this is the mailer-daemon, please do not reply|this is a delivery status notification|` +
	`your message did not reach some or all of the intended recipients|` +
	`i'm afraid i wasn't able to deliver your message|` +
	`this is the dragonfly mail agent|` +
	`reporting-mta:|final-recipient:` +
	`)`)

// bounceSubjectMTA matches whole subjects as MTAs write them (anchored):
// enough, with a sender like postmaster@, to tell a bounce.
var bounceSubjectMTA = lazyre.New(`(?i)^\s*(` +
	`undeliverable\s*:|undelivered mail returned to sender|mail delivery failed|delivery status notification|` +
	`failure notice|returned mail\s*:|delivery failure\s*:|mail system error|non remis\s*:|unzustellbar\s*:|` +
	`nicht zustellbar\s*:|non recapitabile\s*:|no se puede entregar\s*:|onbestelbaar\s*:|kan ikke leveres\s*:|` +
	`warning: could not send message|delayed mail|mail delivery failure|message delivery failure|` +
	`notice: mail delivery status|delivery notification: delivery has failed|\[bounce\]|undeliverable mail|` +
	`returned mail|message not delivered|undelivered mail|mail could not be delivered|` +
	`配信不能|配信エラー|未送达|退信` +
	`)`)

// daemonLocal are the local parts of the addresses bounces come from.
var daemonLocal = map[string]bool{
	"mailer-daemon": true, "mailerdaemon": true, "mail-daemon": true,
	"mail.daemon": true, "bounce": true, "bounces": true, "mdaemon": true,
}

// replySubject matches the reply prefixes of common clients: a bounce
// never starts with one (Exchange writes "Undeliverable: RE: …").
var replySubject = lazyre.New(`(?i)^\s*(re|aw|sv|vs|antw|odp|ynt|vá|res|r|rif|atb|отв|回复|回覆|답장)\s*(\[\d+\])?\s*[:：]`)

// classify returns the class of auto-generated mail — message.Feedback,
// message.Bounce, message.AutoReply, message.List or "" (in that order of
// precedence) — and, for a bounce or feedback report, what it says. The
// rules stage uses the class to avoid mail loops: it neither answers nor
// opens requests for auto-generated mail.
//
// A bounce is told by its structure (a delivery-status part, whatever the
// report-type says; the headers Exim and Exchange add; an Amazon SES
// notification), or by a sender that is a mail system together with the
// subjects and opening sentences of the MTAs. Text alone never makes a
// bounce of a reply, a forward, list mail, or a person writing from
// postmaster@: a customer's "Undeliverable" subject stays customer mail.
func classify(h textproto.Header, m *message.Message, reportType string, rp *reportParts) (string, *message.BounceReport) {
	from := strings.ToLower(m.From.Address)
	local, _, _ := strings.Cut(from, "@")
	name := strings.ToLower(m.From.Name)
	autoSubmitted := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted")))
	autoSub := autoSubmitted != "" && !strings.HasPrefix(autoSubmitted, "no")
	nullPath := strings.TrimSpace(h.Get("Return-Path")) == "<>"
	daemon := daemonLocal[local] || strings.HasPrefix(local, "mailer-daemon") || strings.HasPrefix(local, "microsoftexchange") ||
		strings.Contains(name, "mail delivery") || strings.Contains(name, "mailer-daemon") || strings.Contains(name, "mailer daemon") ||
		strings.HasPrefix(name, "mail administrator") || strings.Contains(name, "mail system") || strings.Contains(name, "mail server") || nullPath
	text := m.Text
	if len(text) > 8<<10 {
		text = text[:8<<10]
	}
	lead := m.VisibleText
	if len(lead) > 8<<10 {
		lead = lead[:8<<10]
	}
	precedence := strings.ToLower(strings.TrimSpace(h.Get("Precedence")))
	list := h.Has("List-Id") || h.Has("List-Unsubscribe")
	human := replySubject.MatchString(m.Subject) || visible.IsForward(m.Subject)
	ses := bounce.SES(text)

	// RFC 5965: feedback reports are multipart/report;
	// report-type=feedback-report with a message/feedback-report part.
	if reportType == "feedback-report" || rp.feedback != nil || ses == "Complaint" ||
		!human && (daemon || autoSub) && bounce.IsFeedbackText(text) {
		return message.Feedback, bounceReport(bounce.ParseFeedback(reportInput(h, m, text, rp)))
	}
	// RFC 3464 section 2: delivery status notifications are
	// multipart/report; report-type=delivery-status (RFC 6522) with a
	// message/delivery-status part. Exim adds X-Failed-Recipients,
	// Exchange X-MS-Exchange-Message-Is-Ndr.
	structural := reportType == "delivery-status" || reportType == "global-delivery-status" || rp.dsn != nil ||
		h.Has("X-Failed-Recipients") || h.Has("X-MS-Exchange-Message-Is-Ndr") || ses == "Bounce" ||
		!human && (daemon || autoSub) && bounce.IsDSNText(text)
	subject := bounceSubject.MatchString(m.Subject)
	// The opening-sentence patterns are long alternations run over up to
	// 8 KB: they are matched only where the answer counts (most mail is
	// from a person, whose From and subject settle it).
	var mtaKnown, mtaOpening bool
	opensLikeMTA := func() bool {
		if !mtaKnown {
			mtaKnown, mtaOpening = true, bounceBodyMTA.MatchString(lead)
		}
		return mtaOpening
	}
	// Anyone else: an MTA's subject and its opening sentence at the top.
	top := lead
	if len(top) > 400 {
		top = top[:400]
	}
	textual := !human && !list && ((daemon || autoSub) && (subject || opensLikeMTA() || bounceBody.MatchString(lead)) ||
		local == "postmaster" && (bounceSubjectMTA.MatchString(m.Subject) || opensLikeMTA()) ||
		subject && bounceBodyMTA.MatchString(top))
	if structural || textual {
		return message.Bounce, bounceReport(bounce.Parse(reportInput(h, m, text, rp)))
	}
	// RFC 3834 section 5: any Auto-Submitted value but "no" marks
	// automatic mail; read receipts are multipart/report;
	// report-type=disposition-notification (RFC 8098).
	if autoSub || reportType == "disposition-notification" ||
		h.Has("X-Autoreply") || h.Has("X-Autorespond") || h.Has("X-Autoresponder") ||
		strings.EqualFold(strings.TrimSpace(h.Get("X-Autogenerated")), "reply") ||
		precedence == "auto_reply" || strings.EqualFold(strings.TrimSpace(h.Get("X-Precedence")), "auto_reply") ||
		suppressesAutoReplies(h.Get("X-Auto-Response-Suppress")) ||
		autoReplyPrefix.MatchString(m.Subject) {
		return message.AutoReply, nil
	}
	// RFC 2919 (List-Id), RFC 2369 (List-Unsubscribe, List-Post), and the
	// non-standard Precedence field.
	switch precedence {
	case "bulk", "list", "junk":
		return message.List, nil
	}
	for _, k := range []string{"List-Id", "List-Unsubscribe", "List-Post", "X-Mailing-List", "Mailing-List"} {
		if h.Has(k) {
			return message.List, nil
		}
	}
	return "", nil
}

func reportInput(h textproto.Header, m *message.Message, text string, rp *reportParts) *bounce.Input {
	in := &bounce.Input{
		Header: h.Get, Text: m.Text, DeliveryStatus: rp.dsn, OriginalHeaders: rp.original,
		FeedbackReport: rp.feedback, Sender: m.From.Address,
	}
	for _, a := range m.To {
		in.Recipients = append(in.Recipients, a.Address)
	}
	return in
}

// bounceReport turns the parser's report into the message's, control-free
// like every header-derived field.
func bounceReport(r *bounce.Report) *message.BounceReport {
	return &message.BounceReport{
		Recipient:         controlchar.Strip(r.Recipient),
		Status:            r.Status,
		Reason:            r.Reason,
		Diagnostic:        controlchar.Strip(r.Diagnostic),
		OriginalMessageID: controlchar.Strip(r.OriginalMessageID),
		FeedbackType:      controlchar.Strip(r.FeedbackType),
	}
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
