package rules

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"mailconnector/shared/job"
)

// processingSection is the README's "processing" section.
func processingSection(tb testing.TB) string {
	tb.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		tb.Fatal(err)
	}
	s := string(b)
	start := strings.Index(s, "### `processing`")
	end := strings.Index(s, "### `attachments`")
	if start < 0 || end < start {
		tb.Fatal("README has no processing section before attachments")
	}
	return s[start:end]
}

var exampleCell = regexp.MustCompile("`(\\{(?:field|name|all|any|not):.*\\})`")

// TestREADMEExamplesLoad loads every condition and statement example of
// the README's processing section, and its full statement list, with the
// jobs-file validation, and checks that every condition field, operator,
// action and template is documented there.
func TestREADMEExamplesLoad(t *testing.T) {
	sec := processingSection(t)
	n := 0
	for _, line := range strings.Split(sec, "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		cells := strings.Split(line, " | ")
		ex := exampleCell.FindStringSubmatch(cells[len(cells)-1])
		if ex == nil {
			continue
		}
		n++
		st := ex[1]
		if !strings.Contains(st, "action:") {
			st = "{name: x, action: ignore, when: " + st + "}"
		}
		yaml := "jobs:\n  - id: a\n    server: {protocol: imap, host: h, security: tls, auth: {secret: s}}\n    processing:\n      statements:\n        - " + st + "\n"
		if _, err := job.Parse([]byte(yaml)); err != nil {
			t.Errorf("README example %s does not load: %v", ex[1], err)
		}
	}
	if n < 25 {
		t.Errorf("found %d examples in the README's processing section, want one per condition, operator and action", n)
	}
	block := regexp.MustCompile("(?s)```yaml\n(processing:\n.*?)```").FindStringSubmatch(sec)
	if block == nil {
		t.Fatal("README has no full statement list")
	}
	indented := "    " + strings.ReplaceAll(strings.TrimRight(block[1], "\n"), "\n", "\n    ")
	f, err := job.Parse([]byte("jobs:\n  - id: a\n    server: {protocol: imap, host: h, security: tls, auth: {secret: s}}\n" + indented + "\n"))
	if err != nil {
		t.Fatalf("the README's statement list does not load: %v", err)
	}
	// And it decides: the example message of the dry run goes to Partners.
	m := msg(nil)
	m.From.Address, m.Subject, m.Headers = "anna@partner.example", "Printer on 3rd floor", nil
	d, err := (&Engine{Lookup: lookup()}).Decide(context.Background(), &f.Jobs[0], m)
	if err != nil || d.Statement != "Partners" || d.Action != Create {
		t.Errorf("the README's list on a partner's message: got %+v, %v; want create by Partners", d, err)
	}
	var names []string
	names = append(names, job.ConditionFields...)
	names = append(names, job.ConditionOps...)
	names = append(names, "create", "update", "ignore", "reject", "stop", "continue", "reopen", "all", "any", "not", "header:NAME")
	for _, p := range job.AddressParts {
		names = append(names, "FIELD."+p)
	}
	names = append(names, "allowNewRequestsFrom", "requestToken", "subjectWindow", "reopenClosed", "onMerged", "maxNewRequestsPerSenderPerHour", "noticeMessageIdDomain", "trustedAuthServIds")
	for _, name := range names {
		if name == "header" {
			continue
		}
		if !strings.Contains(sec, "`"+name+"`") {
			t.Errorf("the README's processing section does not document `%s`", name)
		}
	}
	for _, name := range job.TemplateNames {
		if !strings.Contains(sec, "`{{"+name+"}}`") {
			t.Errorf("the README does not document the template {{%s}}", name)
		}
	}
}
