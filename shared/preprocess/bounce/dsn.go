package bounce

import (
	"encoding/json"
	"strings"

	"mailconnector/shared/lazyre"
)

// fields reads the groups of header-style fields of a delivery-status or
// feedback-report body (RFC 3464 section 2.1, RFC 5965 section 3): groups
// are separated by blank lines; a line starting with white space
// continues the field above. Names are lower case.
func fields(b []byte) []map[string]string {
	var groups []map[string]string
	cur := map[string]string{}
	last := ""
	flush := func() {
		if len(cur) > 0 {
			groups = append(groups, cur)
		}
		cur, last = map[string]string{}, ""
	}
	for _, l := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		if strings.TrimSpace(l) == "" {
			flush()
			continue
		}
		if (l[0] == ' ' || l[0] == '\t') && last != "" {
			cur[last] += " " + strings.TrimSpace(l)
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok || strings.ContainsAny(k, " \t") {
			last = ""
			continue
		}
		k = strings.ToLower(k)
		if _, have := cur[k]; !have {
			cur[k] = strings.TrimSpace(v)
		}
		last = k
	}
	flush()
	return groups
}

// typed strips the address or diagnostic type of a field value:
// "rfc822; a@example.org" → "a@example.org", "smtp; 550 …" → "550 …".
func typed(v string) string {
	if t, rest, ok := strings.Cut(v, ";"); ok && !strings.ContainsAny(strings.TrimSpace(t), " <@") {
		return strings.TrimSpace(rest)
	}
	return strings.TrimSpace(v)
}

// parseDSN reads a message/delivery-status body (RFC 3464 section 2.3):
// the per-recipient group of the first failed recipient, else of the
// first delayed one, else of the first one. Nil when b has no recipient.
func parseDSN(b []byte) *Report {
	if len(b) == 0 {
		return nil
	}
	var best map[string]string
	rank := 0
	for _, g := range fields(b) {
		rcpt := g["final-recipient"]
		if rcpt == "" {
			rcpt = g["original-recipient"]
		}
		if rcpt == "" {
			continue
		}
		r := 1
		switch strings.ToLower(strings.TrimSpace(g["action"])) {
		case "failed":
			r = 3
		case "delayed":
			r = 2
		}
		if strings.HasPrefix(strings.TrimSpace(g["status"]), "5") {
			r = max(r, 3)
		}
		if r > rank {
			best, rank = g, r
		}
	}
	if best == nil {
		return nil
	}
	rcpt := best["final-recipient"]
	if rcpt == "" || firstAddress(typed(rcpt)) == "" {
		rcpt = best["original-recipient"]
	}
	r := &Report{
		Recipient:  firstAddress(typed(rcpt)),
		Status:     statusIn(" " + best["status"] + " "),
		Diagnostic: typed(best["diagnostic-code"]),
	}
	switch strings.ToLower(strings.TrimSpace(best["action"])) {
	case "delivered", "relayed", "expanded":
		r.Reason = Delivered
	case "delayed":
		r.Reason = Delayed
	}
	return r
}

var dsnFieldLine = lazyre.New(`(?im)^(final-recipient|original-recipient|reporting-mta)\s*:`)

// dsnInText returns the delivery-status fields pasted into a text part
// (MTAs that send multipart/mixed, or text/plain, instead of a
// message/delivery-status part), from the first Reporting-MTA,
// Final-Recipient or Original-Recipient line on.
func dsnInText(text string) string {
	loc := dsnFieldLine.FindStringIndex(text)
	if loc == nil {
		return ""
	}
	return text[loc[0]:]
}

