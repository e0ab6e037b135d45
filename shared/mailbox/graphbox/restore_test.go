package graphbox_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"mailconnector/shared/mailbox"
)

// TestRestoreQuotesAndBatches: a Message-ID with a single quote and the
// characters a query string gives meaning to is found; both copies of a
// Message-ID are moved back; more ids than one JSON batch holds are all
// looked up and moved; an id moved back already is gone the second time.
func TestRestoreQuotesAndBatches(t *testing.T) {
	e := newEnv(t)
	odd := "o'brien+x&y=z#1%41@contoso.example"
	e.srv.Deliver(e.user, "Errors", []byte("Message-ID: <"+odd+">\r\nFrom: a@example.com\r\nSubject: odd\r\n\r\nbody\r\n"))
	twice := "twice@contoso.example"
	for range 2 {
		e.srv.Deliver(e.user, "Errors", []byte("Message-ID: <"+twice+">\r\nFrom: a@example.com\r\nSubject: twice\r\n\r\nbody\r\n"))
	}
	many := e.deliver("Errors", 23)
	s := e.open(nil)
	ids := append([]string{odd, twice}, many...)
	for i, err := range s.Restore(context.Background(), "Errors", ids) {
		if err != nil {
			t.Errorf("id %d (%s): got %v, want moved back", i, ids[i], err)
		}
	}
	folders := map[string]int{}
	for _, m := range e.srv.Messages(e.user) {
		folders[m.Folder]++
	}
	if want := (map[string]int{"Inbox": len(ids) + 1}); fmt.Sprint(folders) != fmt.Sprint(want) {
		t.Errorf("got folders %v, want %v", folders, want)
	}
	for _, err := range s.Restore(context.Background(), "Errors", ids[:1]) {
		if !errors.Is(err, mailbox.ErrGone) {
			t.Errorf("moved back twice: got %v, want ErrGone", err)
		}
	}
	// The job's own folder is no error folder.
	for _, err := range s.Restore(context.Background(), "Inbox", ids[:1]) {
		if err == nil || errors.Is(err, mailbox.ErrGone) {
			t.Errorf("from the job's folder: got %v, want an error", err)
		}
	}
}
