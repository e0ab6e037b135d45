package imapbox

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/emersion/go-imap/v2"

	"mailconnector/shared/ledger"
	"mailconnector/shared/mailbox"
)

var (
	_ mailbox.Folders       = (*Session)(nil)
	_ mailbox.DeletedLister = (*Session)(nil)
)

// HasFolders says that an IMAP server has folders (RFC 3501 section 5.1).
func (s *Session) HasFolders() {}

// DisposesBetweenFetches marks the session a mailbox.Interleaver: Fetch
// and Dispose name messages by UID, which no disposition of another
// message changes.
func (s *Session) DisposesBetweenFetches() {}

// group is the dispositions that one command applies.
type group struct {
	action mailbox.Action
	folder string // server name, for Move
	idx    []int  // indexes into ds
	uids   imap.UIDSet
}

// Dispose applies dispositions batched by action and folder into UID sets:
// markRead is UID STORE +FLAGS.SILENT (\Seen), delete is UID STORE
// +FLAGS.SILENT (\Deleted) (Purge expunges), move is UID MOVE (RFC 6851),
// or UID COPY + \Deleted + UID EXPUNGE (RFC 4315) without MOVE, or COPY +
// \Deleted without UIDPLUS (Purge expunges). The target folder is created
// when missing. A source from another UIDVALIDITY or folder gets
// mailbox.ErrStaleSource; one the folder no longer holds, mailbox.ErrGone.
func (s *Session) Dispose(ctx context.Context, ds []mailbox.Disposition) []error {
	errs := make([]error, len(ds))
	if len(ds) == 0 {
		return errs
	}
	defer s.begin(ctx)()
	s.mu.Lock()
	validity := s.validity
	s.mu.Unlock()

	// Which of the UIDs still exist (one UID SEARCH).
	var all imap.UIDSet
	for i, d := range ds {
		if !s.current(d.Source, validity) {
			errs[i] = fmt.Errorf("imapbox: %s %s (selected: %s uidvalidity %d): %w", d.Action, d.Source, s.folder, validity, mailbox.ErrStaleSource)
			continue
		}
		all.AddNum(imap.UID(d.Source.UID))
	}
	if len(all) == 0 {
		return errs
	}
	found, err := s.c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{all}}, nil).Wait()
	if err != nil {
		err = ctxErr(ctx, fmt.Errorf("imapbox: look up %d messages to dispose: %w", len(ds), err))
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		return errs
	}
	exists := imap.UIDSetNum(found.AllUIDs()...)

	groups := map[string]*group{}
	var order []string
	for i, d := range ds {
		if errs[i] != nil {
			continue
		}
		uid := imap.UID(d.Source.UID)
		if !exists.Contains(uid) {
			errs[i] = fmt.Errorf("imapbox: %s %s: %w", d.Action, d.Source, mailbox.ErrGone)
			continue
		}
		var folder string
		switch d.Action {
		case mailbox.MarkRead, mailbox.Delete:
		case mailbox.Move:
			if d.Folder == "" {
				errs[i] = fmt.Errorf("imapbox: move %s: no target folder", d.Source)
				continue
			}
			folder = mapFolder(d.Folder, s.delim)
		default:
			errs[i] = fmt.Errorf("imapbox: dispose %s: unknown action %q", d.Source, d.Action)
			continue
		}
		key := string(d.Action) + "\x00" + folder
		g := groups[key]
		if g == nil {
			g = &group{action: d.Action, folder: folder}
			groups[key] = g
			order = append(order, key)
		}
		g.idx = append(g.idx, i)
		g.uids.AddNum(uid)
	}
	sort.Strings(order)
	for _, key := range order {
		g := groups[key]
		if err := s.apply(g); err != nil {
			err = ctxErr(ctx, err)
			for _, i := range g.idx {
				errs[i] = err
			}
		}
	}
	return errs
}

func (s *Session) apply(g *group) error {
	switch g.action {
	case mailbox.MarkRead:
		if err := s.store(g.uids, imap.FlagSeen); err != nil {
			return fmt.Errorf("imapbox: mark uids %s read: %w", g.uids, err)
		}
	case mailbox.Delete:
		if err := s.store(g.uids, imap.FlagDeleted); err != nil {
			return fmt.Errorf("imapbox: flag uids %s deleted: %w", g.uids, err)
		}
		s.mu.Lock()
		s.flagged.AddSet(g.uids)
		s.mu.Unlock()
	case mailbox.Move:
		if err := s.ensureFolder(g.folder); err != nil {
			return fmt.Errorf("imapbox: move uids %s: %w", g.uids, err)
		}
		if err := s.move(g.uids, g.folder); err != nil {
			return fmt.Errorf("imapbox: move uids %s to %q: %w", g.uids, g.folder, err)
		}
	}
	return nil
}

// store adds a flag silently (RFC 3501 section 6.4.6).
func (s *Session) store(uids imap.UIDSet, flag imap.Flag) error {
	return s.c.Store(uids, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{flag}}, nil).Close()
}

