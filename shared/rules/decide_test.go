package rules

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mailconnector/shared/event"
	"mailconnector/shared/ledger"
	"mailconnector/shared/message"
	"mailconnector/shared/request"
	"mailconnector/shared/store"
)

// TestAddressPartsRecipientsAndSizes covers the condition fields beyond
// TestConditionsAndOperators: the parts of address fields, recipients, and
// sizes with units.
func TestAddressPartsRecipientsAndSizes(t *testing.T) {
	tests := []conditionCase{
		{"from.address equals", `{field: from.address, op: equals, value: ann@customer.example}`, true},
		{"from.address ignores the name", `{field: from.address, op: contains, value: "Ann Example"}`, false},
		{"from.name equals", `{field: from.name, op: equals, value: "ann example"}`, true},
		{"from.name ignores the address", `{field: from.name, op: contains, value: "@"}`, false},
		{"from.domain equals", `{field: from.domain, op: equals, value: customer.example}`, true},
		{"from.domain in", `{field: from.domain, op: in, values: [a.example, CUSTOMER.example]}`, true},
		{"to.domain", `{field: to.domain, op: endsWith, value: helpdesk.example}`, true},
		{"cc.name", `{field: cc.name, op: startsWith, value: bo}`, true},
		{"replyTo.address absent", `{field: replyTo.address, op: regex, value: "."}`, false},
		{"not of an absent field", `{not: {field: replyTo, op: contains, value: ""}}`, true},
		{"recipients has a cc", `{field: recipients, op: equals, value: boss@customer.example}`, true},
		{"recipients has a to", `{field: recipients.address, op: equals, value: support@helpdesk.example}`, true},
		{"recipients other", `{field: recipients, op: equals, value: sales@helpdesk.example}`, false},
		{"size with unit over", `{field: size, op: greaterThan, value: 1KB}`, true},
		{"size with unit under", `{field: size, op: lessThan, value: 1KB}`, false},
		{"size exact", `{field: size, op: equals, value: "2048"}`, true},
		{"regex is case sensitive unless asked", `{field: subject, op: regex, value: "^printer"}`, false},
		{"equals ignores case", `{field: subject, op: equals, value: "PRINTER ON FIRE"}`, true},
		{"contains empty matches", `{field: subject, op: contains, value: ""}`, true},
		{"nested all any not", `{all: [{any: [{field: subject, op: contains, value: nope}, {field: from.domain, op: equals, value: customer.example}]}, {not: {field: dkim, op: equals, value: pass}}]}`, true},
	}
	checkConditions(t, tests)
}

