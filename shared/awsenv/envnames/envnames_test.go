package envnames_test

import (
	"slices"
	"strings"
	"testing"

	"mailconnector/shared/awsenv/envnames"
)

func TestRequiredNamesAreRead(t *testing.T) {
	for _, fn := range envnames.Functions() {
		reads := envnames.Reads(fn)
		for _, n := range envnames.Requires(fn) {
			if !slices.Contains(reads, n) {
				t.Errorf("%s requires %s and does not read it", fn, n)
			}
		}
		for _, n := range reads {
			if !strings.HasPrefix(n, "CONNECTOR_") && !slices.Contains(envnames.Runtime, n) {
				t.Errorf("%s reads %s, neither a connector nor a Lambda name", fn, n)
			}
		}
	}
}

func TestCheck(t *testing.T) {
	set := map[string]string{envnames.Table: "t", envnames.Bucket: "b", envnames.RulesQueueURL: "u"}
	for _, tc := range []struct {
		name, function, unset, want string
	}{
		{name: "complete", function: envnames.Preprocess},
		{name: "queue missing", function: envnames.Preprocess, unset: envnames.RulesQueueURL, want: envnames.RulesQueueURL + " is required"},
		{name: "table missing", function: envnames.Deadletter, unset: envnames.Table, want: envnames.Table + " is required"},
		{name: "unknown function", function: "mystery", want: `envnames: unknown function "mystery"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := envnames.Check(tc.function, func(n string) string {
				if n == tc.unset {
					return ""
				}
				return set[n]
			})
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
