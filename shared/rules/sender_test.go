package rules

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/event"
	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/message"
	"mailconnector/shared/preprocess"
)

// parsed runs a raw message through preprocessing, as the pipeline does.
func parsed(tb testing.TB, raw string) *message.Message {
	tb.Helper()
	m, err := preprocess.Process(context.Background(), strings.NewReader(strings.ReplaceAll(raw, "\n", "\r\n")), nil)
	if err != nil {
		tb.Fatalf("preprocess: %v", err)
	}
	return m
}

// TestDisplayNameImpersonation feeds From fields whose display name is, or
// holds, an allowed address while the real addr-spec is a stranger's: the
// allow-list, the per-sender limit, the participant check and address
// conditions all see the stranger.
func TestDisplayNameImpersonation(t *testing.T) {
	froms := []struct {
		name string
		from string
	}{
		{name: "quoted", from: `"boss@corp.example" <attacker@evil.example>`},
		{name: "unquoted", from: `boss@corp.example <attacker@evil.example>`},
		{name: "unquoted with words", from: `Boss boss@corp.example via mail <attacker@evil.example>`},
		{name: "comment before", from: `(boss@corp.example) <attacker@evil.example>`},
		{name: "comment after", from: `attacker@evil.example (boss@corp.example)`},
		{name: "comment after bracket", from: `<attacker@evil.example> (boss@corp.example)`},
		{name: "quoted with brackets", from: `"Boss <boss@corp.example>" <attacker@evil.example>`},
		{name: "unquoted with brackets", from: `Boss <boss@corp.example> <attacker@evil.example>`},
		{name: "encoded word", from: `=?utf-8?q?boss=40corp=2Eexample?= <attacker@evil.example>`},
		{name: "encoded word base64", from: `=?UTF-8?B?Ym9zc0Bjb3JwLmV4YW1wbGU=?= <attacker@evil.example>`},
		{name: "encoded word with brackets", from: `=?utf-8?q?Boss_=3Cboss@corp.example=3E?= <attacker@evil.example>`},
		{name: "group", from: `corp: "boss@corp.example" <attacker@evil.example>;`},
		{name: "missing brackets", from: `"boss@corp.example" attacker@evil.example`},
		{name: "unbalanced quote", from: `"boss@corp.example <attacker@evil.example>`},
		{name: "fullwidth at", from: `"boss＠corp.example" <attacker@evil.example>`},
		{name: "uppercase", from: `"BOSS@CORP.EXAMPLE" <attacker@evil.example>`},
	}
	j := jobWith(t, "    processing:\n      allowNewRequestsFrom: [\"boss@corp.example\"]\n")
	for _, tt := range froms {
		t.Run(tt.name, func(t *testing.T) {
			m := parsed(t, "From: "+tt.from+"\nTo: support@helpdesk.example\nSubject: pay this\nMessage-ID: <x1@evil.example>\n\nPlease pay.\n")
			if got, want := strings.ToLower(m.From.Address), "attacker@evil.example"; got != want {
				t.Errorf("From.Address: got %q, want %q", got, want)
			}
			if m.From.Name != "" && strings.Contains(strings.ToLower(m.From.Address), "corp.example") {
				t.Errorf("From: got %+v, the display name's address became the sender", m.From)
			}
			if !m.FromNameLooksLikeAddress {
				t.Errorf("FromNameLooksLikeAddress: got false, want true (From %+v)", m.From)
			}
			d, err := (&Engine{Lookup: lookup()}).Decide(context.Background(), j, m)
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != Reject {
				t.Errorf("allow-list: got %s (%s), want reject", d.Action, d.Reason)
			}
			ev := evaluator{m: m}
			for _, c := range []job.Condition{
				{Field: "from", Op: "equals", Value: "boss@corp.example"},
				{Field: "from", Op: "equals", Value: "*@corp.example"},
				{Field: "from", Op: "in", Values: []string{"*@corp.example"}},
				{Field: "from.address", Op: "endsWith", Value: "corp.example"},
				{Field: "from.domain", Op: "equals", Value: "corp.example"},
			} {
				if ev.match(&c) {
					t.Errorf("condition %s %s %q%v: got match, want none", c.Field, c.Op, c.Value, c.Values)
				}
			}
			c := job.Condition{Field: "from.nameLooksLikeAddress", Op: "equals", Value: "true"}
			if !ev.match(&c) {
				t.Errorf("from.nameLooksLikeAddress: got no match, want a match")
			}
		})
	}
}

