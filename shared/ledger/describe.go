package ledger

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"mailconnector/shared/controlchar"
)

// Bounds of what an entry keeps to describe its message: a ledger entry
// stays small whatever the message's header holds.
const (
	MaxSubject  = 200 // runes of the subject
	MaxName     = 100 // runes of the sender's display name
	MaxAddress  = 254 // bytes of the sender's address (RFC 5321 section 4.5.3.1.3)
	MaxWhy      = 20  // steps of a decision kept
	MaxWhyLine  = 300 // runes of each step
	ellipsis    = "…"
	StatusError = "error-folder" // the status of an entry whose message sits in the error folder
)

// Statuses are the values Entry.Is accepts: every Outcome, and
// StatusError.
var Statuses = []string{
	string(OutcomeCreated), string(OutcomeUpdated), string(OutcomeIgnored), string(OutcomeRejected),
	string(OutcomeFailed), string(OutcomeDuplicate), StatusError, string(OutcomePending),
}

// CheckStatus returns an error naming the accepted values when s is not one.
func CheckStatus(s string) error {
	for _, v := range Statuses {
		if s == v {
			return nil
		}
	}
	return fmt.Errorf("status %q: want one of %s", s, strings.Join(Statuses, ", "))
}

// Is reports whether e has the status s: its Outcome, or StatusError
// while its message sits in the error folder. "" matches every entry.
func (e Entry) Is(s string) bool {
	switch s {
	case "":
		return true
	case StatusError:
		return e.InErrorFolder
	}
	return string(e.Outcome()) == s
}

// Describe sets what an administrator finds the message by, from its
// header: each value control-free (a terminal, a notice or an event may
// show it) and bounded.
func (e *Entry) Describe(fromAddress, fromName, subject string, date time.Time, class string) {
	e.From = cut(controlchar.Strip(fromAddress), MaxAddress, false)
	e.FromName = cut(controlchar.Strip(fromName), MaxName, true)
	e.Subject = cut(controlchar.Strip(subject), MaxSubject, true)
	e.Date = date
	e.Class = controlchar.Strip(class)
}

// Decided records the processing statements' decision: the statement that
// matched and the steps of its reasoning, control-free and bounded.
func (e *Entry) Decided(statement string, why []string) {
	e.Statement = cut(controlchar.Strip(statement), MaxWhyLine, true)
	e.Why = nil
	for i, w := range why {
		if i == MaxWhy {
			e.Why = append(e.Why, fmt.Sprintf("(%d more steps)", len(why)-MaxWhy))
			break
		}
		e.Why = append(e.Why, cut(controlchar.Strip(w), MaxWhyLine, true))
	}
}

// cut bounds s to max runes (bytes when !runes), marking a cut with an
// ellipsis.
func cut(s string, max int, runes bool) string {
	if !runes {
		if len(s) <= max {
			return s
		}
		return strings.ToValidUTF8(s[:max], "")
	}
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return s[:i] + ellipsis
		}
		n++
	}
	return s
}