// TestAuthenticationResultsTrust: only the topmost Authentication-Results
// header counts unless the job names its servers' authserv-ids, because a
// sender can write one of their own lower down.
func TestAuthenticationResultsTrust(t *testing.T) {
	headers := []string{
		"mx.helpdesk.example; spf=fail smtp.mailfrom=x.example; dkim=pass header.d=x.example; dkim=fail header.d=other.example",
		"forged.example; spf=pass; dmarc=pass",
	}
	tests := []struct {
		name, yaml, cond string
		want             bool
	}{
		{"topmost spf", "", `{field: spf, op: equals, value: fail}`, true},
		{"a lower header does not count", "", `{field: dmarc, op: equals, value: pass}`, false},
		{"absent method is none", "", `{field: dmarc, op: equals, value: none}`, true},
		{"two dkim results: either matches", "", `{field: dkim, op: equals, value: fail}`, true},
		{"two dkim results: pass", "", `{field: dkim, op: equals, value: pass}`, true},
		{"trusted id", "      trustedAuthServIds: [MX.helpdesk.example]\n", `{field: spf, op: equals, value: fail}`, true},
		{"untrusted id ignored", "      trustedAuthServIds: [mx.helpdesk.example]\n", `{field: dmarc, op: equals, value: pass}`, false},
		{"trusted lower header", "      trustedAuthServIds: [forged.example]\n", `{field: dmarc, op: equals, value: pass}`, true},
		{"nothing trusted is none", "      trustedAuthServIds: [other.example]\n", `{field: spf, op: equals, value: none}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := jobWith(t, "    processing:\n"+tt.yaml+"      statements:\n        - {name: hit, action: ignore, when: "+tt.cond+"}\n")
			m := msg(func(m *message.Message) { m.Headers = map[string][]string{"Authentication-Results": headers} })
			d, err := (&Engine{Lookup: lookup()}).Decide(context.Background(), j, m)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Statement == "hit"; got != tt.want {
				t.Errorf("got matched %v (%v), want %v", got, d.Why, tt.want)
			}
		})
	}
}

func TestTemplates(t *testing.T) {
	j := jobWith(t, `    processing:
      statements:
        - name: all templates
          action: create
          set:
            title: "{{ subject }} ({{from.domain}})"
            description: "{{text}} / {{date}} / {{messageId}}"
            requester: "{{replyTo}}"
            queue: "{{to}}"
            category: "{{cc}}"
            assignee: "{{from.name}}"
            custom.contract: "{{header:X-Contract}}"
            custom.none: "{{header:X-Missing}}"
`)
	m := msg(func(m *message.Message) {
		m.MessageID = "m1@customer.example"
		m.Date = time.Date(2026, 11, 22, 9, 30, 0, 0, time.FixedZone("CET", 3600))
		m.ReplyTo = []message.Address{{Name: "Desk", Address: "desk@customer.example"}}
		m.Headers = map[string][]string{"X-Contract": {"C-7"}}
	})
	d, err := (&Engine{Lookup: lookup()}).Decide(context.Background(), j, m)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"title":           "Printer on fire (customer.example)",
		"description":     "It smokes. / 2026-11-22T08:30:00Z / m1@customer.example",
		"requester":       "desk@customer.example",
		"queue":           "support@helpdesk.example",
		"category":        "boss@customer.example",
		"assignee":        "Ann Example",
		"custom.contract": "C-7",
		"custom.none":     "",
	}
	if diff := cmp.Diff(want, d.Fields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	r := NewRequest(j, m, d)
	if r.Title != want["title"] || r.Requester.Address != "desk@customer.example" || r.Custom["contract"] != "C-7" || r.Queue != want["queue"] {
		t.Errorf("request: got %+v", r)
	}
	if !contains(r.Participants, "desk@customer.example") || !contains(r.Participants, "ann@customer.example") {
		t.Errorf("participants: got %v, want the requester and the sender", r.Participants)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestStatementSemantics(t *testing.T) {
	tests := []struct {
		name, yaml string
		edit       func(m *message.Message)
		action     string
		statement  string
		fields     map[string]string
		reason     string
	}{
		{name: "first match wins", yaml: `
        - {name: one, action: create, set: {queue: One}, when: {field: subject, op: contains, value: printer}}
        - {name: two, action: create, set: {queue: Two}, when: {field: subject, op: contains, value: printer}}`,
			action: Create, statement: "one", fields: map[string]string{"queue": "One"}},
		{name: "continue gathers fields, a later match decides", yaml: `
        - {name: tag, action: create, continue: true, set: {priority: High, queue: Tag}}
        - {name: route, action: create, set: {queue: Printers}, when: {field: subject, op: contains, value: printer}}`,
			action: Create, statement: "route", fields: map[string]string{"priority": "High", "queue": "Printers"}},
		{name: "continue with nothing else matching keeps its action", yaml: `
        - {name: tag, action: create, continue: true, set: {priority: High}}
        - {name: never, action: reject, when: {field: subject, op: contains, value: nope}}`,
			action: Create, statement: "tag", fields: map[string]string{"priority": "High"}},
		{name: "stop ends evaluation, the defaults decide", yaml: `
        - {name: tag, action: create, continue: true, set: {priority: High}}
        - {name: halt, action: stop}
        - {name: never, action: reject}`,
			action: Create, statement: "halt", fields: map[string]string{"priority": "High"}},
		{name: "stop undoes an earlier continue's action", yaml: `
        - {name: maybe, action: reject, continue: true, reason: odd}
        - {name: halt, action: stop}`,
			action: Create, statement: "halt"},
		{name: "update without a thread is skipped", yaml: `
        - {name: replies, action: update}
        - {name: fallback, action: create, set: {queue: New}}`,
			action: Create, statement: "fallback", fields: map[string]string{"queue": "New"}},
		{name: "ignore with the default reason", yaml: `
        - {name: quiet, action: ignore}`,
			action: Ignore, statement: "quiet", reason: `ignored by statement "quiet"`},
		{name: "ignore with a reason", yaml: `
        - {name: quiet, action: ignore, reason: newsletter}`,
			action: Ignore, statement: "quiet", reason: "newsletter"},
		{name: "reject with the default reason", yaml: `
        - {action: reject}`,
			action: Reject, statement: "statement 1", reason: `rejected by statement "statement 1"`},
		{name: "no statement matches: default create", yaml: `
        - {name: never, action: reject, when: {field: subject, op: contains, value: nope}}`,
			action: Create, statement: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := jobWith(t, "    processing:\n      statements:"+tt.yaml+"\n")
			d, err := (&Engine{Lookup: lookup()}).Decide(context.Background(), j, msg(tt.edit))
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != tt.action || d.Statement != tt.statement || !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("got %s by %q (%q), want %s by %q (%q); why %v", d.Action, d.Statement, d.Reason, tt.action, tt.statement, tt.reason, d.Why)
			}
			if tt.fields != nil {
				if diff := cmp.Diff(tt.fields, d.Fields); diff != "" {
					t.Errorf("fields (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestReopen(t *testing.T) {
	reply := func(m *message.Message) { m.InReplyTo = []string{"notice-14@helpdesk.example"}; m.Headers = nil }
	tests := []struct {
		name, yaml string
		edit       func(m *message.Message)
		want       bool
	}{
		{"off by default", "", reply, false},
		{"job reopens", "    processing: {reopenClosed: true}\n", reply, true},
		{"statement reopens", "    processing:\n      statements: [{name: r, action: update, reopen: true}]\n", reply, true},
		{"statement keeps closed", "    processing:\n      reopenClosed: true\n      statements: [{name: r, action: update, reopen: false}]\n", reply, false},
		{"an auto-reply never reopens", "    processing: {reopenClosed: true}\n", func(m *message.Message) {
			reply(m)
			m.AutoGenerated = message.AutoReply
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := (&Engine{Lookup: lookup()}).Decide(context.Background(), jobWith(t, tt.yaml), msg(tt.edit))
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != Update || d.RequestID != "14" || d.Reopen != tt.want {
				t.Errorf("got %s of %q reopen %v, want update of 14 reopen %v (%v)", d.Action, d.RequestID, d.Reopen, tt.want, d.Why)
			}
		})
	}
}

// TestNoticesOfOurs: the Message-IDs of the connector's notices are
// recognised; an automatic answer to one is ignored, a person's reply
// threads through the index.
func TestNoticesOfOurs(t *testing.T) {
	j := jobWith(t, "    processing: {noticeMessageIdDomain: notices.helpdesk.example}\n")
	id := NoticeMessageID(j, "c-1", "drop-sender")
	if id != NoticeMessageID(j, "c-1", "drop-sender") || id == NoticeMessageID(j, "c-2", "drop-sender") || !strings.HasSuffix(id, "@notices.helpdesk.example") {
		t.Fatalf("NoticeMessageID: got %q, want a stable ID per conversation at the job's domain", id)
	}
	l := lookup()
	l.msgID[id] = "12"
	tests := []struct {
		name      string
		edit      func(m *message.Message)
		action    string
		requestID string
	}{
		{"out-of-office to a notice", func(m *message.Message) { m.InReplyTo = []string{id}; m.AutoGenerated = message.AutoReply }, Ignore, ""},
		{"bounce of a notice", func(m *message.Message) { m.References = []string{"x@y", id}; m.AutoGenerated = message.Bounce }, Ignore, ""},
		{"a person answers a notice", func(m *message.Message) { m.InReplyTo = []string{id}; m.Headers = nil }, Update, "12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := (&Engine{Lookup: l}).Decide(context.Background(), j, msg(tt.edit))
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != tt.action || d.RequestID != tt.requestID {
				t.Errorf("got %s %q, want %s %q (%v)", d.Action, d.RequestID, tt.action, tt.requestID, d.Why)
			}
		})
	}
}

func TestTokenFormats(t *testing.T) {
	tests := []struct {
		format, subject string
		want            int64
	}{
		{"[REQ-{number}]", "Re: [REQ-000123] x", 123},
		{"[REQ-{number}]", "re: [req-123] x", 123},
		{"[REQ-{number}]", "REQ-123 without brackets", 0},
		{"Ticket#{number}", "AW: Ticket#0042 Drucker", 42},
		{"(#{number})", "Fwd: (#7) (#8)", 7},
	}
	for _, tt := range tests {
		t.Run(tt.format+" "+tt.subject, func(t *testing.T) {
			var got int64
			if sm := TokenPattern(tt.format).FindStringSubmatch(tt.subject); sm != nil {
				for _, c := range sm[1] {
					got = got*10 + int64(c-'0')
				}
			}
			if got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
	if got := Token("Ticket#{number}", 42); got != "Ticket#000042" {
		t.Errorf("Token: got %q, want Ticket#000042", got)
	}
}

func TestEventCarriesTheRequest(t *testing.T) {
	j := jobWith(t, "")
	m := msg(func(m *message.Message) {
		m.MessageID = "m@x"
		m.VisibleText = strings.Repeat("é", event.MaxText)
		m.Attachments = []message.Attachment{{Filename: "a.pdf", ContentType: "application/pdf", Size: 10, BlobKey: "att/support/k/1"}, {Filename: "x.exe", Dropped: "blocked extension"}}
	})
	r := request.Request{ID: "5", Number: 5, Title: "Printer on fire", Status: request.Open, Requester: m.From, Priority: "High"}
	conv := request.Conversation{ID: "c-5"}
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	e := ledger.Entry{JobID: "support", Key: "imap/INBOX/1/5", NormKey: "norm/support/k"}
	tests := []struct {
		name string
		d    Decision
		o    store.Outcome
		typ  string
	}{
		{"created", Decision{Action: Create}, store.Outcome{NewRequest: &r, Conversation: &conv}, event.RequestCreated},
		{"added", Decision{Action: Update, ThreadedBy: "In-Reply-To", Reopen: true}, store.Outcome{UpdateRequest: &r, Conversation: &conv}, event.ConversationAdded},
		{"rejected", Decision{Action: Reject, Reason: "spam"}, store.Outcome{}, event.MessageRejected},
		{"ignored", Decision{Action: Ignore, Reason: "newsletter"}, store.Outcome{}, event.MessageIgnored},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := Event(j, e, m, tt.d, tt.o, now)
			if ev.Type != tt.typ || ev.LedgerKey != e.Key || ev.MessageID != "m@x" || !ev.Time.Equal(now) {
				t.Fatalf("got %+v", ev)
			}
			withRequest := tt.o.Conversation != nil
			if withRequest != (ev.Request != nil && ev.RequestNumber == 5 && ev.ConversationID == "c-5" && len(ev.Attachments) == 2 && ev.NormKey == e.NormKey) {
				t.Errorf("request fields: got %+v", ev)
			}
			if withRequest && (len(ev.Text) > event.MaxText || !ev.TextTruncated || ev.Request.Priority != "High") {
				t.Errorf("text %d bytes, truncated %v, request %+v", len(ev.Text), ev.TextTruncated, ev.Request)
			}
			if !withRequest && ev.Reason == "" {
				t.Error("no reason")
			}
			if tt.typ == event.ConversationAdded && (!ev.Reopened || ev.ThreadedBy != "In-Reply-To") {
				t.Errorf("got reopened %v threaded by %q", ev.Reopened, ev.ThreadedBy)
			}
		})
	}
}
