package fetch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/store"
)

// MoveBackResult says what a move back did.
type MoveBackResult struct {
	Moved int // moved back into the job's folder: the next run takes them again
	// Gone were no longer in the error folder (deleted or moved by
	// hand); they leave its count too.
	Gone int
	// Left are the mails that stay in the error folder, each with why.
	Left []string
}

// ErrNoFolders means the job's mailbox has no folders to move mail
// between (POP3): its error mails were kept or deleted, never moved.
var ErrNoFolders = errors.New("the mailbox has no folders (POP3): there is no error folder to move mail back from")

// MoveBack moves every mail the ledger counts in the job's error folder
// back into the job's folder on the server, as SupportCenter Plus's "Move
// mails to inbox" does. The next run takes each as a message moved back: a
// new attempt under the current preprocessing rules and processing
// statements, linked to the earlier entry, never a duplicate. The mails
// moved (and those no longer in the error folder) leave its count, so
// fetching paused by incoming.onError.stopAfter resumes. It holds the
// job's lease, so no run disposes meanwhile.
func (s *Service) MoveBack(ctx context.Context, j *job.Job) (MoveBackResult, error) {
	var res MoveBackResult
	runID := newRunID(s.o.Now())
	if err := s.o.Store.AcquireLease(ctx, j.ID, runID, 5*time.Minute); err != nil {
		if errors.Is(err, store.ErrLeaseHeld) {
			return res, &LeaseHeldError{JobID: j.ID}
		}
		return res, fmt.Errorf("job %s: take lease: %w", j.ID, err)
	}
	defer s.o.Store.ReleaseLease(context.WithoutCancel(ctx), j.ID, runID)
	sess, err := s.o.Opener.Open(ctx, j)
	if err != nil {
		return res, fmt.Errorf("job %s: connect: %w", j.ID, err)
	}
	defer sess.Close()
	r, ok := sess.(mailbox.Restorer)
	if !ok {
		if _, folders := sess.(mailbox.Folders); !folders {
			return res, fmt.Errorf("job %s: %w", j.ID, ErrNoFolders)
		}
		return res, fmt.Errorf("job %s: the %s adapter cannot move mail back yet: move the mails from the error folder into the job's folder in a mail client; the next run processes them again", j.ID, sess.Info().Protocol)
	}
	in, err := s.o.Store.ErrorFolder(ctx, j.ID, 0)
	if err != nil {
		return res, fmt.Errorf("job %s: list the error folder: %w", j.ID, err)
	}
	// The folder each mail was moved to, as its disposition recorded it.
	byFolder := map[string][]ledger.Entry{}
	var folders []string
	for _, e := range in {
		if e.MessageID == "" {
			res.Left = append(res.Left, fmt.Sprintf("%s: no Message-ID to find it by; move it back in a mail client", e.Key))
			continue
		}
		f := errorFolderOf(e, j)
		if _, ok := byFolder[f]; !ok {
			folders = append(folders, f)
		}
		byFolder[f] = append(byFolder[f], e)
	}
	now := s.o.Now()
	for _, f := range folders {
		es := byFolder[f]
		ids := make([]string, len(es))
		for i, e := range es {
			ids[i] = e.MessageID
		}
		errs := r.Restore(ctx, f, ids)
		for i, e := range es {
			var why string
			switch err := errs[i]; {
			case err == nil:
				why = "moved back to the job's folder"
				res.Moved++
			case errors.Is(err, mailbox.ErrGone):
				why = "no longer in the error folder"
				res.Gone++
			default:
				res.Left = append(res.Left, fmt.Sprintf("%s: %v", e.Key, err))
				continue
			}
			if err := leftErrorFolder(ctx, s.o.Store, e, why, now); err != nil {
				return res, fmt.Errorf("job %s: %w", j.ID, err)
			}
		}
	}
	return res, nil
}

// errorFolderOf is the folder the disposition of e moved it to ("move
// FOLDER", then maybe "; why"), else the job's error folder.
func errorFolderOf(e ledger.Entry, j *job.Job) string {
	d, _, _ := strings.Cut(e.Disposition, "; ")
	if f, ok := strings.CutPrefix(d, string(mailbox.Move)+" "); ok && f != "" {
		return f
	}
	return j.Incoming.OnError.Folder
}
