package imapbox

import (
	"context"
	"fmt"
	"strings"

	"github.com/emersion/go-imap/v2"

	"mailconnector/shared/mailbox"
)

var _ mailbox.Restorer = (*Session)(nil)

// Restore moves the messages of folder with the Message-IDs ids into the
// session's folder: SELECT folder, one UID SEARCH HEADER Message-ID per id
// (RFC 3501 section 6.4.4), UID MOVE (RFC 6851) of what was found, or UID
// COPY + \Deleted + UID EXPUNGE (RFC 4315) without MOVE, then SELECT the
// session's folder again. A folder that does not exist holds none of them
// (mailbox.ErrGone for each).
func (s *Session) Restore(ctx context.Context, folder string, ids []string) []error {
	errs := make([]error, len(ids))
	if len(ids) == 0 {
		return errs
	}
	defer s.begin(ctx)()
	fail := func(err error) []error { return mailbox.FillErrors(errs, ctxErr(ctx, err)) }
	from := mapFolder(folder, s.delim)
	if strings.EqualFold(from, s.folder) {
		return fail(fmt.Errorf("imapbox: move back from %q: it is the job's folder", folder))
	}
	if _, err := s.c.Select(from, nil).Wait(); err != nil {
		// Whatever the reason, nothing is selected now: select the job's
		// folder again before anything else.
		if rerr := s.reselect(); rerr != nil {
			return fail(rerr)
		}
		if _, ok := err.(*imap.Error); ok {
			return mailbox.FillErrors(errs, fmt.Errorf("imapbox: move back from %q: %v: %w", folder, err, mailbox.ErrGone))
		}
		return fail(fmt.Errorf("imapbox: select %q: %w", from, err))
	}
	var all imap.UIDSet
	for i, id := range ids {
		crit := &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: "<" + strings.Trim(id, "<>") + ">"}}}
		found, err := s.c.UIDSearch(crit, nil).Wait()
		if err != nil {
			errs[i] = fmt.Errorf("imapbox: look for <%s> in %q: %w", id, from, err)
			continue
		}
		uids := found.AllUIDs()
		if len(uids) == 0 {
			errs[i] = fmt.Errorf("imapbox: <%s> is not in %q: %w", id, from, mailbox.ErrGone)
			continue
		}
		all.AddNum(uids...)
	}
	if len(all) > 0 {
		if err := s.moveSelected(all, s.folder); err != nil {
			err = fmt.Errorf("imapbox: move uids %s from %q to %q: %w", all, from, s.folder, err)
			for i := range errs {
				if errs[i] == nil {
					errs[i] = err
				}
			}
		}
	}
	if err := s.reselect(); err != nil {
		return fail(err)
	}
	return errs
}

// moveSelected moves uids of the selected folder to folder. Without MOVE
// and UIDPLUS the copies' originals are expunged with EXPUNGE, which also
// removes whatever else is flagged \Deleted in that folder.
func (s *Session) moveSelected(uids imap.UIDSet, folder string) error {
	expunge, err := s.moveOrCopy(uids, folder)
	if err != nil || !expunge {
		return err
	}
	if s.c.Caps().Has(imap.CapUIDPlus) {
		return s.c.UIDExpunge(uids).Close()
	}
	return s.c.Expunge().Close()
}

// reselect selects the session's folder again, and notes a new
// UIDVALIDITY as Scan and Dispose will see it.
func (s *Session) reselect() error {
	data, err := s.c.Select(s.folder, nil).Wait()
	if err != nil {
		return fmt.Errorf("imapbox: select %q again: %w", s.folder, err)
	}
	s.mu.Lock()
	s.validity = data.UIDValidity
	s.mu.Unlock()
	return nil
}
