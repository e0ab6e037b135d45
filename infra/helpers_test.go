package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// testNow is the synth time of the tests: schedule dates are judged
// against it, so the templates do not change with the calendar.
var testNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// synthOptions are the inputs of one test synth.
type synthOptions struct {
	// Context overrides cdk.json's context (jobsFile relative to the repo root).
	Context map[string]any
	// BuildDir replaces build/; "" gives a fake build with every function.
	BuildDir string
	// Outdir is the cloud assembly directory; "" is a test temp dir.
	Outdir string
}

// synthResult is a synthesized stack and its template.
type synthResult struct {
	C        *ConnectorStack
	Template assertions.Template
	JSON     map[string]any
	// Names maps logical ids to role names (Table, Bucket, fetch, …) for
	// rendering references readably.
	Names map[string]string
}

// repoRootForTest is the repository root: the tests run in infra/.
func repoRootForTest(tb testing.TB) string {
	tb.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		tb.Fatalf("repository root: %v", err)
	}
	return root
}

// cdkContext returns the context of cdk.json, the same the CLI passes.
func cdkContext(tb testing.TB) map[string]any {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(repoRootForTest(tb), "cdk.json"))
	if err != nil {
		tb.Fatalf("read cdk.json: %v", err)
	}
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		tb.Fatalf("parse cdk.json: %v", err)
	}
	return doc.Context
}

