package preprocess

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"mailconnector/shared/blob"
	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/permanent"
	"mailconnector/shared/queue"
	"mailconnector/shared/store"
)

// Jobs finds a job's configuration.
type Jobs interface {
	Job(id string) (*job.Job, bool)
}

// Sender sends pointers to the rules queue.
type Sender interface {
	Send(ctx context.Context, msgs []queue.Message) error
}

// StageOptions configure a Stage; every field but Logger and Now is required.
type StageOptions struct {
	Store  store.Ledger
	Blobs  blob.Store
	Jobs   Jobs
	Next   Sender // the rules queue
	Logger *slog.Logger
	Now    func() time.Time
}

// Stage is the preprocess stage: raw MIME in the blob store becomes a
// normalized message beside it, and a pointer goes on to the rules queue.
type Stage struct {
	o StageOptions
}

// NewStage returns a Stage.
func NewStage(o StageOptions) *Stage {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Stage{o: o}
}

// PermanentError is an error that retrying cannot fix: the queue consumer
// acknowledges the message and the ledger records the failure.
type PermanentError = permanent.Error

// Handle preprocesses the message p points to. It is idempotent: a message
// already preprocessed is only sent on again, one with an outcome is left.
func (s *Stage) Handle(ctx context.Context, p ledger.Pointer) error {
	e, err := s.o.Store.Entry(ctx, p.JobID, p.Key)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return &PermanentError{Err: fmt.Errorf("job %s: message %s: not in the ledger", p.JobID, p.Key)}
		}
		return fmt.Errorf("job %s: message %s: read ledger: %w", p.JobID, p.Key, err)
	}
	switch {
	case e.State.Final():
		return nil
	case e.State == ledger.Preprocessed:
		return s.forward(ctx, p)
	}
	j, ok := s.o.Jobs.Job(p.JobID)
	if !ok {
		return &PermanentError{Err: fmt.Errorf("job %s: message %s: the job is no longer in the jobs file", p.JobID, p.Key)}
	}
	raw, err := s.o.Blobs.Get(ctx, e.RawKey)
	if err != nil {
		return fmt.Errorf("job %s: message %s: read raw message: %w", p.JobID, p.Key, err)
	}
	m, err := Process(ctx, raw, &Options{Job: j, Blobs: s.o.Blobs, KeyPrefix: ledger.AttachmentPrefix(e.JobID, e.Key)})
	raw.Close()
	var limit *LimitError
	if errors.As(err, &limit) {
		// Over a hard limit of the job: the message fails with the
		// reason, its raw copy stays where it is.
		return &PermanentError{Err: fmt.Errorf("job %s: message %s: %w", p.JobID, p.Key, err)}
	}
	if err != nil {
		return fmt.Errorf("job %s: message %s: preprocess: %w", p.JobID, p.Key, err)
	}
	m.JobID, m.LedgerKey = e.JobID, e.Key
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("job %s: message %s: encode normalized message: %w", p.JobID, p.Key, err)
	}
	normKey := ledger.NormKey(e.JobID, e.Key)
	if _, err := s.o.Blobs.Put(ctx, normKey, bytes.NewReader(body)); err != nil {
		return fmt.Errorf("job %s: message %s: store normalized message: %w", p.JobID, p.Key, err)
	}
	for attempt := 0; ; attempt++ {
		e.State, e.NormKey, e.Warnings, e.UpdatedAt = ledger.Preprocessed, normKey, m.Warnings, s.o.Now()
		e.Attempts++
		_, err = s.o.Store.Update(ctx, e)
		if err == nil {
			break
		}
		if errors.Is(err, store.ErrFinal) {
			return nil
		}
		if !errors.Is(err, store.ErrConflict) || attempt >= 3 {
			return fmt.Errorf("job %s: message %s: record preprocessing: %w", p.JobID, p.Key, err)
		}
		// Someone else wrote the entry (a duplicate delivery, the fetch
		// stage marking it queued): read it again and go on from there.
		if e, err = s.o.Store.Entry(ctx, p.JobID, p.Key); err != nil {
			return fmt.Errorf("job %s: message %s: read ledger: %w", p.JobID, p.Key, err)
		}
		if e.State.Final() {
			return nil
		}
		if e.State == ledger.Preprocessed {
			break
		}
	}
	if len(m.Warnings) > 0 {
		s.o.Logger.Info("preprocessed with warnings", "job", p.JobID, "ledgerKey", p.Key, "warnings", m.Warnings)
	}
	return s.forward(ctx, p)
}

func (s *Stage) forward(ctx context.Context, p ledger.Pointer) error {
	body, _ := json.Marshal(p)
	msg := queue.Message{Body: body, Attributes: map[string]string{"jobId": p.JobID, "ledgerKey": p.Key}}
	if err := s.o.Next.Send(ctx, []queue.Message{msg}); err != nil {
		return fmt.Errorf("job %s: message %s: send to rules: %w", p.JobID, p.Key, err)
	}
	return nil
}
