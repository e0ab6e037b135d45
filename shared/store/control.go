package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"mailconnector/shared/job"
)

// JobControl is an operator's switch for one job (`connector disable` /
// `connector enable`), stored so that it takes effect at the job's next
// run without editing the jobs file or redeploying. When a job has one it
// decides; when it has none the jobs file's enabled does.
type JobControl struct {
	JobID    string    `json:"jobId"`
	Disabled bool      `json:"disabled"`
	Reason   string    `json:"reason,omitempty"`
	By       string    `json:"by,omitempty"` // who switched it (user@host)
	At       time.Time `json:"at"`
}

// JobControls keeps JobControl.
type JobControls interface {
	// JobControl returns the job's stored control; ErrNotFound when none.
	JobControl(ctx context.Context, jobID string) (JobControl, error)
	// PutJobControl stores the job's control, replacing the previous one.
	PutJobControl(ctx context.Context, c JobControl) error
}

// Switch is whether a job runs on its schedule, and what decided it.
type Switch struct {
	Enabled bool
	// Stored is true when a stored JobControl decided (then Control
	// holds it), false when the jobs file's enabled did.
	Stored  bool
	Control JobControl
}

// Why says what decided, in words: "jobs file", "jobs file (enabled:
// false)", or "disabled by ann@host 2026-12-05 20:14 UTC: migration".
func (s Switch) Why() string {
	if !s.Stored {
		if s.Enabled {
			return "jobs file"
		}
		return "jobs file (enabled: false)"
	}
	verb := "enabled"
	if s.Control.Disabled {
		verb = "disabled"
	}
	w := verb
	if s.Control.By != "" {
		w += " by " + s.Control.By
	}
	if !s.Control.At.IsZero() {
		w += " " + s.Control.At.UTC().Format("2006-01-02 15:04 UTC")
	}
	if s.Control.Reason != "" {
		w += ": " + s.Control.Reason
	}
	return w
}

// JobSwitch decides whether j runs on its schedule: its stored control
// when it has one, else the jobs file's enabled.
func JobSwitch(ctx context.Context, st JobControls, j *job.Job) (Switch, error) {
	c, err := st.JobControl(ctx, j.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		return Switch{Enabled: j.IsEnabled()}, nil
	case err != nil:
		return Switch{}, fmt.Errorf("read the control of job %s: %w", j.ID, err)
	}
	return Switch{Enabled: !c.Disabled, Stored: true, Control: c}, nil
}
