package storetest

import (
	"context"
	"errors"
	"testing"

	"mailconnector/shared/job"
	"mailconnector/shared/store"
)

func testJobControls(t *testing.T, h Harness) {
	s, ctx := h.New(t), context.Background()
	if _, err := s.JobControl(ctx, "job-a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("JobControl of a job without one: got %v, want ErrNotFound", err)
	}
	off := false
	fileOff := &job.Job{ID: "job-a", Enabled: &off}
	sw, err := store.JobSwitch(ctx, s, fileOff)
	noErr(t, "JobSwitch without a control", err)
	if sw.Enabled || sw.Stored {
		t.Errorf("JobSwitch of a job the jobs file disables, no control: got %+v, want disabled by the jobs file", sw)
	}
	want := store.JobControl{JobID: "job-a", Disabled: true, Reason: "mailbox migration", By: "ann@desk", At: at(3)}
	noErr(t, "PutJobControl", s.PutJobControl(ctx, want))
	noErr(t, "PutJobControl other", s.PutJobControl(ctx, store.JobControl{JobID: "job-b", At: at(4)}))
	got, err := s.JobControl(ctx, "job-a")
	noErr(t, "JobControl", err)
	diff(t, "JobControl", want, got)
	sw, err = store.JobSwitch(ctx, s, &job.Job{ID: "job-a"})
	noErr(t, "JobSwitch", err)
	if sw.Enabled || !sw.Stored {
		t.Errorf("JobSwitch of a disabled job: got %+v, want disabled by its control", sw)
	}

	want = store.JobControl{JobID: "job-a", By: "bob@desk", At: at(9)}
	noErr(t, "PutJobControl enable", s.PutJobControl(ctx, want))
	got, err = s.JobControl(ctx, "job-a")
	noErr(t, "JobControl after enable", err)
	diff(t, "JobControl after enable", want, got)
	sw, err = store.JobSwitch(ctx, s, fileOff)
	noErr(t, "JobSwitch after enable", err)
	if !sw.Enabled || !sw.Stored {
		t.Errorf("JobSwitch of a job enabled over the jobs file: got %+v, want enabled by its control", sw)
	}
	if err := s.PutJobControl(ctx, store.JobControl{Disabled: true}); err == nil {
		t.Error("PutJobControl without a job: got no error")
	}
}
