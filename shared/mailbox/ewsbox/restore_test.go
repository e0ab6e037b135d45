package ewsbox_test

import (
	"errors"
	"fmt"
	"testing"

	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/mailboxtest"
)

// TestRestoreEscapesAndPages: a Message-ID with characters XML gives
// meaning to is found; both copies of a Message-ID are moved back; more
// items than one MoveItem carries are all moved; an id moved back already
// is gone the second time; the job's own folder is refused.
func TestRestoreEscapesAndPages(t *testing.T) {
	b := newBox(t)
	odd := `o'b&"c<d>@ews`
	b.srv.Deliver(b.user, "Errors", []byte("Message-ID: <"+odd+">\r\nSubject: odd\r\n\r\nbody\r\n"))
	twice := "twice@ews"
	for range 2 {
		b.srv.Deliver(b.user, "Errors", mailboxtest.Message(twice, 100))
	}
	ids := []string{odd, twice}
	for i := range 105 {
		id := fmt.Sprintf("m%d@ews", i)
		b.srv.Deliver(b.user, "Errors", mailboxtest.Message(id, 100))
		ids = append(ids, id)
	}
	s := open(t, b.config())
	for i, err := range s.Restore(ctxT(t), "Errors", ids) {
		if err != nil {
			t.Errorf("id %d (%s): got %v, want moved back", i, ids[i], err)
		}
	}
	folders := map[string]int{}
	for _, m := range b.srv.Messages(b.user) {
		folders[m.Folder]++
	}
	if want := (map[string]int{"Inbox": len(ids) + 1}); fmt.Sprint(folders) != fmt.Sprint(want) {
		t.Errorf("got folders %v, want %v", folders, want)
	}
	for _, err := range s.Restore(ctxT(t), "Errors", ids[:1]) {
		if !errors.Is(err, mailbox.ErrGone) {
			t.Errorf("moved back twice: got %v, want ErrGone", err)
		}
	}
	for _, err := range s.Restore(ctxT(t), "Inbox", ids[:1]) {
		if err == nil || errors.Is(err, mailbox.ErrGone) {
			t.Errorf("from the job's folder: got %v, want an error", err)
		}
	}
}
