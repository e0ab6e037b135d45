package fetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"mailconnector/shared/ledger"
	"mailconnector/shared/queue"
	"mailconnector/shared/store"
	"mailconnector/shared/workpool"
)

// requeue puts back on the queue messages that are in the ledger without an
// outcome and have not moved for RequeueAfter: a crash between the ledger
// write and the enqueue, or a queue that lost them.
func (rs *runState) requeue(ctx context.Context) error {
	before := rs.s.o.Now().Add(-rs.s.o.RequeueAfter)
	if rs.req.RequeueAll {
		before = rs.s.o.Now().Add(time.Second)
	}
	// Entries marked stored never reached the queue; those are requeued
	// whatever their age.
	for {
		entries, err := rs.s.o.Store.Unfinished(ctx, rs.j.ID, rs.s.o.Now().Add(time.Second), 500)
		if err != nil {
			return fmt.Errorf("job %s: list unfinished messages: %w", rs.j.ID, err)
		}
		var todo []ledger.Entry
		for _, e := range entries {
			if e.State == ledger.Stored || e.UpdatedAt.Before(before) {
				todo = append(todo, e)
			}
		}
		if len(todo) == 0 {
			return nil
		}
		if err := rs.enqueue(ctx, todo); err != nil {
			return err
		}
		rs.r.Requeued += len(todo)
		if len(entries) < 500 || rs.s.o.Now().After(rs.deadline) {
			return nil
		}
	}
}

// enqueue sends pointers for entries and marks them queued (which also
// refreshes UpdatedAt so requeue leaves them alone for a while).
func (rs *runState) enqueue(ctx context.Context, entries []ledger.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	msgs := make([]queue.Message, len(entries))
	keys := make([]string, len(entries))
	for i, e := range entries {
		body, _ := json.Marshal(ledger.Pointer{JobID: e.JobID, Key: e.Key, RunID: rs.r.ID})
		msgs[i] = queue.Message{Body: body, Attributes: map[string]string{"jobId": e.JobID, "ledgerKey": e.Key}}
		keys[i] = e.Key
	}
	if err := rs.s.o.Queue.Send(ctx, msgs); err != nil {
		return fmt.Errorf("job %s: enqueue %d messages: %w", rs.j.ID, len(msgs), err)
	}
	if err := rs.crash(AfterEnqueue, keys); err != nil {
		return err
	}
	var mu sync.Mutex
	var firstErr error
	workpool.Each(len(entries), 16, func(i int) {
		e := entries[i]
		for attempt := 0; attempt < 3; attempt++ {
			if e.State != ledger.Stored && e.State != ledger.Queued {
				return // a stage has moved it on already
			}
			e.State, e.UpdatedAt = ledger.Queued, rs.s.o.Now()
			_, err := rs.s.o.Store.Update(ctx, e)
			if err == nil || errors.Is(err, store.ErrFinal) {
				return
			}
			if errors.Is(err, store.ErrConflict) {
				if e, err = rs.s.o.Store.Entry(ctx, e.JobID, e.Key); err == nil {
					continue
				}
			}
			mu.Lock()
			if firstErr == nil {
				firstErr = fmt.Errorf("job %s: mark %s queued: %w", rs.j.ID, e.Key, err)
			}
			mu.Unlock()
			return
		}
	})
	if firstErr != nil {
		return firstErr
	}
	return rs.crash(AfterMarkQueued, keys)
}
