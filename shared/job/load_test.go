package job

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestExampleJobsFileLoads(t *testing.T) {
	f, err := LoadFile("../../events/jobs.example.yaml")
	if err != nil {
		t.Fatalf("load example: %v", err)
	}
	if got, want := len(f.Jobs), 2; got != want {
		t.Fatalf("got %d jobs, want %d", got, want)
	}
	j, ok := f.Job("support")
	if !ok {
		t.Fatal("job support not found")
	}
	if !j.Server.VerifyCertificates() {
		t.Error("got rejectInvalidCertificates false, want true")
	}
	if got, want := j.Incoming.OnError.StopAfter, 20; got != want {
		t.Errorf("got stopAfter %d, want %d", got, want)
	}
	if got, want := int64(j.Attachments.MaxSize), int64(25<<20); got != want {
		t.Errorf("got maxSize %d, want %d", got, want)
	}
	b, _ := f.Job("billing")
	if b.IsEnabled() {
		t.Error("billing: got enabled, want disabled")
	}
	if got, want := b.Server.Port, 110; got != want {
		t.Errorf("billing: got default port %d, want %d", got, want)
	}
}

// TestPOP3ErrorDefault: a POP3 job without onError loads; failed mail is
// kept on the server (leave), as POP3 has no error folder.
func TestPOP3ErrorDefault(t *testing.T) {
	f := mustParse(t, `
jobs:
  - id: a
    server: {protocol: pop3, host: mail.example.com, security: tls, auth: {secret: s}}
`)
	if got := f.Jobs[0].Incoming.OnError.Action; got != Leave {
		t.Errorf("got onError.action %q, want %q", got, Leave)
	}
}