// sesNotification is the part of an Amazon SES bounce or complaint
// notification (as SNS delivers it by mail) that Parse reads.
type sesNotification struct {
	NotificationType string `json:"notificationType"`
	EventType        string `json:"eventType"`
	Bounce           struct {
		BounceType        string `json:"bounceType"`
		BounceSubType     string `json:"bounceSubType"`
		BouncedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
	} `json:"bounce"`
	Complaint struct {
		ComplainedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
		ComplaintFeedbackType string `json:"complaintFeedbackType"`
	} `json:"complaint"`
	Mail struct {
		MessageID     string `json:"messageId"`
		CommonHeaders struct {
			MessageID string `json:"messageId"`
		} `json:"commonHeaders"`
		Headers []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"headers"`
	} `json:"mail"`
}

// SES reports whether text is an Amazon SES notification and of which
// kind: "Bounce", "Complaint" or "" (neither).
func SES(text string) string {
	n := sesParse(text)
	if n == nil {
		return ""
	}
	kind := n.NotificationType
	if kind == "" {
		kind = n.EventType
	}
	switch kind {
	case "Bounce", "Complaint":
		return kind
	}
	return ""
}

func sesParse(text string) *sesNotification {
	t := strings.TrimSpace(text)
	if !strings.HasPrefix(t, "{") || !strings.Contains(t, "Type\"") {
		return nil
	}
	var n sesNotification
	if err := json.Unmarshal([]byte(t), &n); err != nil {
		// SNS mail notifications may carry text after the JSON object.
		dec := json.NewDecoder(strings.NewReader(t))
		if err := dec.Decode(&n); err != nil {
			return nil
		}
	}
	return &n
}

// parseSESJSON reads an Amazon SES bounce notification.
func parseSESJSON(text string) *Report {
	n := sesParse(text)
	if n == nil || (n.NotificationType != "Bounce" && n.EventType != "Bounce") || len(n.Bounce.BouncedRecipients) == 0 {
		return nil
	}
	b := n.Bounce.BouncedRecipients[0]
	r := &Report{
		Recipient:  firstAddress(b.EmailAddress),
		Status:     statusIn(" " + b.Status + " "),
		Diagnostic: typed(b.DiagnosticCode),
	}
	switch {
	case n.Bounce.BounceSubType == "MailboxFull":
		r.Reason = MailboxFull
	case n.Bounce.BounceSubType == "MessageTooLarge":
		r.Reason = MesgTooBig
	case n.Bounce.BounceSubType == "Suppressed" || n.Bounce.BounceSubType == "OnAccountSuppressionList":
		r.Reason = Suppressed
	case n.Bounce.BounceSubType == "ContentRejected":
		r.Reason = SpamDetected
	}
	r.OriginalMessageID = sesMessageID(n)
	return r
}

func sesMessageID(n *sesNotification) string {
	if id := strings.Trim(strings.TrimSpace(n.Mail.CommonHeaders.MessageID), "<>"); id != "" {
		return id
	}
	for _, h := range n.Mail.Headers {
		if strings.EqualFold(h.Name, "Message-ID") {
			return strings.Trim(strings.TrimSpace(h.Value), "<>")
		}
	}
	return ""
}

// ParseFeedback reads a feedback report (RFC 5965): the complaining
// recipient (Original-Rcpt-To), the Feedback-Type and the Message-ID of
// the reported message; also an Amazon SES complaint notification.
func ParseFeedback(in *Input) *Report {
	r := &Report{Reason: Feedback}
	if n := sesParse(in.Text); n != nil && (n.NotificationType == "Complaint" || n.EventType == "Complaint") {
		if len(n.Complaint.ComplainedRecipients) > 0 {
			r.Recipient = strings.ToLower(firstAddress(n.Complaint.ComplainedRecipients[0].EmailAddress))
		}
		r.FeedbackType = n.Complaint.ComplaintFeedbackType
		r.OriginalMessageID = sesMessageID(n)
		return r
	}
	report := in.FeedbackReport
	if len(report) == 0 {
		report = []byte(feedbackInText(in.Text))
	}
	for _, g := range fields(report) {
		if r.FeedbackType == "" {
			r.FeedbackType = strings.ToLower(g["feedback-type"])
		}
		if r.Recipient == "" {
			r.Recipient = strings.ToLower(firstAddress(g["original-rcpt-to"]))
		}
		if r.Diagnostic == "" && g["user-agent"] != "" {
			r.Diagnostic = oneLine("reported by "+g["user-agent"], 300)
		}
	}
	r.OriginalMessageID = messageIDIn(string(in.OriginalHeaders))
	if r.OriginalMessageID == "" {
		r.OriginalMessageID = messageIDIn(in.Text)
	}
	return r
}

var feedbackField = lazyre.New(`(?im)^feedback-type\s*:`)

func feedbackInText(text string) string {
	loc := feedbackField.FindStringIndex(text)
	if loc == nil {
		return ""
	}
	return text[loc[0]:]
}

// IsFeedbackText reports whether a text part holds the fields of a
// feedback report (an ARF sent with a wrong report-type or as text).
func IsFeedbackText(text string) bool {
	loc := feedbackField.FindStringIndex(text)
	if loc == nil {
		return false
	}
	g := fields([]byte(text[loc[0]:]))
	return len(g) > 0 && g[0]["feedback-type"] != "" && (g[0]["user-agent"] != "" || g[0]["version"] != "")
}

// IsDSNText reports whether a text part holds delivery-status fields: a
// Final-Recipient (or Original-Recipient) with an Action or a Status.
func IsDSNText(text string) bool {
	d := dsnInText(text)
	if d == "" {
		return false
	}
	for _, g := range fields([]byte(d)) {
		if (g["final-recipient"] != "" || g["original-recipient"] != "") && (g["action"] != "" || g["status"] != "") {
			return true
		}
	}
	return false
}
