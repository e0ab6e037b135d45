package schedsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"mailconnector/shared/notify"
	"mailconnector/shared/scheduler"
	"mailconnector/shared/store"
)

// Scheduler reads and writes one schedule at a time in the connector's
// schedule group (ebscheduler.Scheduler).
type Scheduler interface {
	// Get returns the schedule; an error wrapping scheduler.ErrNotFound
	// when there is none.
	Get(ctx context.Context, name string) (scheduler.Spec, error)
	Create(ctx context.Context, s scheduler.Spec) error
	Update(ctx context.Context, s scheduler.Spec) error
	// Remove deletes the schedule; none is not an error.
	Remove(ctx context.Context, name string) error
}

// Records keeps what each sync applied (dynamostore, boltstore).
type Records interface {
	ScheduleRecords(ctx context.Context) ([]store.ScheduleRecord, error)
	PutScheduleRecord(ctx context.Context, r store.ScheduleRecord) error
	DeleteScheduleRecord(ctx context.Context, name string) error
}

// Syncer syncs the schedules of one schedule group.
type Syncer struct {
	Scheduler Scheduler
	Records   Records
	// Notifier tells the administrators about a new edit; nil tells no one.
	Notifier notify.Notifier
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Log gets a line per change; nil is slog.Default().
	Log *slog.Logger
}

// Reset names the jobs whose plan a sync puts back even over a person's
// edit: `-c resetSchedules=JOB`, several separated by commas, or all.
type Reset struct {
	All  bool
	Jobs []string
}

// ParseReset reads the resetSchedules value: "", "all", or job ids
// separated by commas.
func ParseReset(s string) Reset {
	var r Reset
	for _, f := range strings.Split(s, ",") {
		switch f = strings.TrimSpace(f); {
		case f == "":
		case strings.EqualFold(f, "all"):
			r.All = true
		default:
			r.Jobs = append(r.Jobs, f)
		}
	}
	return r
}

// Covers reports whether the reset applies to the job.
func (r Reset) Covers(jobID string) bool { return r.All || slices.Contains(r.Jobs, jobID) }

// Drift is a schedule a person edited in EventBridge, kept by a sync.
type Drift struct {
	Name, JobID string
	// Applied is what the last deploy wrote; Held what EventBridge holds.
	Applied, Held scheduler.Spec
	// Wanted is the jobs file's plan now (the same as Applied when the
	// jobs file did not change it).
	Wanted scheduler.Spec
	// Fields are the fields in which Held differs from Applied.
	Fields []string
	// Since is when a sync first saw this edit; New is true when this sync did.
	Since time.Time
	New   bool
}

// PlanChanged reports whether the jobs file's plan moved on since the
// edit: the edit now holds back a change.
func (d Drift) PlanChanged() bool { return !d.Wanted.Same(d.Applied) }

// String says the drift on one line.
func (d Drift) String() string {
	s := fmt.Sprintf("schedule %s of job %s was edited in EventBridge (%s) on %s, kept: it holds %s",
		d.Name, d.JobID, strings.Join(d.Fields, ", "), d.Since.UTC().Format(time.DateOnly), d.Held)
	if d.PlanChanged() {
		return s + "; the jobs file now says " + d.Wanted.String() + " (last deployed " + d.Applied.String() + ")"
	}
	return s + "; the jobs file says " + d.Applied.String()
}

// Result is what one sync did, by schedule name.
type Result struct {
	Created, Updated, Deleted, Unchanged []string
	// Drifts are the edits kept.
	Drifts []Drift
}

// Summary says the result in one line.
func (r Result) Summary() string {
	s := fmt.Sprintf("schedules: %d created, %d updated, %d deleted, %d unchanged", len(r.Created), len(r.Updated), len(r.Deleted), len(r.Unchanged))
	if n := len(r.Drifts); n > 0 {
		s += fmt.Sprintf(", %d edited in EventBridge and kept (see `connector schedules diff --aws`)", n)
	}
	return s
}

// SyncError is a failed sync: the schedule and job whose call failed, and
// whether the calls made before it were undone.
type SyncError struct {
	Name, JobID string
	Err         error
	// Undone counts the changes made before the failure and put back;
	// UndoErr is set when putting one back failed too.
	Undone  int
	UndoErr error
}