// fakeBuild writes <fn>/bootstrap for every function into dir.
func fakeBuild(tb testing.TB, dir string) string {
	tb.Helper()
	for _, fn := range append(append([]string{}, functionNames...), pushFunctionNames...) {
		if err := os.MkdirAll(filepath.Join(dir, fn), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fn, "bootstrap"), []byte("fake binary of "+fn+"\n"), 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// newTestStack builds the stack as the app does (context → Config →
// stack), with the test's build directory and synth time.
func newTestStack(tb testing.TB, o synthOptions) (*ConnectorStack, error) {
	tb.Helper()
	ctx := cdkContext(tb)
	for k, v := range o.Context {
		ctx[k] = v
	}
	if o.Outdir == "" {
		o.Outdir = tb.TempDir()
	}
	if o.BuildDir == "" {
		o.BuildDir = fakeBuild(tb, filepath.Join(o.Outdir, "fake-build"))
	}
	app := awscdk.NewApp(&awscdk.AppProps{
		Context:            &ctx,
		Outdir:             jsii.String(o.Outdir),
		AnalyticsReporting: jsii.Bool(false),
	})
	cfg, err := configFromContext(app, repoRootForTest(tb))
	if err != nil {
		return nil, err
	}
	cfg.Now = testNow
	cfg.StagingDir = filepath.Join(*app.Outdir(), "connector-staging")
	cfg.BuildDir = o.BuildDir
	return NewConnectorStack(app, cfg)
}

// synth builds the stack and its template, failing the test on error.
func synth(tb testing.TB, o synthOptions) *synthResult {
	tb.Helper()
	c, err := newTestStack(tb, o)
	if err != nil {
		tb.Fatalf("synth: %v", err)
	}
	tmpl := assertions.Template_FromStack(c.Stack, nil)
	r := &synthResult{C: c, Template: tmpl, JSON: *tmpl.ToJSON(), Names: map[string]string{}}
	id := func(x constructs.IConstruct) string {
		el, ok := x.Node().DefaultChild().(awscdk.CfnElement)
		if !ok {
			tb.Fatalf("%s has no CloudFormation resource", *x.Node().Path())
		}
		return *c.Stack.GetLogicalId(el)
	}
	r.Names[id(c.Key)] = "Key"
	r.Names[id(c.Table)] = "Table"
	r.Names[id(c.Bucket)] = "Bucket"
	r.Names[id(c.Topic)] = "Topic"
	r.Names[id(c.SchedulerRole)] = "SchedulerRole"
	if c.RenewSchedulerRole != nil {
		r.Names[id(c.RenewSchedulerRole)] = "RenewSchedulerRole"
	}
	for n, q := range c.Queues {
		r.Names[id(q)] = "Queue:" + n
	}
	for n, f := range c.Functions {
		r.Names[id(f)] = "Function:" + n
		r.Names[id(c.Roles[n])] = "Role:" + n
		r.Names[id(c.LogGroups[n])] = "Logs:" + n
	}
	return r
}

var (
	exampleOnce   sync.Once
	exampleResult *synthResult
	// sharedDir outlives single tests: it holds the example's assembly.
	sharedDir string
)

// example is the stack of events/jobs.example.yaml with cdk.json's context,
// synthesized once for the tests that only read it.
func example(t *testing.T) *synthResult {
	t.Helper()
	exampleOnce.Do(func() {
		exampleResult = synth(t, synthOptions{Outdir: filepath.Join(sharedDir, "example")})
	})
	if exampleResult == nil {
		t.Fatal("the example stack did not synthesize (see the first failing test)")
	}
	return exampleResult
}

// assert runs a Template assertion, which panics on a mismatch, and turns
// the panic into a test error.
func assert(tb testing.TB, what string, f func()) {
	tb.Helper()
	defer func() {
		if r := recover(); r != nil {
			tb.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

// resources returns the template's resources of a type, by logical id.
func (r *synthResult) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, v := range r.JSON["Resources"].(map[string]any) {
		res := v.(map[string]any)
		if res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

// props returns the Properties of the resource with the logical id.
func (r *synthResult) props(tb testing.TB, logicalID string) map[string]any {
	tb.Helper()
	res, ok := r.JSON["Resources"].(map[string]any)[logicalID].(map[string]any)
	if !ok {
		tb.Fatalf("no resource %s", logicalID)
	}
	p, _ := res["Properties"].(map[string]any)
	return p
}

// logicalID returns the logical id of the resource named name in r.Names.
func (r *synthResult) logicalID(tb testing.TB, name string) string {
	tb.Helper()
	for id, n := range r.Names {
		if n == name {
			return id
		}
	}
	tb.Fatalf("no resource named %s", name)
	return ""
}

// render writes a CloudFormation value readably: references become
// ${Name} and ${Name.Attr} with the role names of r.Names, pseudo
// parameters ${AWS::Region}, and Fn::Join is joined.
func (r *synthResult) render(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64, bool:
		return fmt.Sprint(v)
	case []any:
		parts := make([]string, len(v))
		for i, p := range v {
			parts[i] = r.render(p)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		if ref, ok := v["Ref"].(string); ok {
			return "${" + r.name(ref) + "}"
		}
		if ga, ok := v["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
			return "${" + r.name(ga[0].(string)) + "." + ga[1].(string) + "}"
		}
		if j, ok := v["Fn::Join"].([]any); ok && len(j) == 2 {
			var parts []string
			for _, p := range j[1].([]any) {
				parts = append(parts, r.render(p))
			}
			return strings.Join(parts, j[0].(string))
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	return fmt.Sprintf("%v", v)
}

func (r *synthResult) name(logicalID string) string {
	if n, ok := r.Names[logicalID]; ok {
		return n
	}
	return logicalID
}

// list turns a CloudFormation "one or many" value into a slice.
func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// permissions returns every (action → sorted resources) the inline
// policies attached to the role grant, rendered.
func (r *synthResult) permissions(tb testing.TB, roleName string) map[string][]string {
	tb.Helper()
	role := r.logicalID(tb, roleName)
	set := map[string]map[string]bool{}
	for _, res := range r.resources("AWS::IAM::Policy") {
		p := res["Properties"].(map[string]any)
		attached := false
		for _, ro := range list(p["Roles"]) {
			if m, ok := ro.(map[string]any); ok && m["Ref"] == role {
				attached = true
			}
		}
		if !attached {
			continue
		}
		for _, st := range list(p["PolicyDocument"].(map[string]any)["Statement"]) {
			s := st.(map[string]any)
			if s["Effect"] != "Allow" {
				tb.Errorf("%s: statement with effect %v", roleName, s["Effect"])
			}
			cond := r.condition(tb, roleName, s["Condition"])
			for _, a := range list(s["Action"]) {
				for _, res := range list(s["Resource"]) {
					if set[a.(string)] == nil {
						set[a.(string)] = map[string]bool{}
					}
					set[a.(string)][r.render(res)+cond] = true
				}
			}
		}
	}
	out := map[string][]string{}
	for a, rs := range set {
		for res := range rs {
			out[a] = append(out[a], res)
		}
		sort.Strings(out[a])
	}
	return out
}

// condition renders the only conditions the roles may carry: partition
// key prefixes of the table (" LeadingKeys=A,B", ForAllValues:StringLike)
// the services a KMS key is used through (" ViaService=dynamodb,sns"), the
// purpose in a KMS encryption context (" Purpose=error-details"), and
// the service a role is passed to (" PassedToService=scheduler.amazonaws.com").
func (r *synthResult) condition(tb testing.TB, roleName string, c any) string {
	tb.Helper()
	if c == nil {
		return ""
	}
	m := c.(map[string]any)
	if len(m) != 1 {
		tb.Errorf("%s: condition %s", roleName, r.render(c))
		return ""
	}
	values := func(v any) string {
		var out []string
		for _, x := range list(v) {
			s := r.render(x)
			if svc, ok := strings.CutSuffix(s, ".${AWS::Region}.amazonaws.com"); ok {
				s = svc
			}
			out = append(out, s)
		}
		sort.Strings(out)
		return strings.Join(out, ",")
	}
	if lk, ok := m["ForAllValues:StringLike"].(map[string]any); ok && len(lk) == 1 && lk["dynamodb:LeadingKeys"] != nil {
		return " LeadingKeys=" + values(lk["dynamodb:LeadingKeys"])
	}
	if eq, ok := m["StringEquals"].(map[string]any); ok && len(eq) == 1 && eq["kms:ViaService"] != nil {
		return " ViaService=" + values(eq["kms:ViaService"])
	}
	if eq, ok := m["StringEquals"].(map[string]any); ok && len(eq) == 1 && eq["kms:EncryptionContext:purpose"] != nil {
		return " Purpose=" + values(eq["kms:EncryptionContext:purpose"])
	}
	if eq, ok := m["StringEquals"].(map[string]any); ok && len(eq) == 1 && eq["iam:PassedToService"] != nil {
		return " PassedToService=" + values(eq["iam:PassedToService"])
	}
	tb.Errorf("%s: condition %s", roleName, r.render(c))
	return ""
}
