package store

import (
	"context"
	"time"

	"mailconnector/shared/scheduler"
)

// ScheduleRecord is what the deploy's schedule sync (package schedsync)
// knows of one EventBridge Scheduler schedule: what the last deploy wrote
// to it, and the edit a person made since, if any.
type ScheduleRecord struct {
	Name  string `json:"name"`
	JobID string `json:"jobId"`
	// Applied is what the last deploy (or reset) wrote to EventBridge.
	Applied   scheduler.Spec `json:"applied"`
	AppliedAt time.Time      `json:"appliedAt"`
	// Drift is what EventBridge held, differing from Applied, when a
	// sync last looked: a person's edit, kept. Nil when there is none.
	Drift *scheduler.Spec `json:"drift,omitempty"`
	// DriftSeen is when a sync first saw Drift as it is.
	DriftSeen time.Time `json:"driftSeen,omitzero"`
	// Wanted is the jobs file's plan at the last sync that kept Drift,
	// when it differs from Applied: the plan the edit holds back.
	Wanted *scheduler.Spec `json:"wanted,omitempty"`
}

// ScheduleRecords keeps a ScheduleRecord per schedule name.
type ScheduleRecords interface {
	// ScheduleRecords returns every record, sorted by name.
	ScheduleRecords(ctx context.Context) ([]ScheduleRecord, error)
	// PutScheduleRecord stores r, replacing the record of r.Name.
	PutScheduleRecord(ctx context.Context, r ScheduleRecord) error
	// DeleteScheduleRecord forgets the record of name; none is no error.
	DeleteScheduleRecord(ctx context.Context, name string) error
}
