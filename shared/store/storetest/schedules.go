package storetest

import (
	"context"
	"testing"
	"time"

	"mailconnector/shared/scheduler"
	"mailconnector/shared/store"
)

func testScheduleRecords(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	rs, ok := s.(store.ScheduleRecords)
	if !ok {
		t.Fatalf("%T does not keep schedule records (store.ScheduleRecords)", s)
	}
	got, err := rs.ScheduleRecords(ctx)
	noErr(t, "ScheduleRecords of an empty store", err)
	if len(got) != 0 {
		t.Fatalf("an empty store: got %d records, want none", len(got))
	}
	applied := scheduler.Spec{Name: "support-2", JobID: "support", Expression: "cron(0 19 ? * MON-FRI *)", TimeZone: "Europe/Berlin",
		StartDate: time.Date(2027, 1, 3, 23, 0, 0, 0, time.UTC), State: scheduler.Enabled}
	edited := applied
	edited.Expression, edited.FlexibleWindow, edited.State = "cron(0 20 ? * MON-FRI *)", 15, scheduler.Disabled
	recs := []store.ScheduleRecord{
		{Name: "support-2", JobID: "support", Applied: applied, AppliedAt: at(1), Drift: &edited, DriftSeen: at(2), Wanted: &applied},
		{Name: "billing", JobID: "billing", Applied: scheduler.Spec{Name: "billing", JobID: "billing", Expression: "rate(10 minutes)", TimeZone: "UTC", State: scheduler.Enabled}, AppliedAt: at(1)},
		{Name: "support-1", JobID: "support", Applied: scheduler.Spec{Name: "support-1", JobID: "support", Expression: "cron(0/5 7-18 ? * MON-FRI *)", TimeZone: "Europe/Berlin", EndDate: time.Date(2027, 6, 30, 22, 0, 0, 0, time.UTC)}, AppliedAt: at(1)},
	}
	for _, r := range recs {
		noErr(t, "PutScheduleRecord "+r.Name, rs.PutScheduleRecord(ctx, r))
	}
	got, err = rs.ScheduleRecords(ctx)
	noErr(t, "ScheduleRecords", err)
	diff(t, "records, by name", []store.ScheduleRecord{recs[1], recs[2], recs[0]}, got)

	// Put replaces; the drift is cleared.
	recs[0].Drift, recs[0].DriftSeen, recs[0].Wanted, recs[0].AppliedAt = nil, time.Time{}, nil, at(3)
	noErr(t, "PutScheduleRecord again", rs.PutScheduleRecord(ctx, recs[0]))
	noErr(t, "DeleteScheduleRecord billing", rs.DeleteScheduleRecord(ctx, "billing"))
	noErr(t, "DeleteScheduleRecord of none", rs.DeleteScheduleRecord(ctx, "nosuch"))
	got, err = rs.ScheduleRecords(ctx)
	noErr(t, "ScheduleRecords after replace and delete", err)
	diff(t, "records after replace and delete", []store.ScheduleRecord{recs[2], recs[0]}, got)
	if err := rs.PutScheduleRecord(ctx, store.ScheduleRecord{JobID: "x"}); err == nil {
		t.Errorf("PutScheduleRecord without a name: got nil error, want one")
	}
}