func (e *SyncError) Error() string {
	s := fmt.Sprintf("schedsync: schedule %s of job %s: %v", e.Name, e.JobID, e.Err)
	if e.UndoErr != nil {
		return s + fmt.Sprintf("; undoing the %d changes before it failed too: %v", e.Undone, e.UndoErr)
	}
	return s + fmt.Sprintf("; the %d changes before it were undone, the last good schedules stay", e.Undone)
}

func (e *SyncError) Unwrap() error { return e.Err }

// step is one call of a sync, with what it takes to undo it.
type step struct {
	op     string // "create", "update", "delete"
	spec   scheduler.Spec
	before *scheduler.Spec // what EventBridge held; nil for a create
}

func (s *Syncer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Syncer) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Sync brings the group's schedules to plan, keeping people's edits
// unless reset covers their job. See the package comment.
func (s *Syncer) Sync(ctx context.Context, plan []scheduler.Spec, reset Reset) (Result, error) {
	var res Result
	now := s.now()
	recs, err := s.Records.ScheduleRecords(ctx)
	if err != nil {
		return res, fmt.Errorf("schedsync: read the last-applied plan: %w", err)
	}
	recorded := map[string]store.ScheduleRecord{}
	for _, r := range recs {
		recorded[r.Name] = r
	}
	planned := map[string]bool{}
	var steps []step
	var puts []store.ScheduleRecord
	var dels []string
	applied := func(p scheduler.Spec) store.ScheduleRecord {
		return store.ScheduleRecord{Name: p.Name, JobID: p.JobID, Applied: p, AppliedAt: now}
	}
	for _, p := range plan {
		if p.Name == "" || p.JobID == "" {
			return res, fmt.Errorf("schedsync: a planned schedule without a name or job: %+v", p)
		}
		if planned[p.Name] {
			return res, fmt.Errorf("schedsync: schedule %s is planned twice", p.Name)
		}
		planned[p.Name] = true
		held, err := s.Scheduler.Get(ctx, p.Name)
		switch {
		case errors.Is(err, scheduler.ErrNotFound):
			// A new job, or a schedule someone deleted: the plan makes it.
			steps = append(steps, step{op: "create", spec: p})
			puts = append(puts, applied(p))
			continue
		case err != nil:
			return res, &SyncError{Name: p.Name, JobID: p.JobID, Err: err}
		}
		rec, ok := recorded[p.Name]
		switch {
		case held.Same(p) && held.JobID == p.JobID:
			// EventBridge holds the plan: nothing to call.
			res.Unchanged = append(res.Unchanged, p.Name)
			if !ok || !rec.Applied.Same(p) || rec.Drift != nil {
				puts = append(puts, applied(p))
			}
		case !ok, held.Same(rec.Applied) && held.JobID == p.JobID, reset.Covers(p.JobID):
			// Made before any sync recorded it, or still what the last
			// deploy wrote, or reset on purpose: the plan goes in.
			h := held
			steps = append(steps, step{op: "update", spec: p, before: &h})
			puts = append(puts, applied(p))
		default:
			// A person's edit: kept.
			d := Drift{Name: p.Name, JobID: p.JobID, Applied: rec.Applied, Held: held, Wanted: p,
				Fields: held.Differences(rec.Applied), Since: rec.DriftSeen, New: rec.Drift == nil || !rec.Drift.Same(held)}
			if d.New || d.Since.IsZero() {
				d.Since, d.New = now, true
			}
			res.Drifts = append(res.Drifts, d)
			rec.Drift, rec.DriftSeen, rec.Wanted = &d.Held, d.Since, nil
			if d.PlanChanged() {
				w := p
				rec.Wanted = &w
			}
			puts = append(puts, rec)
		}
	}
	for _, r := range recs {
		if planned[r.Name] {
			continue
		}
		// A removed job, or one whose schedule now needs fewer names.
		held, err := s.Scheduler.Get(ctx, r.Name)
		switch {
		case errors.Is(err, scheduler.ErrNotFound):
		case err != nil:
			return res, &SyncError{Name: r.Name, JobID: r.JobID, Err: err}
		default:
			steps = append(steps, step{op: "delete", spec: r.Applied, before: &held})
		}
		dels = append(dels, r.Name)
	}

	for i, st := range steps {
		if err := s.apply(ctx, st); err != nil {
			se := &SyncError{Name: st.spec.Name, JobID: st.spec.JobID, Err: err, Undone: i}
			se.UndoErr = s.undo(ctx, steps[:i], now)
			s.log().Error("schedule sync failed", "schedule", st.spec.Name, "job", st.spec.JobID, "error", err, "undone", i)
			return Result{}, se
		}
		s.log().Info("schedule "+st.op+"d", "schedule", st.spec.Name, "job", st.spec.JobID, "spec", st.spec.String())
		switch st.op {
		case "create":
			res.Created = append(res.Created, st.spec.Name)
		case "update":
			res.Updated = append(res.Updated, st.spec.Name)
		case "delete":
			res.Deleted = append(res.Deleted, st.spec.Name)
		}
	}
	for _, r := range puts {
		if err := s.Records.PutScheduleRecord(ctx, r); err != nil {
			return res, fmt.Errorf("schedsync: record schedule %s of job %s: %w", r.Name, r.JobID, err)
		}
	}
	for _, n := range dels {
		if err := s.Records.DeleteScheduleRecord(ctx, n); err != nil {
			return res, fmt.Errorf("schedsync: forget schedule %s: %w", n, err)
		}
	}
	for _, d := range res.Drifts {
		s.log().Warn("schedule edited in EventBridge, kept", "schedule", d.Name, "job", d.JobID, "drift", d.String())
		if d.New {
			s.tell(ctx, d)
		}
	}
	return res, nil
}

