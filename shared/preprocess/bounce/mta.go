package bounce

import (
	"strings"

	"mailconnector/shared/lazyre"
)

// textFinding is what the human-readable text of a bounce says.
type textFinding struct {
	recipient, status, diagnostic string
}

// recipientPatterns find the failed recipient in the sentences MTAs
// write, most specific first. Group 1 is (or holds) the address.
var recipientPatterns = []*lazyre.Regexp{
	// Office 365, Outlook.com: "Your message to x@y couldn't be delivered."
	lazyre.New(`(?i)your message to\s+<?(\S+@\S+?)>?\s+(couldn.t|could not|can.t|cannot|wasn.t|was not) be delivered`),
	// Gmail: "Your message wasn't delivered to x@y because"
	lazyre.New(`(?i)(?:wasn.t|was not|could not be|couldn.t be|cannot be|has not been|not) delivered to\s*:?\s*<?([^\s<>]+@[^\s<>]+?)>?[\s.,:]`),
	// KDDI/au: "Could not be delivered to: <x@y>"; Trend Micro "Unable to deliver message to <x@y>"
	lazyre.New(`(?i)(?:unable to deliver (?:the )?message to|delivery to|deliver(?:y|ing)? to|error delivering your mail to|message for)\s*:?\s*<?([^\s<>]+@[^\s<>]+?)>?[\s.,:]`),
	// IMail: "Unknown user: x@y"
	lazyre.New(`(?i)^\s*(?:unknown user|user unknown|invalid recipient|no such user|bad address)\s*:\s*<?([^\s<>]+@[^\s<>]+?)>?\s*$`),
	// Domino: "User Name (x@y) not listed in Domino Directory"
	lazyre.New(`(?i)\(([^\s()]+@[^\s()]+)\) not listed`),
	// Sendmail, McAfee, Trend Micro transcripts: "RCPT TO:<x@y>"
	lazyre.New(`(?i)rcpt to:\s*<([^\s<>]+@[^\s<>]+)>`),
	// Postfix, qmail, Yahoo, OpenSMTPD: "<x@y>: …" or "x@y: …" at a line start.
	lazyre.New(`(?m)^\s*"?<?([^\s<>":]+@[^\s<>":]+?)>?"?\s*:(?:\s|$)`),
}

// listIntro matches the sentences above a list of failed addresses:
// Exim "The following address(es) failed:", Exchange "Delivery has failed
// to these recipients or groups:", Sendmail "----- The following
// addresses had permanent fatal errors -----", Amazon SES, James, GMX,
// Domino "was not delivered to:".
var listIntro = lazyre.New(`(?i)(following (address(es|\(es\))?|recipients?(\(s\))?)( had| has| have)?.{0,40}(failed|errors|problems|cannot be reached|could not be delivered|not be delivered|undeliverable|:)|failed to these recipients|failed recipient\(?s?\)?\s*:|could not be delivered to|was not delivered to|recipients? (failed|rejected)|following recipients?:|to the following (address|recipient)|cannot be delivered:|not delivered to:|delivery failed to|could not deliver to|an error occurred while trying to deliver the mail to)`)

// replyCode matches an SMTP reply code opening a line or a quoted answer:
// "550 5.1.1 …", "550-5.1.1 …", "#550 5.1.1", "said: 550 …".
var replyCode = lazyre.New(`(?:^|[\s:#(<'"])([45][0-5]\d)[ -]`)

// readText reads an MTA's explanation: the failed recipient, the status
// code and the line of the diagnostic.
func readText(explanation string, in *Input) textFinding {
	var f textFinding
	lines := strings.Split(explanation, "\n")
	skip := map[string]bool{}
	for _, a := range append([]string{in.Sender}, in.Recipients...) {
		if a != "" {
			skip[strings.ToLower(a)] = true
		}
	}
	ok := func(a string) bool {
		a = strings.ToLower(strings.Trim(a, ".,;:<>\"'()[]"))
		local, _, _ := strings.Cut(a, "@")
		return a != "" && strings.Contains(a, "@") && !skip[a] &&
			local != "mailer-daemon" && local != "postmaster" && !strings.HasPrefix(local, "microsoftexchange")
	}
	f.recipient = failedRecipient(lines, explanation, ok)
	f.diagnostic, f.status = diagnosticLine(lines)
	return f
}

// failedRecipient returns the first address ok accepts: in a list below
// an introduction, else in the sentences MTAs write, else anywhere outside
// the header fields of the original; "" when there is none.
func failedRecipient(lines []string, explanation string, ok func(string) bool) string {
	for i, l := range lines {
		if !listIntro.MatchString(l) {
			continue
		}
		if a := firstAddress(l[listIntro.FindStringIndex(l)[1]:]); a != "" && ok(a) {
			return a
		}
		for k := i + 1; k < len(lines) && k <= i+6; k++ {
			if a := firstAddress(lines[k]); a != "" && ok(a) {
				return a
			}
		}
	}
	for _, re := range recipientPatterns {
		for _, m := range re.FindAllStringSubmatch(explanation, 8) {
			if a := firstAddress(m[1]); a != "" && ok(a) {
				return a
			}
		}
	}
	for _, l := range lines {
		if headerish.MatchString(l) {
			continue
		}
		for _, a := range addressRe.FindAllString(l, 4) {
			if ok(a) {
				return strings.Trim(a, ".")
			}
		}
	}
	return ""
}

// leadingAddress is the "<x@example.org>: " a diagnostic line of Postfix
// or qmail starts with.
var leadingAddress = lazyre.New(`^"?<?[^\s<>"]+@[^\s<>"]+?>?"?:\s*`)

// headerish matches header lines that name the original's own addresses.
var headerish = lazyre.New(`(?i)^\s*(from|to|cc|sender|return-path|reply-to|received|message-id|generating server|reporting-mta|received-from-mta|x-[a-z-]+)\s*:`)

// diagnosticLine returns the line with the receiving server's answer (an
// SMTP reply code or an enhanced status code), with the lines that
// continue it, and the status code in it; else the first line that names
// a reason.
func diagnosticLine(lines []string) (string, string) {
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, ">>>") || headerish.MatchString(l) {
			continue
		}
		status := statusIn(" " + t + " ")
		if status == "" && !replyCode.MatchString(t) {
			continue
		}
		diag := leadingAddress.ReplaceAllString(strings.TrimLeft(t, "# "), "")
		// Continuation lines: indented, not blank, not a new address line.
		for k := i + 1; k < len(lines) && k <= i+3; k++ {
			n := lines[k]
			if strings.TrimSpace(n) == "" || !(strings.HasPrefix(n, " ") || strings.HasPrefix(n, "\t")) || replyCode.MatchString(strings.TrimSpace(n)) {
				break
			}
			diag += " " + strings.TrimSpace(n)
		}
		if status == "" {
			status = statusIn(" " + diag + " ")
		}
		if status == "" {
			if m := replyCode.FindStringSubmatch(t); m != nil {
				status = m[1][:1] + ".0.0"
			}
		}
		return diag, status
	}
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || headerish.MatchString(l) {
			continue
		}
		for _, rt := range reasonText {
			if rt.re.MatchString(t) && rt.reason != Policy && rt.reason != Expired {
				return t, ""
			}
		}
	}
	return "", ""
}
