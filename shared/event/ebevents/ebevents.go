// Package ebevents publishes the connector's events to an EventBridge bus:
// source "mail-connector", detail type the event type, detail the event's
// JSON (schema in events/README.md).
package ebevents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"mailconnector/shared/event"
)

// Source is the events' source.
const Source = "mail-connector"

// Publisher puts events on a bus.
type Publisher struct {
	c   *eventbridge.Client
	bus string
}

var _ event.Publisher = (*Publisher)(nil)

// New returns a Publisher on bus ("default" for the account's bus).
func New(c *eventbridge.Client, bus string) *Publisher { return &Publisher{c: c, bus: bus} }

// ErrRefused means EventBridge accepted the request but not the event
// (PutEvents' FailedEntryCount); the error names its code and message.
var ErrRefused = errors.New("ebevents: event refused")

// Publish puts one event: detail type e.Type, detail e's JSON, time e.Time
// (EventBridge's own clock when zero).
func (p *Publisher) Publish(ctx context.Context, e event.Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("ebevents: encode %s: %w", e.Type, err)
	}
	entry := types.PutEventsRequestEntry{EventBusName: aws.String(p.bus), Source: aws.String(Source),
		DetailType: aws.String(e.Type), Detail: aws.String(string(b))}
	if !e.Time.IsZero() {
		entry.Time = aws.Time(e.Time)
	}
	out, err := p.c.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{entry}})
	if err != nil {
		return fmt.Errorf("ebevents: put %s of job %s on bus %s: %w", e.Type, e.JobID, p.bus, err)
	}
	if out.FailedEntryCount > 0 {
		code, msg := "", ""
		if len(out.Entries) > 0 {
			code, msg = aws.ToString(out.Entries[0].ErrorCode), aws.ToString(out.Entries[0].ErrorMessage)
		}
		return fmt.Errorf("ebevents: put %s of job %s on bus %s: %w: %s %s", e.Type, e.JobID, p.bus, ErrRefused, code, msg)
	}
	return nil
}