// TestHonestDisplayNames keeps ordinary names, and a name that repeats
// the sender's own address, free of the impersonation flag.
func TestHonestDisplayNames(t *testing.T) {
	for _, tt := range []struct {
		name, from, addr, display string
	}{
		{name: "plain", from: `Anna Schmidt <anna@corp.example>`, addr: "anna@corp.example", display: "Anna Schmidt"},
		{name: "own address quoted", from: `"anna@corp.example" <anna@corp.example>`, addr: "anna@corp.example", display: "anna@corp.example"},
		{name: "own address other case", from: `"Anna@Corp.Example" <anna@corp.example>`, addr: "anna@corp.example", display: "Anna@Corp.Example"},
		{name: "bare", from: `anna@corp.example`, addr: "anna@corp.example"},
		{name: "legacy comment name", from: `anna@corp.example (Anna Schmidt)`, addr: "anna@corp.example", display: "Anna Schmidt"},
		{name: "encoded", from: `=?utf-8?q?=C3=89lodie_Dupont?= <elodie@corp.example>`, addr: "elodie@corp.example", display: "Élodie Dupont"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := parsed(t, "From: "+tt.from+"\nTo: support@helpdesk.example\nSubject: s\n\nbody\n")
			if got := (message.Address{Name: m.From.Name, Address: m.From.Address}); got != (message.Address{Name: tt.display, Address: tt.addr}) {
				t.Errorf("From: got %+v, want {%s %s}", got, tt.display, tt.addr)
			}
			if m.FromNameLooksLikeAddress || len(m.Suspicious) > 0 {
				t.Errorf("flags: got nameLooksLikeAddress %v, suspicious %q; want none", m.FromNameLooksLikeAddress, m.Suspicious)
			}
			j := jobWith(t, "    processing:\n      allowNewRequestsFrom: [\"*@corp.example\"]\n")
			d, err := (&Engine{Lookup: lookup()}).Decide(context.Background(), j, m)
			if err != nil || d.Action != Create {
				t.Errorf("allow-list: got %s (%s), %v; want create", d.Action, d.Reason, err)
			}
		})
	}
}

// TestUntrustedSender covers the senders the allow-list never admits: a
// message with two From fields, several bare addresses in one, and an
// allowed address whose domain fails DMARC at a trusted server.
func TestUntrustedSender(t *testing.T) {
	for _, tt := range []struct {
		name, header string
		suspicious   bool
	}{
		{name: "two From fields", header: "From: boss@corp.example\nFrom: attacker@evil.example\n", suspicious: true},
		{name: "two From fields, allowed last", header: "From: attacker@evil.example\nFrom: boss@corp.example\n", suspicious: true},
		{name: "two mailboxes in one From", header: "From: boss@corp.example, attacker@evil.example\n", suspicious: true},
		{name: "two bare addresses", header: "From: boss@corp.example attacker@evil.example\n", suspicious: true},
		{name: "DMARC fails", header: "Authentication-Results: mx.helpdesk.example; spf=fail smtp.mailfrom=corp.example; dmarc=fail header.from=corp.example\nFrom: boss@corp.example\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := parsed(t, tt.header+"To: support@helpdesk.example\nSubject: pay this\n\nPlease pay.\n")
			if got := len(m.Suspicious) > 0; got != tt.suspicious {
				t.Errorf("Suspicious: got %q, want suspicious %v", m.Suspicious, tt.suspicious)
			}
			j := jobWith(t, "    processing:\n      allowNewRequestsFrom: [\"*@corp.example\"]\n")
			d, err := (&Engine{Lookup: lookup()}).Decide(context.Background(), j, m)
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != Reject {
				t.Errorf("allow-list: got %s (%s), want reject", d.Action, d.Reason)
			}
			if tt.suspicious {
				c := job.Condition{Field: "suspicious", Op: "equals", Value: "true"}
				if !(evaluator{m: m}).match(&c) {
					t.Errorf("suspicious condition: got no match, want a match")
				}
			}
		})
	}
}