// tell notifies the administrators of a new edit, once: a failure to
// tell is logged, never a failed deploy.
func (s *Syncer) tell(ctx context.Context, d Drift) {
	if s.Notifier == nil {
		return
	}
	n := notify.Notice{Kind: notify.Alert, JobID: d.JobID,
		Subject: fmt.Sprintf("Mail Connector: the schedule of job %s was edited in EventBridge and kept", d.JobID),
		Body: d.String() + ".\n\nA deploy keeps this edit. To keep it for good, paste the output of " +
			"`connector schedules adopt " + d.JobID + " --aws` into the jobs file; to put the jobs file's schedule back, " +
			"deploy with -c resetSchedules=" + d.JobID + ".\n"}
	if err := s.Notifier.Notify(ctx, n); err != nil {
		s.log().Warn("could not tell the administrators about an edited schedule", "job", d.JobID, "error", err)
	}
}

func (s *Syncer) apply(ctx context.Context, st step) error {
	switch st.op {
	case "create":
		return s.Scheduler.Create(ctx, st.spec)
	case "update":
		return s.Scheduler.Update(ctx, st.spec)
	default:
		return s.Scheduler.Remove(ctx, st.spec.Name)
	}
}

// undo puts back what steps changed, last first. A start date that has
// passed since is left out: EventBridge refuses one in the past.
func (s *Syncer) undo(ctx context.Context, steps []step, now time.Time) error {
	var errs []error
	for i := len(steps) - 1; i >= 0; i-- {
		st := steps[i]
		var err error
		switch st.op {
		case "create":
			err = s.Scheduler.Remove(ctx, st.spec.Name)
		default:
			b := *st.before
			if !b.StartDate.IsZero() && b.StartDate.Before(now) {
				b.StartDate = time.Time{}
			}
			if st.op == "update" {
				err = s.Scheduler.Update(ctx, b)
			} else {
				err = s.Scheduler.Create(ctx, b)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("put back schedule %s: %w", st.spec.Name, err))
		}
	}
	return errors.Join(errs...)
}

// Delete removes every schedule a sync created and forgets them: the
// stack is being deleted.
func (s *Syncer) Delete(ctx context.Context) ([]string, error) {
	recs, err := s.Records.ScheduleRecords(ctx)
	if err != nil {
		return nil, fmt.Errorf("schedsync: read the last-applied plan: %w", err)
	}
	var deleted []string
	for _, r := range recs {
		if err := s.Scheduler.Remove(ctx, r.Name); err != nil {
			return deleted, fmt.Errorf("schedsync: delete schedule %s of job %s: %w", r.Name, r.JobID, err)
		}
		if err := s.Records.DeleteScheduleRecord(ctx, r.Name); err != nil {
			return deleted, fmt.Errorf("schedsync: forget schedule %s: %w", r.Name, err)
		}
		deleted = append(deleted, r.Name)
	}
	return deleted, nil
}
