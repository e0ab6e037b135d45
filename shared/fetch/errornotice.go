package fetch

import (
	"context"
	"fmt"

	"mailconnector/shared/controlchar"
	"mailconnector/shared/ledger"
	"mailconnector/shared/notify"
)

// toErrorFolder does what follows a mail's move to the error folder,
// once the ledger records it there: the administrators hear of each mail
// (notifications.errorFolderNotice, default on), naming the job, the
// reason and the ledger key. A notice is sent once per mail, since the
// ledger records the move once.
func (rs *runState) toErrorFolder(ctx context.Context, moved []ledger.Entry) {
	if !rs.j.Notifications.NoticeOnErrorFolder() {
		return
	}
	for _, e := range moved {
		rs.s.notify(ctx, errorFolderNotice(rs.j.ID, rs.j.Name, rs.j.Notifications.Admins, e), rs.log)
	}
}

// errorFolderNotice is the administrators' notice of one mail moved to
// the error folder.
func errorFolderNotice(jobID, jobName string, admins []string, e ledger.Entry) notify.Notice {
	// The reason and the Message-ID may carry header-derived text.
	reason := controlchar.Strip(e.Reason)
	if reason == "" {
		reason = string(e.Outcome())
	}
	id := controlchar.Strip(e.MessageID)
	if id == "" {
		id = "(none)"
	}
	return notify.Notice{Kind: notify.ErrorFolder, JobID: jobID, To: admins,
		Subject: fmt.Sprintf("Mail job %q: a mail moved to the error folder (%s)", jobName, e.Outcome()),
		Body: fmt.Sprintf("Job %s moved a mail to the error folder.\n\nReason: %s\nLedger key: %s\nMessage-ID: %s\nDisposition: %s\n\n"+
			"Fix the cause, then move the error folder back (connector errors move-back %s). "+
			"Switch these notices off with notifications.errorFolderNotice: false.",
			jobID, reason, e.Key, id, e.Disposition, jobID)}
}
