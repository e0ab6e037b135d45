package schedsync

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"mailconnector/shared/scheduler"
)

// The CloudFormation custom resource that runs a sync at each deploy: its
// properties carry the plan, CloudFormation calls the sync function on
// Create and Update (when a property changed) and on Delete, and the
// response data become stack outputs.

// The custom resource's properties.
const (
	PropPlan       = "Plan"       // EncodePlan of the jobs file's plan
	PropReset      = "Reset"      // resetSchedules: "", "all" or job ids
	PropResetNonce = "ResetNonce" // set with Reset, so that asking twice runs twice
	PropJobsFile   = "JobsFile"   // a digest of the jobs file: any edit runs a sync
)

// The custom resource's response data (Fn::GetAtt).
const (
	AttrSummary = "Summary" // Result.Summary
	AttrDrift   = "Drift"   // the kept edits, one per line, or "none"
)

// PhysicalID is the custom resource's one physical id: it never changes,
// so CloudFormation never replaces the resource (a replacement would
// delete the schedules).
const PhysicalID = "mail-connector-schedules"

// maxData bounds the response data: CloudFormation takes 4 KB in all.
const maxData = 3000

// wireSpec is a Spec as the custom resource's properties carry it.
type wireSpec struct {
	Name           string `json:"name"`
	JobID          string `json:"jobId"`
	Expression     string `json:"expression"`
	TimeZone       string `json:"timeZone"`
	StartDate      string `json:"startDate,omitempty"`
	EndDate        string `json:"endDate,omitempty"`
	State          string `json:"state,omitempty"`
	FlexibleWindow int    `json:"flexibleWindow,omitempty"`
}

// EncodePlan is the plan as the custom resource carries it: JSON, dates
// in RFC 3339 UTC.
func EncodePlan(plan []scheduler.Spec) string {
	ws := make([]wireSpec, 0, len(plan))
	for _, p := range plan {
		w := wireSpec{Name: p.Name, JobID: p.JobID, Expression: p.Expression, TimeZone: p.TimeZone, State: p.State, FlexibleWindow: p.FlexibleWindow}
		if !p.StartDate.IsZero() {
			w.StartDate = p.StartDate.UTC().Format(time.RFC3339)
		}
		if !p.EndDate.IsZero() {
			w.EndDate = p.EndDate.UTC().Format(time.RFC3339)
		}
		ws = append(ws, w)
	}
	b, err := json.Marshal(ws)
	if err != nil {
		panic(fmt.Sprintf("schedsync: encode plan: %v", err)) // strings and ints always encode
	}
	return string(b)
}

// DecodePlan reads EncodePlan's output.
func DecodePlan(s string) ([]scheduler.Spec, error) {
	var ws []wireSpec
	if err := json.Unmarshal([]byte(s), &ws); err != nil {
		return nil, fmt.Errorf("schedsync: read the plan: %w", err)
	}
	out := make([]scheduler.Spec, 0, len(ws))
	for _, w := range ws {
		p := scheduler.Spec{Name: w.Name, JobID: w.JobID, Expression: w.Expression, TimeZone: w.TimeZone, State: w.State, FlexibleWindow: w.FlexibleWindow}
		if p.State == "" {
			p.State = scheduler.Enabled
		}
		for _, d := range []struct {
			v   string
			dst *time.Time
		}{{w.StartDate, &p.StartDate}, {w.EndDate, &p.EndDate}} {
			if d.v == "" {
				continue
			}
			t, err := time.Parse(time.RFC3339, d.v)
			if err != nil {
				return nil, fmt.Errorf("schedsync: read the plan: schedule %s: %q is not an RFC 3339 time", w.Name, d.v)
			}
			*d.dst = t.UTC()
		}
		out = append(out, p)
	}
	return out, nil
}

// Resource handles one custom resource request: Create and Update sync
// to the plan in props, Delete removes the schedules the syncs made. It
// returns the response data.
func (s *Syncer) Resource(ctx context.Context, requestType string, props map[string]any) (map[string]any, error) {
	switch requestType {
	case "Create", "Update":
	case "Delete":
		deleted, err := s.Delete(ctx)
		if err != nil {
			return nil, err
		}
		return map[string]any{AttrSummary: fmt.Sprintf("schedules: %d deleted", len(deleted)), AttrDrift: "none"}, nil
	default:
		return nil, fmt.Errorf("schedsync: unknown request type %q", requestType)
	}
	raw, _ := props[PropPlan].(string)
	if raw == "" {
		return nil, fmt.Errorf("schedsync: the custom resource has no %s property", PropPlan)
	}
	plan, err := DecodePlan(raw)
	if err != nil {
		return nil, err
	}
	reset, _ := props[PropReset].(string)
	res, err := s.Sync(ctx, plan, ParseReset(reset))
	if err != nil {
		return nil, err
	}
	return map[string]any{AttrSummary: res.Summary(), AttrDrift: driftText(res.Drifts)}, nil
}

// driftText is the drifts one per line, cut to fit the response.
func driftText(ds []Drift) string {
	if len(ds) == 0 {
		return "none"
	}
	var b strings.Builder
	for i, d := range ds {
		line := d.String()
		if b.Len()+len(line)+1 > maxData {
			fmt.Fprintf(&b, "… and %d more: connector schedules diff --aws", len(ds)-i)
			break
		}
		b.WriteString(line + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}
