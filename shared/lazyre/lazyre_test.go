package lazyre_test

import (
	"strings"
	"testing"

	_ "mailconnector/shared/job"
	"mailconnector/shared/lazyre"
	_ "mailconnector/shared/mailbox/mailauth"
	_ "mailconnector/shared/preprocess"
	_ "mailconnector/shared/rules"
	_ "mailconnector/shared/secrets/localsecrets"
)

// TestCompileAll: the patterns of the packages that make them lazily all
// compile (imported above: job, mailauth, preprocess with its visible,
// bounce and htmltext packages, rules, localsecrets); then a bad one is named by CompileAll and
// panics at first use, as regexp.MustCompile would have at init.
func TestCompileAll(t *testing.T) {
	if err := lazyre.CompileAll(); err != nil {
		t.Fatal(err)
	}
	bad := lazyre.New(`(unclosed`)
	if err := lazyre.CompileAll(); err == nil || !strings.Contains(err.Error(), "missing closing )") {
		t.Errorf("CompileAll with a bad pattern: got %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("a bad pattern did not panic at first use")
		}
	}()
	bad.MatchString("x")
}

func TestLazy(t *testing.T) {
	re := lazyre.New(`(?i)^re:\s*(.*)$`)
	if got := re.FindStringSubmatch("RE: printer"); len(got) != 2 || got[1] != "printer" {
		t.Errorf("FindStringSubmatch: got %q", got)
	}
	if re.String() != `(?i)^re:\s*(.*)$` || re.Re().NumSubexp() != 1 {
		t.Errorf("String/Re: got %q, %d", re.String(), re.Re().NumSubexp())
	}
}
