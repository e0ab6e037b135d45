package scheduler

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Payload is what starts one run of the fetch function: the input of a
// job's EventBridge Scheduler schedules ({"jobId": "..."}), and the same
// with overrides from the webhook, the CLI and a follow-up invocation.
// Its JSON is defined here only; events/scheduler-payload*.json are its
// golden fixtures.
type Payload struct {
	JobID string `json:"jobId"`
	// Trigger is "schedule" when absent; "push", "manual" and "continue"
	// come from the webhook, the CLI and a follow-up invocation.
	Trigger string `json:"trigger,omitempty"`
	// MaxMessages overrides the job's limits.maxMessagesPerRun.
	MaxMessages int `json:"maxMessages,omitempty"`
	// Force runs a disabled job, or a job outside its schedule window.
	Force bool `json:"force,omitempty"`
	// Chain counts follow-up invocations of one backlog.
	Chain int `json:"chain,omitempty"`
}

// Encode returns the payload's JSON.
func (p Payload) Encode() []byte {
	b, err := json.Marshal(p)
	if err != nil {
		// Strings, ints and a bool always encode.
		panic(fmt.Sprintf("scheduler: encode payload: %v", err))
	}
	return b
}

// ErrNoJobID means a payload names no job.
var ErrNoJobID = errors.New("scheduler: the payload has no jobId")

// Decode reads a payload; one that is not JSON of this shape, or names no
// job, is an error.
func Decode(b []byte) (Payload, error) {
	var p Payload
	if err := json.Unmarshal(b, &p); err != nil {
		return Payload{}, fmt.Errorf("scheduler: decode payload: %w", err)
	}
	if p.JobID == "" {
		return Payload{}, ErrNoJobID
	}
	return p, nil
}
