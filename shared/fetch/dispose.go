package fetch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/run"
	"mailconnector/shared/store"
	"mailconnector/shared/workpool"
)

// Dispose applies pending dispositions (and purges) without fetching new
// mail: the end of a local run, once the queues have drained.
func (s *Service) Dispose(ctx context.Context, j *job.Job) (run.Run, error) {
	now := s.o.Now()
	r := run.Run{JobID: j.ID, ID: newRunID(now), Trigger: "dispose", StartedAt: now}
	ttl := s.o.LeaseTTL
	if ttl == 0 {
		ttl = j.Limits.MaxRunTime.D() + time.Minute
	}
	if err := s.o.Store.AcquireLease(ctx, j.ID, r.ID, ttl); err != nil {
		if errors.Is(err, store.ErrLeaseHeld) {
			return r, &LeaseHeldError{JobID: j.ID}
		}
		return r, fmt.Errorf("job %s: take lease: %w", j.ID, err)
	}
	defer s.o.Store.ReleaseLease(context.WithoutCancel(ctx), j.ID, r.ID)
	rs := &runState{s: s, j: j, r: &r, log: s.o.Logger.With("job", j.ID, "run", r.ID), deadline: now.Add(j.Limits.MaxRunTime.D())}
	sess, err := s.o.Opener.Open(ctx, j)
	if err != nil {
		return r, fmt.Errorf("job %s: connect: %w", j.ID, err)
	}
	defer sess.Close()
	rs.sess = sess
	if err := rs.dispose(ctx); err != nil {
		return r, err
	}
	if err := rs.purge(ctx); err != nil {
		return r, err
	}
	rs.noteKept()
	r.EndedAt = s.o.Now()
	r.Status = run.OK
	if r.Disposed > 0 || r.ErrorMails > 0 {
		if err := s.o.Store.PutRun(context.WithoutCancel(ctx), r); err != nil {
			rs.log.Warn("record dispositions run", "err", err)
		}
	}
	return r, nil
}

// keptOnServer is the disposition note of a message the mailbox keeps
// because it cannot or must not be told anything.
const keptOnServer = "kept on server"

// dispositionFor says what to do on sess with a message whose outcome is
// e.State; ok is false when nothing is to be done, and note then says why.
// It asks the session what it can do, never the job's protocol. A message
// whose raw copy is not stored is never deleted, whatever the job says: at
// most it is marked read, moved or left.
func dispositionFor(j *job.Job, sess mailbox.Session, e ledger.Entry) (d mailbox.Disposition, ok bool, note string) {
	d = mailbox.Disposition{Source: e.Source}
	var act job.SourceAction
	var folder string
	switch e.State {
	case ledger.Processed, ledger.Duplicate:
		act, folder = j.Incoming.OnSuccess, j.Incoming.MoveTo
	case ledger.Rejected, ledger.Failed:
		act, folder = j.Incoming.OnError.Action, j.Incoming.OnError.Folder
	default:
		return d, false, ""
	}
	if _, flagless := sess.(mailbox.Flagless); flagless {
		// No flags and no folders: a message is deleted once its outcome
		// is recorded, or kept; the ledger keeps it from being fetched
		// twice.
		if j.Incoming.KeepOnServer || (act != job.MarkRead && act != job.Delete) {
			return d, false, keptOnServer
		}
		if e.RawKey == "" {
			return d, false, keptOnServer + ": its raw copy is not stored"
		}
		d.Action = mailbox.Delete
		return d, true, ""
	}
	switch act {
	case job.MarkRead:
		d.Action = mailbox.MarkRead
	case job.Delete:
		d.Action = mailbox.Delete
		if e.RawKey == "" {
			d.Action = mailbox.MarkRead
		}
	case job.Move:
		if _, ok := sess.(mailbox.Folders); !ok {
			return d, false, "left: the mailbox has no folders"
		}
		d.Action, d.Folder = mailbox.Move, folder
	default:
		return d, false, "left"
	}
	return d, true, ""
}

const disposeBatch = 200

// count adds the outcome of e, just disposed, to the run's counts.
func (rs *runState) count(e ledger.Entry) {
	switch e.Outcome() {
	case ledger.OutcomeCreated:
		rs.r.Created++
	case ledger.OutcomeUpdated:
		rs.r.Updated++
	case ledger.OutcomeIgnored:
		rs.r.Ignored++
	case ledger.OutcomeRejected:
		rs.r.Rejected++
	case ledger.OutcomeFailed:
		rs.r.Failed++
	}
	if (e.State == ledger.Rejected || e.State == ledger.Failed) && strings.HasPrefix(e.Disposition, string(mailbox.Move)) {
		rs.r.ErrorFolder++
	}
}

