// Package lognotify implements notify.Notifier by logging each notice, for
// the local runner and tests.
package lognotify

import (
	"context"
	"log/slog"

	"mailconnector/shared/notify"
)

// Notifier logs notices.
type Notifier struct {
	log *slog.Logger
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a Notifier that logs to log (slog.Default() when nil).
func New(log *slog.Logger) *Notifier {
	if log == nil {
		log = slog.Default()
	}
	return &Notifier{log: log}
}

// Notify logs n at Warn for an alert, else at Info, saying it was not
// sent. It never fails.
func (n *Notifier) Notify(ctx context.Context, notice notify.Notice) error {
	level := slog.LevelInfo
	if notice.Kind == notify.Alert {
		level = slog.LevelWarn
	}
	n.log.LogAttrs(ctx, level, "notice",
		slog.String("sent", "(not sent: no mail transport configured)"),
		slog.String("kind", notice.Kind),
		slog.String("jobId", notice.JobID),
		slog.Any("to", notice.To),
		slog.String("subject", notice.Subject),
		slog.String("body", notice.Body),
	)
	return nil
}
