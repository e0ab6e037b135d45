package main

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"mailconnector/shared/awsenv/envnames"
)

// environment is the Environment.Variables of a function in the template.
func (r *synthResult) environment(tb testing.TB, fn string) map[string]string {
	tb.Helper()
	p := r.props(tb, r.logicalID(tb, "Function:"+fn))
	out := map[string]string{}
	vars, _ := p["Environment"].(map[string]any)["Variables"].(map[string]any)
	for k, v := range vars {
		out[k] = r.render(v)
	}
	return out
}

// environmentProblems compares what the stack sets for fn with what fn
// reads (envnames, which awsenv.Load checks): a name fn requires and
// neither the stack nor Lambda sets, or a CONNECTOR_ name fn does not read.
func environmentProblems(fn string, env map[string]string) []string {
	reads := envnames.Reads(fn)
	if reads == nil {
		return []string{fn + ": a function envnames does not know"}
	}
	var problems []string
	getenv := func(name string) string {
		if slices.Contains(envnames.Runtime, name) {
			return "set by Lambda"
		}
		return env[name]
	}
	for _, name := range envnames.Requires(fn) {
		if getenv(name) == "" {
			problems = append(problems, fn+": "+name+" is required and not set")
		}
	}
	if err := envnames.Check(fn, getenv); err != nil && len(problems) == 0 {
		problems = append(problems, fn+": "+err.Error())
	}
	for name := range env {
		if slices.Contains(envnames.Runtime, name) {
			problems = append(problems, fn+": "+name+" is Lambda's to set")
		}
		if strings.HasPrefix(name, "CONNECTOR_") && !slices.Contains(reads, name) {
			problems = append(problems, fn+": "+name+" is set and not read")
		}
	}
	sort.Strings(problems)
	return problems
}

// TestFunctionEnvironments checks each function's environment in the
// stack, with and without a push job, against what the function reads.
func TestFunctionEnvironments(t *testing.T) {
	for _, tc := range []struct {
		name  string
		stack func(*testing.T) *synthResult
		want  []string // the functions deployed
	}{
		{name: "polled", stack: example, want: []string{fnDeadletter, fnFetch, fnPreprocess, fnRules, fnSchedSync}},
		{name: "push", stack: pushStack, want: envnames.Functions()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.stack(t)
			got := slices.Sorted(slices.Values(r.C.FunctionNames))
			if !slices.Equal(got, tc.want) {
				t.Errorf("functions: got %v, want %v", got, tc.want)
			}
			for _, fn := range r.C.FunctionNames {
				for _, p := range environmentProblems(fn, r.environment(t, fn)) {
					t.Error(p)
				}
			}
		})
	}
}

// TestEnvironmentProblems shows that the check above sees a list change
// on either side: a required name the stack stops setting, and a name the
// stack sets that no function reads.
func TestEnvironmentProblems(t *testing.T) {
	r := example(t)
	for _, tc := range []struct {
		name   string
		change func(env map[string]string)
		want   []string
	}{
		{name: "as deployed", change: func(map[string]string) {}},
		{name: "a required name unset", change: func(env map[string]string) { delete(env, envnames.RulesQueueURL) },
			want: []string{"preprocess: " + envnames.RulesQueueURL + " is required and not set"}},
		{name: "an unknown name set", change: func(env map[string]string) { env["CONNECTOR_RULES_QUEUE"] = "x" },
			want: []string{"preprocess: CONNECTOR_RULES_QUEUE is set and not read"}},
		{name: "a name of another function set", change: func(env map[string]string) { env[envnames.FetchFunction] = "x" },
			want: []string{"preprocess: " + envnames.FetchFunction + " is set and not read"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := r.environment(t, fnPreprocess)
			tc.change(env)
			if got := environmentProblems(fnPreprocess, env); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
