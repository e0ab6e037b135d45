package job

import (
	"regexp"
	"strings"
	"testing"
)

// TestNameChecksMatchTheirPatterns: validJobID and validSecretName accept
// exactly what the regular expressions they replace did (compiling
// `{1,512}` cost 5 ms at every process start, the jobs file being checked
// before anything runs).
func TestNameChecksMatchTheirPatterns(t *testing.T) {
	idRE := regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	secretRE := regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,512}$`)
	cases := []string{"", "a", "-a", "a-", "support", "Support", "sup port", "sup_port", "9", "a.b", "é",
		strings.Repeat("a", 63), strings.Repeat("a", 64), "a" + strings.Repeat("-", 62), "a\n",
		"mail/support", "arn:aws:x", "a+b=c.d@e-f_g/h", strings.Repeat("s", 512), strings.Repeat("s", 513), "a b", "a\x00", "ü"}
	for c := byte(0); c < 0x80; c++ {
		cases = append(cases, "x"+string(c), string(c))
	}
	for _, s := range cases {
		if got, want := validJobID(s), idRE.MatchString(s); got != want {
			t.Errorf("validJobID(%q) = %v, want %v", s, got, want)
		}
		if got, want := validSecretName(s), secretRE.MatchString(s); got != want {
			t.Errorf("validSecretName(%q) = %v, want %v", s, got, want)
		}
	}
}
