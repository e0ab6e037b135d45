// Package bounce reads delivery status notifications and feedback
// reports: the failed recipient, the status code (RFC 3463), the
// diagnostic, a reason from a small vocabulary (reason.go) and the
// Message-ID of the returned original.
//
// It reads the standard formats — RFC 3464 message/delivery-status
// (also inside a multipart/report with a wrong or missing report-type, or
// pasted into a text part), RFC 5965 message/feedback-report (ARF), the
// Amazon SES JSON notification — and the human-readable text of the
// non-standard formats of the common MTAs and providers (mta.go):
// Postfix, Sendmail, Exim, qmail, Courier, OpenSMTPD, Exchange 2003–2019
// and Office 365, Outlook.com, Gmail, Yahoo, Amazon SES, SendGrid,
// Mailgun, GMX, KDDI/au, DoCoMo, EZweb, McAfee, Trend Micro, MessageLabs,
// Barracuda, DragonFly Mail Agent, Apache James, IMail, Domino, mFilter.
//
// It is written by hand: no bounce parser for Go (go-sisimai) is served by
// the module proxy this project builds with. Whether a message is a
// bounce at all is decided by the caller (package preprocess); Parse only
// reads what one says.
package bounce

import (
	"strings"

	"mailconnector/shared/lazyre"
)

// Report is what a bounce or feedback report says.
type Report struct {
	// Recipient is the address that could not be delivered to (for a
	// feedback report: the recipient who complained).
	Recipient string
	// Status is the RFC 3463 enhanced status code, e.g. "5.1.1"; "" when
	// the report gives none.
	Status string
	// Reason is one word of the vocabulary in reason.go.
	Reason string
	// Diagnostic is the remote server's answer or the MTA's explanation,
	// one line.
	Diagnostic string
	// OriginalMessageID is the Message-ID of the returned message,
	// without angle brackets.
	OriginalMessageID string
	// FeedbackType is the Feedback-Type of a feedback report (RFC 5965
	// section 3.1: abuse, fraud, virus, other, not-spam...).
	FeedbackType string
}

// Input is what Parse reads of one message.
type Input struct {
	// Header returns the first value of a header field of the message.
	Header func(name string) string
	// Text is the message's text body.
	Text string
	// DeliveryStatus is the body of a message/delivery-status part.
	DeliveryStatus []byte
	// OriginalHeaders is the start of the returned message: a
	// text/rfc822-headers part or the head of a message/rfc822 part.
	OriginalHeaders []byte
	// FeedbackReport is the body of a message/feedback-report part.
	FeedbackReport []byte
	// Sender and Recipients are the bounce's own From and To addresses,
	// which are never the failed recipient.
	Sender     string
	Recipients []string
}

func (in *Input) header(name string) string {
	if in.Header == nil {
		return ""
	}
	return strings.TrimSpace(in.Header(name))
}

// maxText is how much of the text Parse reads.
const maxText = 32 << 10

// Parse reads a bounce. It never fails: what it cannot find stays "".
func Parse(in *Input) *Report {
	text := in.Text
	if len(text) > maxText {
		text = text[:maxText]
	}
	r := &Report{}
	if ses := parseSESJSON(text); ses != nil {
		r = ses
	}
	if r.Recipient == "" {
		if ds := parseDSN(in.DeliveryStatus); ds != nil {
			merge(r, ds)
		} else if ds := parseDSN([]byte(dsnInText(text))); ds != nil {
			merge(r, ds)
		}
	}
	explanation, original := splitOriginal(text)
	if r.Recipient == "" {
		if f := firstAddress(in.header("X-Failed-Recipients")); f != "" {
			r.Recipient = f
		}
	}
	t := readText(explanation, in)
	if r.Recipient == "" {
		r.Recipient = t.recipient
	}
	if r.Diagnostic == "" {
		r.Diagnostic = t.diagnostic
	}
	if r.Status == "" || strings.HasSuffix(r.Status, ".0.0") {
		if s := statusIn(r.Diagnostic); s != "" {
			r.Status = s
		} else if r.Status == "" {
			r.Status = t.status
		}
	}
	if r.Reason == "" {
		r.Reason = Classify(r.Status, r.Diagnostic+"\n"+explanation)
	}
	if r.OriginalMessageID == "" {
		r.OriginalMessageID = messageIDIn(string(in.OriginalHeaders))
	}
	if r.OriginalMessageID == "" {
		r.OriginalMessageID = messageIDIn(original)
	}
	if r.OriginalMessageID == "" {
		r.OriginalMessageID = messageIDIn(text)
	}
	r.Diagnostic = oneLine(r.Diagnostic, 300)
	r.Recipient = strings.Trim(strings.ToLower(r.Recipient), ".'`\"")
	return r
}

// merge fills the empty fields of r from o.
func merge(r, o *Report) {
	if r.Recipient == "" {
		r.Recipient = o.Recipient
	}
	if r.Status == "" {
		r.Status = o.Status
	}
	if r.Diagnostic == "" {
		r.Diagnostic = o.Diagnostic
	}
	if r.Reason == "" {
		r.Reason = o.Reason
	}
	if r.OriginalMessageID == "" {
		r.OriginalMessageID = o.OriginalMessageID
	}
}

var messageIDField = lazyre.New(`(?im)^\s*(?:message-id|x-original-message-id)\s*:\s*(?:\r?\n[ \t]+)?<?([^<>\s]+@[^<>\s]+?)>?\s*$`)

// messageIDIn returns the first Message-ID header field value in s.
func messageIDIn(s string) string {
	if m := messageIDField.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

// originalMarker matches the lines above the copy of the returned
// message that MTAs append to their text.
var originalMarker = lazyre.New(`(?i)^\s*(-{2,}\s*)?(below this line is a copy of the message|this is a copy of the message|original message follows|message headers follow|below is a copy of the original message|the original message( headers)? (is|are) (as follows|attached|below|following)|the original message follows|original message headers|------ *original message *------|-{3,} *(the )?(original|returned) message|headers of the original message|unsent message below|a copy of the original message follows|原文|元のメッセージ)`)

// splitOriginal splits an MTA's text at the copy of the original message.
func splitOriginal(text string) (explanation, original string) {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if originalMarker.MatchString(l) {
			return strings.Join(lines[:i], "\n"), strings.Join(lines[i+1:], "\n")
		}
	}
	return text, ""
}

var addressRe = lazyre.New(`[A-Za-z0-9._%+'=/!#$&*?^{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+`)

func firstAddress(s string) string {
	return strings.Trim(addressRe.FindString(s), ".'`")
}

// statusRe matches an RFC 3463 enhanced status code, not inside an IP
// address or a version number.
var statusRe = lazyre.New(`(?:^|[^\d.])([245]\.\d{1,3}\.\d{1,3})(?:[^\d.]|\.(?:\s|$)|$)`)

func statusIn(s string) string {
	if m := statusRe.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

// oneLine collapses white space and cuts s to at most n bytes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n]
		for len(s) > 0 && s[len(s)-1]&0xC0 == 0x80 {
			s = s[:len(s)-1]
		}
		if len(s) > 0 && s[len(s)-1] >= 0xC0 {
			s = s[:len(s)-1]
		}
	}
	return s
}
