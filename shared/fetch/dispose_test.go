package fetch

import (
	"testing"

	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/mailbox"
)

// flaglessBox keeps no flags, as a POP3 maildrop.
type flaglessBox struct{ emptyBox }

func (flaglessBox) KeepsNoFlags() {}

// folderBox has folders, as IMAP or Graph.
type folderBox struct{ emptyBox }

func (folderBox) HasFolders() {}

// TestDispositionAsksTheMailbox: what is done follows the session's
// capabilities and the job, and a message without a stored raw copy is
// never deleted.
func TestDispositionAsksTheMailbox(t *testing.T) {
	const raw = "raw/x.eml"
	tests := []struct {
		name     string
		sess     mailbox.Session
		in       job.Incoming
		state    ledger.State
		rawKey   string
		want     mailbox.Action // "" for nothing done
		wantNote string
	}{
		{name: "flagless processed markRead deletes", sess: flaglessBox{}, in: job.Incoming{OnSuccess: job.MarkRead}, state: ledger.Processed, rawKey: raw, want: mailbox.Delete},
		{name: "flagless processed leave keeps", sess: flaglessBox{}, in: job.Incoming{OnSuccess: job.Leave}, state: ledger.Processed, rawKey: raw, wantNote: keptOnServer},
		{name: "flagless keepOnServer keeps", sess: flaglessBox{}, in: job.Incoming{OnSuccess: job.MarkRead, KeepOnServer: true}, state: ledger.Processed, rawKey: raw, wantNote: keptOnServer},
		{name: "flagless failed leave keeps", sess: flaglessBox{}, in: job.Incoming{OnError: job.OnError{Action: job.Leave}}, state: ledger.Failed, rawKey: raw, wantNote: keptOnServer},
		{name: "flagless failed delete deletes", sess: flaglessBox{}, in: job.Incoming{OnError: job.OnError{Action: job.Delete}}, state: ledger.Failed, rawKey: raw, want: mailbox.Delete},
		{name: "flagless failed delete without raw keeps", sess: flaglessBox{}, in: job.Incoming{OnError: job.OnError{Action: job.Delete}}, state: ledger.Failed, wantNote: keptOnServer + ": its raw copy is not stored"},
		{name: "folders failed move moves", sess: folderBox{}, in: job.Incoming{OnError: job.OnError{Action: job.Move, Folder: "Errors"}}, state: ledger.Rejected, want: mailbox.Move},
		{name: "no folders failed move leaves", sess: emptyBox{}, in: job.Incoming{OnError: job.OnError{Action: job.Move, Folder: "Errors"}}, state: ledger.Rejected, wantNote: "left: the mailbox has no folders"},
		{name: "flags failed delete without raw marks read", sess: folderBox{}, in: job.Incoming{OnError: job.OnError{Action: job.Delete}}, state: ledger.Failed, want: mailbox.MarkRead},
		{name: "flags processed delete deletes", sess: folderBox{}, in: job.Incoming{OnSuccess: job.Delete}, state: ledger.Processed, rawKey: raw, want: mailbox.Delete},
		{name: "no outcome yet", sess: folderBox{}, in: job.Incoming{OnSuccess: job.Delete}, state: ledger.Queued, rawKey: raw},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := &job.Job{Incoming: tc.in}
			d, ok, note := dispositionFor(j, tc.sess, ledger.Entry{State: tc.state, RawKey: tc.rawKey})
			got := mailbox.Action("")
			if ok {
				got = d.Action
			}
			if got != tc.want || note != tc.wantNote {
				t.Errorf("got action %q note %q, want %q and %q", got, note, tc.want, tc.wantNote)
			}
		})
	}
}
