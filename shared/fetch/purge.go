package fetch

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"mailconnector/shared/ledger"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/store"
)

// purge expunges, when the job purges, every message flagged deleted that
// the ledger says the connector disposed of (deleted, or moved by copy and
// delete), whichever session flagged it: a session killed before its purge
// leaves flagged messages that only a later session can remove. A message
// flagged deleted by someone else, which the ledger does not name, is left
// where the server can expunge by identity (UIDPLUS); otherwise the purge
// expunges the whole folder, as the job asks. A message whose raw copy is
// not stored is never purged.
func (rs *runState) purge(ctx context.Context) error {
	if !rs.j.Incoming.Purge {
		return nil
	}
	p, ok := rs.sess.(mailbox.Purger)
	if !ok {
		return nil
	}
	if err := rs.crash(BeforePurge, nil); err != nil {
		return err
	}
	dl, ok := p.(mailbox.DeletedLister)
	if !ok {
		if err := p.Purge(ctx); err != nil {
			return fmt.Errorf("job %s: purge: %w", rs.j.ID, err)
		}
		return nil
	}
	flagged, err := dl.FlaggedDeleted(ctx)
	if err != nil {
		return fmt.Errorf("job %s: purge: %w", rs.j.ID, err)
	}
	var ours []ledger.Source
	for _, src := range flagged {
		e, err := rs.s.o.Store.Entry(ctx, rs.j.ID, src.Key())
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue
		case err != nil:
			return fmt.Errorf("job %s: purge: look up %s in the ledger: %w", rs.j.ID, src, err)
		}
		if purgeable(e) {
			ours = append(ours, src)
		}
	}
	if err := dl.PurgeSources(ctx, ours); err != nil {
		return fmt.Errorf("job %s: purge: %w", rs.j.ID, err)
	}
	return nil
}

// purgeable says whether the ledger shows that the connector flagged e
// deleted itself, with its raw copy stored.
func purgeable(e ledger.Entry) bool {
	if !e.Disposed || e.RawKey == "" {
		return false
	}
	return e.Disposition == string(mailbox.Delete) || strings.HasPrefix(e.Disposition, string(mailbox.Move)+" ")
}