func TestDefaults(t *testing.T) {
	f := mustParse(t, `
jobs:
  - id: a
    server: {protocol: imap, host: mail.example.com, security: tls, auth: {secret: s}}
`)
	j := f.Jobs[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"name", j.Name, "a"},
		{"enabled", j.IsEnabled(), true},
		{"port", j.Server.Port, 993},
		{"folder", j.Server.Folder, "INBOX"},
		{"verify", j.Server.VerifyCertificates(), true},
		{"auth method", j.Server.Auth.Method, AuthPassword},
		{"timeout", j.Server.Timeout.D(), 30 * time.Second},
		{"every", j.Schedule.Every.D(), 5 * time.Minute},
		{"onSuccess", j.Incoming.OnSuccess, MarkRead},
		{"onError", j.Incoming.OnError.Action, Move},
		{"errorFolder", j.Incoming.OnError.Folder, DefaultErrorFolder},
		{"token", j.Processing.RequestToken, DefaultRequestToken},
		{"onMerged", j.Processing.OnMerged, "follow"},
		{"noticeMessageIdDomain", j.Processing.NoticeMessageIDDomain, DefaultNoticeDomain},
		{"statements", len(j.Processing.Statements), 0},
		{"reopenClosed", j.Processing.ReopenClosed, false},
		{"sender cap", j.Processing.MaxNewRequestsPerSenderPerHour, 0},
		{"maxMessages", j.Limits.MaxMessagesPerRun, DefaultMaxMessagesPerRun},
		{"batch", j.Limits.BatchSize, DefaultBatchSize},
		{"maxMessageSize", int64(j.Limits.MaxMessageSize), int64(DefaultMaxMessageSize)},
		{"connectionFailures", j.Notifications.ConnectionFailures, DefaultConnectionFailures},
		{"senderNoticesPerAddressPerHour", j.Notifications.SenderNoticesPerAddressPerHour, DefaultSenderNoticesPerAddressPerHour},
		{"senderNoticesPerHour", j.Notifications.SenderNoticesPerHour, DefaultSenderNoticesPerHour},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

// supJob is a valid IMAP job "sup" that a test adds keys to.
const supJob = `
jobs:
  - id: sup
    server: {protocol: imap, host: mail.example.com, security: tls, auth: {secret: s}}
`

// parseCase is a jobs file and the error Parse gives for it.
type parseCase struct {
	name string
	yaml string
	want string // substring of the error; "" loads
}

func checkParse(t *testing.T, tests []parseCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("got %v, want it to load", err)
			case tt.want != "" && err == nil:
				t.Fatalf("got no error, want one containing %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("got error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestValidationNamesJobAndField(t *testing.T) {
	checkParse(t, []parseCase{
		{"empty file", ``, "jobs file is empty"},
		{"no jobs", `jobs: []`, "jobs[0].jobs: at least one job is required"},
		{"missing id", `
jobs:
  - server: {protocol: imap, host: h, security: tls, auth: {secret: s}}`, "jobs[0].id: required"},
		{"bad id", `
jobs:
  - id: "Bad Id"
    server: {protocol: imap, host: h, security: tls, auth: {secret: s}}`, `job "Bad Id": id:`},
		{"duplicate id", supJob + `
  - id: sup
    server: {protocol: imap, host: h, security: tls, auth: {secret: s}}`, `job "sup": id: duplicate job id`},
		{"unknown key", `
jobs:
  - id: a
    sever: {}`, `jobs[0]: unknown key "sever" (did you mean "server"?)`},
		{"protocol", `
jobs:
  - id: a
    server: {protocol: smtp, host: h, security: tls, auth: {secret: s}}`, `job "a": server.protocol: "smtp" is not one of`},
		{"security", `
jobs:
  - id: a
    server: {protocol: imap, host: h, security: ssl, auth: {secret: s}}`, `job "a": server.security: "ssl" is not one of none, starttls-if-available, starttls, tls`},
		{"missing security", `
jobs:
  - id: a
    server: {protocol: imap, host: h, auth: {secret: s}}`, `job "a": server.security: required`},
		{"port", `
jobs:
  - id: a
    server: {protocol: imap, host: h, port: 70000, security: tls, auth: {secret: s}}`, `job "a": server.port: 70000 is not a port`},
		{"missing host", `
jobs:
  - id: a
    server: {protocol: imap, security: tls, auth: {secret: s}}`, `job "a": server.host: required`},
		{"missing secret", `
jobs:
  - id: a
    server: {protocol: imap, host: h, security: tls}`, `job "a": server.auth.secret: required`},
		{"auth method", `
jobs:
  - id: a
    server: {protocol: imap, host: h, security: tls, auth: {method: kerberos, secret: s}}`, `job "a": server.auth.method: "kerberos"`},
		{"caFile missing", `
jobs:
  - id: a
    server: {protocol: imap, host: h, security: tls, caFile: /nonexistent/ca.pem, auth: {secret: s}}`, `job "a": server.caFile: cannot read`},
		{"move without folder", supJob + `    incoming: {onSuccess: move}`, `job "sup": incoming.moveTo: required when onSuccess is move`},
		{"onError action", supJob + `    incoming: {onError: {action: explode}}`, `job "sup": incoming.onError.action:`},
		{"bad builtin", supJob + `    preprocessing: {rules: [{builtin: nosuch}]}`, `job "sup": preprocessing.rules[0].builtin: "nosuch" is not a built-in rule`},
		{"bad regex", supJob + `    preprocessing: {rules: [{regexRemove: "("}]}`, `job "sup": preprocessing.rules[0].regexRemove:`},
		{"two kinds in a rule", supJob + `    preprocessing: {rules: [{builtin: gmail, cutBelow: x}]}`, `job "sup": preprocessing.rules[0]: set exactly one of`},
		{"statement action", supJob + `    processing: {statements: [{name: x, action: explode}]}`, `job "sup": processing.statements[0].action:`},
		{"condition field", supJob + `    processing: {statements: [{action: create, when: {field: colour, op: equals, value: x}}]}`, `job "sup": processing.statements[0].when.field: "colour"`},
		{"nested condition op", supJob + `    processing: {statements: [{action: create, when: {all: [{field: subject, op: like, value: x}]}}]}`, `job "sup": processing.statements[0].when.all[0].op: "like"`},
		{"set unknown field", supJob + `    processing: {statements: [{action: create, set: {colour: red}}]}`, `job "sup": processing.statements[0].set.colour: not a request field`},
		{"allow-list", supJob + `    processing: {allowNewRequestsFrom: ["not an address"]}`, `job "sup": processing.allowNewRequestsFrom[0]:`},
		{"token", supJob + `    processing: {requestToken: "[REQ]"}`, `job "sup": processing.requestToken: "[REQ]" must contain {number}`},
		{"size unit", supJob + `    attachments: {maxSize: 25 parsecs}`, `is not a size`},
		{"admin address", supJob + `    notifications: {admins: ["nobody"]}`, `job "sup": notifications.admins[0]:`},
		{"batch size", supJob + `    limits: {batchSize: 5000}`, `job "sup": limits.batchSize: 5000 is not between 1 and 1000`},
		{"duration", supJob + `    limits: {maxRunTime: soon}`, `not a duration`},
		{"on merged", supJob + `    processing: {onMerged: ignore}`, `job "sup": processing.onMerged: "ignore" is not one of follow, create`},
		{"sender cap", supJob + `    processing: {maxNewRequestsPerSenderPerHour: -5}`, `job "sup": processing.maxNewRequestsPerSenderPerHour: must not be negative`},
		{"statement typo", supJob + `    processing: {statements: [{action: create, contine: true}]}`, `jobs[0].processing.statements[0]: unknown key "contine" (did you mean "continue"?)`},
		{"duplicate statement names", supJob + `    processing: {statements: [{name: a, action: create}, {name: a, action: ignore}]}`, `job "sup": processing.statements[1].name: "a" is also the name of statements[0]`},
		{"set on ignore", supJob + `    processing: {statements: [{action: ignore, set: {queue: x}}]}`, `job "sup": processing.statements[0].set: sets request fields, but ignore makes no request`},
		{"set on update", supJob + `    processing: {statements: [{action: update, set: {priority: High}}]}`, `job "sup": processing.statements[0].set: sets request fields, but update makes no request`},
		{"reason on create", supJob + `    processing: {statements: [{action: create, reason: why}]}`, `job "sup": processing.statements[0].reason: applies to reject and ignore only`},
		{"continue on stop", supJob + `    processing: {statements: [{action: stop, continue: true}]}`, `job "sup": processing.statements[0].continue:`},
		{"reopen on reject", supJob + `    processing: {statements: [{action: reject, reopen: true}]}`, `job "sup": processing.statements[0].reopen: applies to update and create only`},
		{"empty custom name", supJob + `    processing: {statements: [{action: create, set: {"custom.": x}}]}`, `job "sup": processing.statements[0].set.custom.: custom. needs a field name`},
		{"unknown template", supJob + `    processing: {statements: [{action: create, set: {title: "{{subjct}}"}}]}`, `job "sup": processing.statements[0].set.title: {{subjct}} is not one of`},
		{"empty header template", supJob + `    processing: {statements: [{action: create, set: {title: "{{header:}}"}}]}`, `job "sup": processing.statements[0].set.title: {{header:}} needs a header name`},
		{"address part of subject", supJob + `    processing: {statements: [{action: create, when: {field: subject.domain, op: equals, value: x}}]}`, `job "sup": processing.statements[0].when.field: "subject.domain": only from, to, cc, replyTo, recipients take a part`},
		{"unknown address part", supJob + `    processing: {statements: [{action: create, when: {field: from.host, op: equals, value: x}}]}`, `job "sup": processing.statements[0].when.field: "from.host"`},
		{"empty header name", supJob + `    processing: {statements: [{action: create, when: {field: "header:", op: equals, value: x}}]}`, `job "sup": processing.statements[0].when.field: header: needs a header name`},
		{"bad regex condition", supJob + `    processing: {statements: [{action: create, when: {field: subject, op: regex, value: "(?P<"}}]}`, `job "sup": processing.statements[0].when.value: error parsing regexp`},
		{"in without values", supJob + `    processing: {statements: [{action: create, when: {field: from, op: in, value: a@b.example}}]}`, `job "sup": processing.statements[0].when.values: required with op in`},
		{"values without in", supJob + `    processing: {statements: [{action: create, when: {field: from, op: equals, values: [a@b.example]}}]}`, `job "sup": processing.statements[0].when.values: applies to op in only`},
		{"size not a size", supJob + `    processing: {statements: [{action: create, when: {field: size, op: greaterThan, value: huge}}]}`, `job "sup": processing.statements[0].when.value: "huge" is not a size`},
		{"number not a number", supJob + `    processing: {statements: [{action: create, when: {field: "header:X-Spam-Score", op: greaterThan, value: high}}]}`, `job "sup": processing.statements[0].when.value: "high" is not a number`},
		{"two kinds in a condition", supJob + `    processing: {statements: [{action: create, when: {field: subject, op: contains, value: x, not: {field: subject, op: contains, value: y}}}]}`, `job "sup": processing.statements[0].when: set exactly one of field, all, any, not`},
		{"empty condition", supJob + `    processing: {statements: [{action: create, when: {}}]}`, `job "sup": processing.statements[0].when: set exactly one of`},
		{"deep field path", supJob + `    processing: {statements: [{action: create, when: {any: [{not: {all: [{field: to, op: like, value: x}]}}]}}]}`, `job "sup": processing.statements[0].when.any[0].not.all[0].op: "like"`},
		{"token twice", supJob + `    processing: {requestToken: "{number}-{number}"}`, `job "sup": processing.requestToken: "{number}-{number}" must contain {number} once`},
		{"negative window", supJob + `    processing: {subjectWindow: -1h}`, `"-1h" is not a duration`},
		{"notice domain", supJob + `    processing: {noticeMessageIdDomain: "not a domain"}`, `job "sup": processing.noticeMessageIdDomain: "not a domain" is not a domain name`},
		{"notice domain with at", supJob + `    processing: {noticeMessageIdDomain: "x@example.com"}`, `job "sup": processing.noticeMessageIdDomain:`},
		{"authserv-id", supJob + `    processing: {trustedAuthServIds: ["mx example"]}`, `job "sup": processing.trustedAuthServIds[0]: "mx example" is not an authserv-id`},
		{"allow and block", supJob + `    attachments: {allowExtensions: [pdf], blockExtensions: [exe]}`, `job "sup": attachments: set allowExtensions or blockExtensions, not both`},
		{"extension with path", supJob + `    attachments: {blockExtensions: [exe, "../x"]}`, `job "sup": attachments.blockExtensions[1]: "../x" is not a file extension`},
		{"empty extension", supJob + `    attachments: {allowExtensions: ["."]}`, `job "sup": attachments.allowExtensions[0]: "." is not a file extension`},
		{"notify admins without admins", supJob + `    attachments: {notifyOnDrop: {admins: true}}`, `job "sup": attachments.notifyOnDrop.admins: needs notifications.admins`},
		{"negative notices per address", supJob + `    notifications: {senderNoticesPerAddressPerHour: -1}`, `job "sup": notifications.senderNoticesPerAddressPerHour: -1 is not between 1 and 60`},
		{"too many notices per hour", supJob + `    notifications: {senderNoticesPerHour: 100000}`, `job "sup": notifications.senderNoticesPerHour: 100000 is not between 1 and 10000`},
		{"graph without mailbox", `
jobs:
  - id: g
    server: {protocol: graph, auth: {method: oauth2, secret: s}}`, `job "g": server.mailbox: required for graph`},
		{"graph with password", `
jobs:
  - id: g
    server: {protocol: graph, mailbox: help@example.com, auth: {secret: s}}`, `job "g": server.auth.method: graph signs in with oauth2 only`},
		{"graph cloud", `
jobs:
  - id: g
    server: {protocol: graph, mailbox: help@example.com, cloud: mars, auth: {method: oauth2, secret: s}}`, `job "g": server.cloud: "mars" is not one of global, usgov, usgovdod, china`},
		{"graph plain endpoint", `
jobs:
  - id: g
    server: {protocol: graph, mailbox: help@example.com, endpoint: "http://graph.example.com/v1.0", auth: {method: oauth2, secret: s}}`, `job "g": server.endpoint: "http://graph.example.com/v1.0": use https`},
		{"push on imap", supJob + `    push: {enabled: true}`, `job "sup": push.enabled: only for protocol graph`},
		{"spa mechanism", `
jobs:
  - id: a
    server: {protocol: imap, host: h, security: tls, auth: {method: spa, mechanism: plain, secret: s}}`, `job "a": server.auth.mechanism: "plain" is not ntlm`},
		{"oauth2 mechanism", `
jobs:
  - id: a
    server: {protocol: imap, host: h, security: tls, auth: {method: oauth2, mechanism: login, secret: s}}`, `job "a": server.auth.mechanism: "login" is not one of xoauth2, oauthbearer`},
		{"pop3 folder", `
jobs:
  - id: a
    server: {protocol: pop3, host: h, security: tls, folder: INBOX/Support, auth: {secret: s}}`, `job "a": server.folder: POP3 has one mailbox`},
		{"pop3 move", `
jobs:
  - id: a
    server: {protocol: pop3, host: h, security: tls, auth: {secret: s}}
    incoming: {onSuccess: move, moveTo: Done}`, `job "a": incoming.onSuccess: POP3 has no folders`},
		{"keepOnServer on imap", supJob + `    incoming: {keepOnServer: true}`, `job "sup": incoming.keepOnServer: only for POP3`},
		{"pop3 onError move", `
jobs:
  - id: a
    server: {protocol: pop3, host: h, security: tls, auth: {secret: s}}
    incoming: {onError: {action: move, folder: Errors}}`, `job "a": incoming.onError.action: POP3 has no folders to move failed mail to`},
		{"password mechanism", `
jobs:
  - id: a
    server: {protocol: pop3, host: h, security: tls, auth: {method: password, mechanism: ntlm, secret: s}}`, `job "a": server.auth.mechanism: "ntlm" is not one of login, plain`},
		{"mailbox on imap", `
jobs:
  - id: a
    server: {protocol: imap, host: h, security: tls, mailbox: x@example.com, auth: {secret: s}}`, `job "a": server.mailbox: only for protocol graph`},
		{"notifyOnDrop typo", supJob + `    attachments: {notifyOnDrop: {senders: true}}`, `jobs[0].attachments.notifyOnDrop: unknown key "senders" (did you mean "sender"?)`},
	})
}

func TestGraphJobDefaults(t *testing.T) {
	f := mustParse(t, `
jobs:
  - id: g
    server: {protocol: graph, mailbox: help@example.com, endpoint: "http://127.0.0.1:8080/v1.0", auth: {method: oauth2, secret: s}}
    push: {enabled: true}
`)
	s := f.Jobs[0].Server
	if s.Cloud != CloudGlobal || s.Security != SecurityTLS || s.Port != 443 || s.Folder != DefaultFolder || !f.Jobs[0].Push.Enabled {
		t.Errorf("got cloud %q security %q port %d folder %q push %v", s.Cloud, s.Security, s.Port, s.Folder, f.Jobs[0].Push.Enabled)
	}
}

func TestLoadFileNamesThePath(t *testing.T) {
	p := t.TempDir() + "/jobs.yaml"
	if err := os.WriteFile(p, []byte("jobs: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFile(p)
	if err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("got %v, want an error naming %s", err, p)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"1024", 1024, false}, {"10KB", 10 << 10, false}, {"25MB", 25 << 20, false},
		{"1GB", 1 << 30, false}, {"2m", 2 << 20, false}, {"-1", 0, true}, {"lots", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if (err != nil) != tt.err || got != tt.want {
				t.Errorf("got %d, %v; want %d, error %v", got, err, tt.want, tt.err)
			}
		})
	}
}

// TestProcessingAcceptsEveryConditionAndAction loads a statement list
// with every field, part, operator, template and action.
func TestProcessingAcceptsEveryConditionAndAction(t *testing.T) {
	f := mustParse(t, `
jobs:
  - id: a
    server: {protocol: imap, host: mail.example.com, security: tls, auth: {secret: s}}
    processing:
      allowNewRequestsFrom: ["*@customer.example", boss@partner.example]
      requestToken: "Ticket#{number}"
      subjectWindow: 24h
      reopenClosed: true
      onMerged: create
      maxNewRequestsPerSenderPerHour: 10
      noticeMessageIdDomain: notices.helpdesk.example
      trustedAuthServIds: [mx.helpdesk.example]
      statements:
        - name: every field
          when:
            any:
              - {field: from, op: equals, value: "*@a.example"}
              - {field: from.address, op: startsWith, value: x}
              - {field: from.name, op: contains, value: x}
              - {field: from.domain, op: in, values: [a.example]}
              - {field: to.domain, op: endsWith, value: example}
              - {field: cc, op: regex, value: "^x"}
              - {field: replyTo.address, op: equals, value: x@y.example}
              - {field: recipients, op: contains, value: support}
              - {field: subject, op: contains, value: x}
              - {field: text, op: contains, value: x}
              - {field: "header:X-Priority", op: equals, value: "1"}
              - {field: attachmentName, op: endsWith, value: .pdf}
              - {field: attachmentType, op: startsWith, value: image/}
              - {field: autoGenerated, op: in, values: [bounce, auto-reply, list]}
              - {field: size, op: greaterThan, value: 10MB}
              - {field: "header:X-Spam-Score", op: lessThan, value: "5.5"}
              - {all: [{field: spf, op: equals, value: pass}, {not: {field: dkim, op: equals, value: fail}}, {field: dmarc, op: equals, value: none}]}
          action: create
          continue: true
          reopen: false
          set: {title: "{{subject}} {{from}} {{from.name}} {{from.domain}} {{to}} {{cc}} {{replyTo}} {{date}} {{messageId}} {{header:X-Id}}", description: "{{text}}", requester: "{{replyTo}}", priority: High, category: c, queue: q, assignee: a, status: open, custom.x: y}
        - {name: replies, action: update, reopen: true}
        - {name: quiet, action: ignore, reason: newsletter}
        - {name: no, action: reject, reason: spam}
        - {name: halt, action: stop}
`)
	p := f.Jobs[0].Processing
	if len(p.Statements) != 5 || p.SubjectWindow.D() != 24*time.Hour || *p.Statements[1].Reopen != true || p.TrustedAuthServIDs[0] != "mx.helpdesk.example" {
		t.Errorf("got %+v", p)
	}
}

func TestPreprocessingAndAttachments(t *testing.T) {
	var rules strings.Builder
	for _, name := range BuiltinPreprocessRules {
		rules.WriteString("        - builtin: " + name + "\n")
	}
	f, err := Parse([]byte(`
jobs:
  - id: a
    server: {protocol: imap, host: mail.example.com, security: tls, auth: {secret: s}}
    preprocessing:
      rules:
` + rules.String() + `        - {builtin: android, enabled: false}
        - regexRemove: '(?i)\[external\]'
        - cutBelow: '^-{2,} ?Disclaimer'
    attachments:
      blockExtensions: [exe, .BAT]
      checkContent: false
      notifyOnDrop: {sender: true, admins: true}
    notifications:
      admins: [admin@example.com]
`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	j := f.Jobs[0]
	if got, want := len(j.Preprocessing.Rules), len(BuiltinPreprocessRules)+3; got != want {
		t.Errorf("got %d rules, want %d", got, want)
	}
	if r := j.Preprocessing.Rules[len(BuiltinPreprocessRules)]; r.Builtin != "android" || r.IsEnabled() {
		t.Errorf("got rule %+v, want android disabled", r)
	}
	a := j.Attachments
	if !a.NotifyOnDrop.Sender || !a.NotifyOnDrop.Admins {
		t.Errorf("got notifyOnDrop %+v, want sender and admins", a.NotifyOnDrop)
	}
	if a.ContentChecked() {
		t.Error("got checkContent true, want false")
	}
	if got, want := int64(a.MaxSize), int64(DefaultAttachmentMaxSize); got != want {
		t.Errorf("got maxSize %d, want %d", got, want)
	}
	if a.DropEmpty == nil || !*a.DropEmpty {
		t.Error("got dropEmpty unset or false, want the default true")
	}

	var def Attachments
	if !def.ContentChecked() {
		t.Error("zero Attachments: got checkContent false, want the default true")
	}
	if def.NotifyOnDrop.Sender || def.NotifyOnDrop.Admins {
		t.Error("zero Attachments: got a notifyOnDrop recipient, want none")
	}
}

func TestBuiltinPreprocessRulesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, name := range BuiltinPreprocessRules {
		if seen[name] {
			t.Errorf("got %q twice, want each built-in rule once", name)
		}
		seen[name] = true
	}
	for _, want := range []string{"outlook", "gmail", "apple", "thunderbird", "yahoo", "protonmail", "zoho", "reply-headers", "inline-replies", "android", "mobile-signatures", "signature-delimiter", "quoted-lines"} {
		if !seen[want] {
			t.Errorf("got no built-in rule %q", want)
		}
	}
}

// mustParse parses a jobs file that must load.
func mustParse(tb testing.TB, yaml string) *File {
	tb.Helper()
	f, err := Parse([]byte(yaml))
	if err != nil {
		tb.Fatal(err)
	}
	return f
}
