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
	// whatever their age. One recorded as queued whose send failed is
	// sent by the run that lists it again (takeBatch), else when it is
	// RequeueAfter old.
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
		if err := rs.enqueue(ctx, nil, todo); err != nil {
			return err
		}
		rs.r.Requeued += len(todo)
		if len(entries) < 500 || rs.s.o.Now().After(rs.deadline) {
			return nil
		}
	}
}

// unsent reports whether e may be in the ledger without its pointer on
// the queue: marked stored (entries recorded before they were recorded
// as queued, and retries), or recorded as queued and not written since
// (version 1). A crash or a refused send between the record and the send
// leaves such an entry, and the next run lists it again, the cursor not
// having moved past it. Sending it twice is harmless: the stages are
// idempotent.
func unsent(e ledger.Entry) bool {
	return e.State == ledger.Stored || (e.State == ledger.Queued && e.Version == 1)
}

// enqueue sends pointers for fresh (entries this run recorded as queued)
// and again (entries to put back on the queue), and marks again queued,
// which also refreshes UpdatedAt so requeue leaves them alone for a while
// (and takes them out of unsent).
func (rs *runState) enqueue(ctx context.Context, fresh, again []ledger.Entry) error {
	if len(fresh)+len(again) == 0 {
		return nil
	}
	msgs := make([]queue.Message, 0, len(fresh)+len(again))
	keys := make([]string, 0, len(fresh)+len(again))
	for _, es := range [][]ledger.Entry{fresh, again} {
		for _, e := range es {
			body, _ := json.Marshal(ledger.Pointer{JobID: e.JobID, Key: e.Key, RunID: rs.r.ID})
			msgs = append(msgs, queue.Message{Body: body, Attributes: map[string]string{"jobId": e.JobID, "ledgerKey": e.Key}})
			keys = append(keys, e.Key)
		}
	}
	if err := rs.s.o.Queue.Send(ctx, msgs); err != nil {
		return fmt.Errorf("job %s: enqueue %d messages: %w", rs.j.ID, len(msgs), err)
	}
	if err := rs.crash(AfterEnqueue, keys); err != nil {
		return err
	}
	if len(again) == 0 {
		return nil
	}
	var mu sync.Mutex
	var firstErr error
	workpool.Each(len(again), 16, func(i int) {
		e := again[i]
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
	return rs.crash(AfterMarkQueued, keys[len(fresh):])
}