// TestSenderConditionsLoad checks that the sender conditions pass the
// jobs-file validation.
func TestSenderConditionsLoad(t *testing.T) {
	for _, tt := range []struct{ name, when string }{
		{name: "nameLooksLikeAddress", when: `{field: from.nameLooksLikeAddress, op: equals, value: "true"}`},
		{name: "suspicious", when: `{field: suspicious, op: equals, value: "true"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			yaml := "jobs:\n  - id: a\n    server: {protocol: imap, host: h, security: tls, auth: {secret: s}}\n    processing:\n      statements:\n        - {name: x, action: reject, when: " + tt.when + "}\n"
			if _, err := job.Parse([]byte(yaml)); err != nil {
				t.Errorf("load: got %v, want no error", err)
			}
		})
	}
}

// TestStoredAndPublishedValuesAreControlFree runs a message whose Subject
// carries terminal escapes and whose From name carries CR/LF (as encoded
// words, which survive header folding) through preprocessing and the
// rules stage: the request, the conversation and the event hold none.
func TestStoredAndPublishedValuesAreControlFree(t *testing.T) {
	e := newStageEnv(t, "", nil)
	pub := &eventBox{}
	f, err := job.Parse([]byte("jobs:\n  - id: support\n    server: {protocol: imap, host: h, security: tls, auth: {secret: s}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	e.stage = NewStage(StageOptions{Store: e.st, Blobs: e.blobs, Jobs: f, Publisher: pub, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	raw := "From: =?utf-8?q?Evil=0D=0ABcc:_x@y?= <evil@example.org>\nTo: support@helpdesk.example\n" +
		"Subject: =?utf-8?q?hi_=1B]0;title=07=1B[2Jthere?=\nMessage-ID: <ctl@example.org>\n" +
		"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhello\n" +
		"--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename*=utf-8''r%1B%5B2J%0D%0A.pdf\n\n%PDF\n--b--\n"
	m := parsed(t, raw)
	e.record("k1", ledger.Preprocessed, *m)
	if err := e.handle("k1"); err != nil {
		t.Fatalf("handle: %v", err)
	}
	ctx := context.Background()
	r, err := e.st.RequestByNumber(ctx, 1)
	if err != nil {
		t.Fatalf("request 1: %v", err)
	}
	convs, err := e.st.Conversations(ctx, r.ID)
	if err != nil || len(convs) != 1 {
		t.Fatalf("conversations: got %d, %v; want 1", len(convs), err)
	}
	values := map[string]string{"title": r.Title, "requester": r.Requester.String(), "conversation from": convs[0].From.String(), "conversation subject": convs[0].Subject}
	for i, a := range convs[0].Attachments {
		values[fmt.Sprintf("attachment %d", i)] = a.Filename
	}
	var payloads [][]byte
	for _, ev := range pub.events {
		b, _ := json.Marshal(ev)
		payloads = append(payloads, b)
	}
	out, err := e.st.ClaimOutbox(ctx, time.Now().Add(time.Hour), time.Now().Add(2*time.Hour), 10)
	for _, o := range out {
		payloads = append(payloads, o.Payload)
	}
	if err != nil || len(payloads) == 0 {
		t.Fatalf("events: got none (%v), want the event", err)
	}
	for i, p := range payloads {
		var ev any
		if err := json.Unmarshal(p, &ev); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		eventStrings(ev, fmt.Sprintf("event %d", i), values)
	}
	if got, want := r.Requester, (message.Address{Name: "Evil Bcc: x@y", Address: "evil@example.org"}); got != want {
		t.Errorf("requester: got %+v, want %+v", got, want)
	}
	if got, want := r.Title, "hi there"; got != want {
		t.Errorf("title: got %q, want %q", got, want)
	}
	for name, v := range values {
		for _, c := range v {
			if c < 0x20 || c == 0x7f || c >= 0x80 && c <= 0x9f {
				t.Errorf("%s: got %U in %q, want no control character", name, c, v)
				break
			}
		}
	}
}

// eventStrings collects the string values of a decoded JSON event, but
// bodies (text, description, html), which are multi-line by nature.
func eventStrings(v any, path string, into map[string]string) {
	switch v := v.(type) {
	case string:
		into[path] = v
	case []any:
		for i, e := range v {
			eventStrings(e, fmt.Sprintf("%s[%d]", path, i), into)
		}
	case map[string]any:
		for k, e := range v {
			switch strings.ToLower(k) {
			case "text", "description", "html", "visibletext":
				continue
			}
			eventStrings(e, path+"."+k, into)
		}
	}
}

// eventBox is a Publisher that keeps what it is given.
type eventBox struct{ events []event.Event }

func (b *eventBox) Publish(_ context.Context, e event.Event) error {
	b.events = append(b.events, e)
	return nil
}