// dispose tells the mailbox what became of every message with an outcome.
func (rs *runState) dispose(ctx context.Context) error {
	st := rs.s.o.Store
	for {
		if rs.s.o.Now().After(rs.deadline) {
			rs.r.More = true
			return nil
		}
		entries, err := st.Undisposed(ctx, rs.j.ID, disposeBatch)
		if err != nil {
			return fmt.Errorf("job %s: list messages to dispose: %w", rs.j.ID, err)
		}
		if len(entries) == 0 {
			return nil
		}
		protocol := rs.sess.Info().Protocol
		var ds []mailbox.Disposition
		var which []int
		done := make([]string, len(entries)) // disposition note per entry; "" = keep for later
		toErrors := make([]bool, len(entries))
		for i, e := range entries {
			if e.State == ledger.Rejected || e.State == ledger.Failed {
				rs.r.ErrorMails++
			}
			d, ok, note := dispositionFor(rs.j, rs.sess, e)
			if !ok {
				done[i] = note
				if strings.HasPrefix(note, keptOnServer) && (e.State == ledger.Rejected || e.State == ledger.Failed) {
					rs.keptErrors++
				}
				continue
			}
			if e.Source.Protocol != "" && e.Source.Protocol != protocol {
				done[i] = "left: job changed protocol"
				continue
			}
			ds = append(ds, d)
			which = append(which, i)
		}
		keys := make([]string, len(entries))
		for i, e := range entries {
			keys[i] = e.Key
		}
		if err := rs.crash(BeforeDispose, keys); err != nil {
			return err
		}
		if len(ds) > 0 {
			errs := rs.sess.Dispose(ctx, ds)
			for n, i := range which {
				var err error
				if n < len(errs) {
					err = errs[n]
				}
				switch {
				case err == nil:
					s := entries[i].State
					toErrors[i] = ds[n].Action == mailbox.Move && (s == ledger.Rejected || s == ledger.Failed)
					done[i] = string(ds[n].Action)
					if ds[n].Folder != "" {
						done[i] += " " + ds[n].Folder
					}
				case errors.Is(err, mailbox.ErrGone):
					done[i] = "gone from the mailbox"
				case errors.Is(err, mailbox.ErrStaleSource):
					done[i] = "not disposed: the server renumbered the folder"
				default:
					rs.r.Errors = append(rs.r.Errors, fmt.Sprintf("dispose %s: %v", entries[i].Source, err))
					rs.log.Warn("dispose", "ledgerKey", entries[i].Key, "err", err)
				}
			}
		}
		if err := rs.crash(AfterDispose, keys); err != nil {
			return err
		}
		if c, ok := rs.sess.(mailbox.Committer); ok && len(ds) > 0 {
			// POP3: the deletions count only once QUIT confirmed them.
			if err := c.Commit(ctx); err != nil {
				rs.r.Errors = append(rs.r.Errors, fmt.Sprintf("commit dispositions: %v", err))
				rs.log.Warn("dispositions not committed; the next run applies them again", "err", err)
				for n, i := range which {
					if done[i] == string(ds[n].Action) {
						done[i] = ""
					}
				}
			}
		}
		progress := 0
		var moved []ledger.Entry // now in the error folder
		var mu sync.Mutex
		var firstErr error
		workpool.Each(len(entries), 16, func(i int) {
			if done[i] == "" {
				return
			}
			e := entries[i]
			if toErrors[i] {
				if err := rs.sealDetails(ctx, e); err != nil {
					// The mail is in the error folder all the same; its
					// details stay in the clear until sealing works.
					rs.log.Warn("seal error details", "ledgerKey", e.Key, "err", err)
					mu.Lock()
					rs.r.Errors = append(rs.r.Errors, err.Error())
					mu.Unlock()
				}
			}
			e.Disposed, e.Disposition, e.InErrorFolder, e.UpdatedAt = true, done[i], toErrors[i], rs.s.o.Now()
			_, err := st.Update(ctx, e)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && !errors.Is(err, store.ErrConflict) {
				if firstErr == nil {
					firstErr = fmt.Errorf("job %s: mark %s disposed: %w", rs.j.ID, e.Key, err)
				}
				return
			}
			progress++
			rs.r.Disposed++
			rs.count(e)
			if e.InErrorFolder {
				moved = append(moved, e)
			}
		})
		rs.toErrorFolder(ctx, moved)
		if firstErr != nil {
			return firstErr
		}
		if progress == 0 || len(entries) < disposeBatch {
			// Nothing more can be done now (the mailbox refused every
			// disposition); the next run tries again.
			return nil
		}
	}
}
