package mailboxtest

import (
	"errors"
	"testing"

	"mailconnector/shared/mailbox"
)

// testRestore: Restore brings the messages named by Message-ID back from
// another folder into the session's folder, says ErrGone for one that is
// not there, leaves the others, and the session scans on afterwards.
func testRestore(t *testing.T, e *env) {
	inbox := e.deliver("", 1, 200)
	away := e.deliver("INBOX/Errors", 3, 200)
	s := e.open(nil)
	r, ok := s.(mailbox.Restorer)
	if !ok {
		t.Fatalf("got a %T, want a mailbox.Restorer", s)
	}
	ids := []string{messageID(away[0]), messageID(away[2]), "not-there@mailboxtest"}
	errs := r.Restore(e.ctx, "INBOX/Errors", ids)
	if len(errs) != len(ids) {
		t.Fatalf("got %d errors, want %d", len(errs), len(ids))
	}
	if errs[0] != nil || errs[1] != nil {
		t.Errorf("got errors %v, %v, want nil for the messages in the folder", errs[0], errs[1])
	}
	if !errors.Is(errs[2], mailbox.ErrGone) {
		t.Errorf("a Message-ID not in the folder: got %v, want ErrGone", errs[2])
	}
	st := e.state()
	for id, want := range map[string]string{
		messageID(inbox[0]): "INBOX", messageID(away[0]): "INBOX", messageID(away[2]): "INBOX", messageID(away[1]): "INBOX/Errors",
	} {
		if got := st[id]; got.Folder != want || got.Deleted {
			t.Errorf("%s: got %+v, want in %s", id, got, want)
		}
	}
	if sc := e.scan(s, ""); len(sc.Items) != 3 {
		t.Errorf("scan after the move back: got %d items, want 3", len(sc.Items))
	}
	for i, err := range r.Restore(e.ctx, "INBOX/Nowhere", ids[:1]) {
		if !errors.Is(err, mailbox.ErrGone) {
			t.Errorf("from a missing folder, id %d: got %v, want ErrGone", i, err)
		}
	}
	if sc := e.scan(s, ""); len(sc.Items) != 3 {
		t.Errorf("scan after a move back from a missing folder: got %d items, want 3", len(sc.Items))
	}
}
