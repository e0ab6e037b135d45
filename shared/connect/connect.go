// Package connect opens a job's mailbox: it resolves the job's secret and
// picks the adapter for its protocol. The CLI, the local runner and the
// fetch function share it, so a job connects the same way everywhere.
package connect

import (
	"context"
	"fmt"
	"log/slog"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/imapbox"
	"mailconnector/shared/secrets"
)

// Opener opens mailbox sessions for jobs.
type Opener struct {
	Secrets secrets.Resolver
	Logger  *slog.Logger
}

// Open resolves the job's secret and opens its mailbox. Connection
// failures are *mailbox.ConnectError naming the step; the secret's value
// never appears in an error.
func (o Opener) Open(ctx context.Context, j *job.Job) (mailbox.Session, error) {
	creds, err := o.Secrets.Resolve(ctx, j.Server.Auth.Secret)
	if err != nil {
		return nil, fmt.Errorf("job %s: resolve secret %q: %w", j.ID, j.Server.Auth.Secret, err)
	}
	switch j.Server.Protocol {
	case job.IMAP:
		s, err := imapbox.Open(ctx, imapbox.Config{Server: j.Server, Credentials: creds, Logger: o.Logger})
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("job %s: protocol %s is not supported by this build yet", j.ID, j.Server.Protocol)
}