// moveOrCopy moves uids of the selected folder to folder with MOVE (RFC
// 6851 section 3.1) where the server has it; elsewhere it copies them and
// flags the originals \Deleted, and reports that they are still to be
// expunged.
func (s *Session) moveOrCopy(uids imap.UIDSet, folder string) (expunge bool, err error) {
	caps := s.c.Caps()
	if caps.Has(imap.CapMove) || caps.Has(imap.CapIMAP4rev2) {
		_, err := s.c.Move(uids, folder).Wait()
		return false, err
	}
	if _, err := s.c.Copy(uids, folder).Wait(); err != nil {
		return false, fmt.Errorf("copy: %w", err)
	}
	if err := s.store(uids, imap.FlagDeleted); err != nil {
		return false, fmt.Errorf("flag copied messages deleted: %w", err)
	}
	return true, nil
}

func (s *Session) move(uids imap.UIDSet, folder string) error {
	expunge, err := s.moveOrCopy(uids, folder)
	if err != nil || !expunge {
		return err
	}
	if s.c.Caps().Has(imap.CapUIDPlus) {
		// RFC 4315 section 2.1: expunge only these UIDs.
		if err := s.c.UIDExpunge(uids).Close(); err != nil {
			return fmt.Errorf("expunge moved messages: %w", err)
		}
		return nil
	}
	// Without UIDPLUS an EXPUNGE would also remove messages others
	// flagged; leave it to Purge.
	s.mu.Lock()
	s.flagged.AddSet(uids)
	s.mu.Unlock()
	return nil
}

// ensureFolder creates folder (and, as RFC 3501 section 6.3.3 lets the
// server do, its parents) unless LIST shows it exists.
func (s *Session) ensureFolder(folder string) error {
	s.mu.Lock()
	known := s.created[folder]
	s.mu.Unlock()
	if known {
		return nil
	}
	list, err := s.c.List("", folder, nil).Collect()
	if err != nil {
		return fmt.Errorf("look for folder %q: %w", folder, err)
	}
	exists := false
	for _, l := range list {
		if l.Mailbox == folder {
			exists = true
			for _, a := range l.Attrs {
				if a == imap.MailboxAttrNoSelect || a == imap.MailboxAttrNonExistent {
					exists = false
				}
			}
		}
	}
	if !exists {
		err := s.c.Create(folder, nil).Wait()
		var ie *imap.Error
		if err != nil && !(errors.As(err, &ie) && ie.Code == imap.ResponseCodeAlreadyExists) {
			return fmt.Errorf("create folder %q: %w", folder, err)
		}
		s.log.Info("imapbox: created folder", "folder", folder)
	}
	s.mu.Lock()
	s.created[folder] = true
	s.mu.Unlock()
	return nil
}

// Purge removes the messages this session flagged \Deleted: UID EXPUNGE
// of exactly those (RFC 4315 section 2.1) when the server has UIDPLUS,
// else EXPUNGE (RFC 3501 section 6.4.3).
func (s *Session) Purge(ctx context.Context) error {
	defer s.begin(ctx)()
	s.mu.Lock()
	uids := s.flagged
	s.mu.Unlock()
	caps := s.c.Caps()
	if caps.Has(imap.CapUIDPlus) || caps.Has(imap.CapIMAP4rev2) {
		if len(uids) == 0 {
			return nil
		}
		if err := s.c.UIDExpunge(uids).Close(); err != nil {
			return ctxErr(ctx, fmt.Errorf("imapbox: expunge uids %s in %s: %w", uids, s.folder, err))
		}
	} else if err := s.c.Expunge().Close(); err != nil {
		return ctxErr(ctx, fmt.Errorf("imapbox: expunge %s: %w", s.folder, err))
	}
	s.mu.Lock()
	s.flagged = nil
	s.mu.Unlock()
	return nil
}

// FlaggedDeleted lists the messages of the selected folder flagged
// \Deleted, whichever session flagged them (UID SEARCH DELETED, RFC 3501
// section 6.4.4).
func (s *Session) FlaggedDeleted(ctx context.Context) ([]ledger.Source, error) {
	defer s.begin(ctx)()
	s.mu.Lock()
	validity := s.validity
	s.mu.Unlock()
	found, err := s.c.UIDSearch(&imap.SearchCriteria{Flag: []imap.Flag{imap.FlagDeleted}}, nil).Wait()
	if err != nil {
		return nil, ctxErr(ctx, fmt.Errorf("imapbox: search messages flagged deleted in %s: %w", s.folder, err))
	}
	var out []ledger.Source
	for _, u := range found.AllUIDs() {
		out = append(out, ledger.Source{Protocol: "imap", Folder: s.folder, Validity: validity, UID: uint32(u)})
	}
	return out, nil
}

// PurgeSources adds srcs of the current UIDVALIDITY to what this session
// flagged and purges them all (see Purge); sources of another UIDVALIDITY
// or folder are ignored, since their UIDs now name other messages.
func (s *Session) PurgeSources(ctx context.Context, srcs []ledger.Source) error {
	s.mu.Lock()
	for _, src := range srcs {
		if s.current(src, s.validity) {
			s.flagged.AddNum(imap.UID(src.UID))
		}
	}
	s.mu.Unlock()
	return s.Purge(ctx)
}
