package mailconn

import (
	"context"
	"time"
)

// Sleep waits d, or until ctx is done and then returns its error: the
// pause of the HTTP adapters (Graph, EWS) before retrying a throttled
// request.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
