package rules

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"mailconnector/shared/event"
)

// Events go through the outbox (store.Outbox): Commit stores a message's
// event with its outcome, claimed by this stage for OutboxClaim; the
// stage publishes it and clears it. When publishing fails, the event
// stays, and a later Handle (in this or another process, at most every
// OutboxRetry) claims and publishes it. Delivery is at least once: a
// crash between publishing and clearing publishes the event again.
const (
	OutboxClaim = time.Minute
	OutboxRetry = 30 * time.Second
	outboxBatch = 25
)

// outbox is the stage's state of retrying the outbox.
type outbox struct {
	mu   sync.Mutex
	last time.Time // the last retry began
}

// publishPending publishes the outbox's events whose first attempt
// failed, unless it did so less than OutboxRetry ago.
func (s *Stage) publishPending(ctx context.Context, log *slog.Logger) {
	if s.o.Publisher == nil {
		return
	}
	now := s.o.Now()
	s.box.mu.Lock()
	if !s.box.last.IsZero() && now.Sub(s.box.last) < OutboxRetry {
		s.box.mu.Unlock()
		return
	}
	s.box.last = now
	s.box.mu.Unlock()
	if _, err := s.PublishPending(ctx); err != nil {
		log.Warn("publish events from the outbox", "err", err)
	}
}

// PublishPending claims the outbox's unclaimed events, publishes them and
// clears each one published; it returns how many were published.
func (s *Stage) PublishPending(ctx context.Context) (int, error) {
	now := s.o.Now()
	entries, err := s.o.Store.ClaimOutbox(ctx, now, now.Add(OutboxClaim), outboxBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, en := range entries {
		var ev event.Event
		if err := json.Unmarshal(en.Payload, &ev); err != nil {
			s.o.Logger.Error("drop an unreadable event from the outbox", "job", en.JobID, "ledgerKey", en.Key, "err", err)
			_ = s.o.Store.DeleteOutbox(ctx, en.ID)
			continue
		}
		if err := s.o.Publisher.Publish(ctx, ev); err != nil {
			return n, err // the rest wait for their claims to end
		}
		n++
		if err := s.o.Store.DeleteOutbox(ctx, en.ID); err != nil {
			return n, err
		}
	}
	return n, nil
}
