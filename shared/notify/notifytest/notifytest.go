// Package notifytest holds a notify.Notifier for tests that keeps what it
// was asked to send.
package notifytest

import (
	"context"
	"sync"

	"mailconnector/shared/notify"
)

// Recorder is a notify.Notifier that keeps every notice, in order. Its
// zero value is ready to use; it is safe for concurrent use.
type Recorder struct {
	mu      sync.Mutex
	notices []notify.Notice
}

var _ notify.Notifier = (*Recorder)(nil)

// Notify keeps n and never fails.
func (r *Recorder) Notify(_ context.Context, n notify.Notice) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notices = append(r.notices, n)
	return nil
}

// Notices returns the notices kept so far, oldest first.
func (r *Recorder) Notices() []notify.Notice {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notify.Notice(nil), r.notices...)
}
