package schedsync_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/google/go-cmp/cmp"

	"mailconnector/shared/schedsync"
)

// readEvent decodes a custom resource request of events/.
func readEvent(tb testing.TB, name string) cfn.Event {
	tb.Helper()
	b, err := os.ReadFile("../../events/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	var ev cfn.Event
	if err := json.Unmarshal(b, &ev); err != nil {
		tb.Fatalf("decode %s: %v", name, err)
	}
	return ev
}

// TestResource runs events/cfn-schedules-update.json through the handler:
// the schedules of its plan are made, a second request with the old
// properties puts the old plan back (a rollback), and Delete removes them.
func TestResource(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ev := readEvent(t, "cfn-schedules-update.json")
	data, err := e.syncer.Resource(ctx, string(ev.RequestType), ev.ResourceProperties)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	want := map[string]any{schedsync.AttrSummary: "schedules: 3 created, 0 updated, 0 deleted, 0 unchanged", schedsync.AttrDrift: "none"}
	if d := cmp.Diff(want, data); d != "" {
		t.Errorf("Update data (-want +got):\n%s", d)
	}
	if got, ok := e.held(t, "billing"); !ok || got.EndDate.Format("2006-01-02") != "2030-01-01" || got.TimeZone != "UTC" {
		t.Errorf("billing: got %s (%v), want rate(10 minutes) until 2030-01-01", got, ok)
	}

	// A person edits support-2; CloudFormation rolls back to the old plan.
	e.edit(t, "support-2", "cron(0 20 ? * MON-FRI *)", 5, "ENABLED")
	data, err = e.syncer.Resource(ctx, "Update", ev.OldResourceProperties)
	if err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if s := data[schedsync.AttrSummary]; s != "schedules: 1 created, 0 updated, 3 deleted, 0 unchanged" {
		t.Errorf("rollback summary: got %q", s)
	}

	data, err = e.syncer.Resource(ctx, "Delete", ev.ResourceProperties)
	if err != nil || data[schedsync.AttrSummary] != "schedules: 1 deleted" {
		t.Errorf("Delete: got %v, %v; want 1 deleted", data, err)
	}
	if _, ok := e.held(t, "support"); ok {
		t.Errorf("after Delete: support is still there")
	}
}

func TestResourceRefusesBadInput(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, typ string
		props     map[string]any
		want      string
	}{
		{"no plan", "Create", map[string]any{}, "has no Plan property"},
		{"not JSON", "Create", map[string]any{"Plan": "[{"}, "read the plan"},
		{"bad date", "Update", map[string]any{"Plan": `[{"name":"a","jobId":"a","expression":"rate(1 hour)","startDate":"tomorrow"}]`}, `schedule a: "tomorrow" is not an RFC 3339 time`},
		{"unknown request", "Replace", nil, `unknown request type "Replace"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.syncer.Resource(context.Background(), tc.typ, tc.props)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}
