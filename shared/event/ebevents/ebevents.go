// Package ebevents publishes the connector's events to an EventBridge bus:
// source "mail-connector", detail type the event type, detail the event's
// JSON (schema in events/README.md).
package ebevents

import (
	"context"
	"encoding/json"
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

// Publish puts one event.
func (p *Publisher) Publish(ctx context.Context, e event.Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("ebevents: encode %s: %w", e.Type, err)
	}
	out, err := p.c.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{
		EventBusName: aws.String(p.bus), Source: aws.String(Source), DetailType: aws.String(e.Type),
		Detail: aws.String(string(b)), Time: aws.Time(e.Time),
	}}})
	if err != nil {
		return fmt.Errorf("ebevents: put %s: %w", e.Type, err)
	}
	if out.FailedEntryCount > 0 {
		code, msg := "", ""
		if len(out.Entries) > 0 {
			code, msg = aws.ToString(out.Entries[0].ErrorCode), aws.ToString(out.Entries[0].ErrorMessage)
		}
		return fmt.Errorf("ebevents: put %s: refused: %s %s", e.Type, code, msg)
	}
	return nil
}
