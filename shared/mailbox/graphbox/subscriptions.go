package graphbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// MaxSubscriptionLifetime is the longest a subscription to Outlook
// messages may live (https://learn.microsoft.com/graph/api/resources/subscription#subscription-lifetime).
const MaxSubscriptionLifetime = 10080 * time.Minute

// ErrSubscriptionGone means Graph no longer has the subscription.
var ErrSubscriptionGone = errors.New("graph: the subscription no longer exists")

// Subscription is a change notification subscription on a job's folder.
type Subscription struct {
	ID, Resource, ClientState string
	Expires                   time.Time
}

// Subscriber manages the change notification subscriptions of one job's
// folder (https://learn.microsoft.com/graph/change-notifications-delivery-webhooks).
type Subscriber struct {
	s *Session
}

// NewSubscriber signs in and resolves the job's folder, as Open does.
func NewSubscriber(ctx context.Context, cfg Config) (*Subscriber, error) {
	s, err := Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Subscriber{s: s}, nil
}

// Resource is what the subscription watches: the messages of the folder.
func (sb *Subscriber) Resource() string {
	return "users/" + url.PathEscape(sb.s.user) + "/mailFolders('" + sb.s.folder + "')/messages"
}

// Create subscribes to new messages in the folder. Graph first validates
// both URLs by posting a validation token to them.
func (sb *Subscriber) Create(ctx context.Context, notificationURL, lifecycleURL, clientState string, expires time.Time) (Subscription, error) {
	body := models.NewSubscription()
	ct, res := "created", sb.Resource()
	body.SetChangeType(&ct)
	body.SetResource(&res)
	body.SetNotificationUrl(&notificationURL)
	if lifecycleURL != "" {
		body.SetLifecycleNotificationUrl(&lifecycleURL)
	}
	body.SetClientState(&clientState)
	exp := expires.UTC()
	body.SetExpirationDateTime(&exp)
	ctx, cancel := context.WithTimeout(ctx, sb.s.callTimeout()+15*time.Second)
	defer cancel()
	got, err := sb.s.client.Subscriptions().Post(ctx, body, nil)
	if err != nil {
		return Subscription{}, sb.s.opError("create subscription", err)
	}
	return toSubscription(got), nil
}

func toSubscription(m models.Subscriptionable) Subscription {
	out := Subscription{ID: deref(m.GetId()), Resource: deref(m.GetResource()), ClientState: deref(m.GetClientState())}
	if e := m.GetExpirationDateTime(); e != nil {
		out.Expires = *e
	}
	return out
}

// Renew moves the subscription's expiry; it also reauthorizes it. A
// subscription Graph no longer has gives ErrSubscriptionGone.
func (sb *Subscriber) Renew(ctx context.Context, id string, expires time.Time) (time.Time, error) {
	body := models.NewSubscription()
	exp := expires.UTC()
	body.SetExpirationDateTime(&exp)
	ctx, cancel := context.WithTimeout(ctx, sb.s.callTimeout())
	defer cancel()
	got, err := sb.s.client.Subscriptions().BySubscriptionId(id).Patch(ctx, body, nil)
	if statusOf(err) == http.StatusNotFound {
		return time.Time{}, fmt.Errorf("renew subscription %s: %w", id, ErrSubscriptionGone)
	}
	if err != nil {
		return time.Time{}, sb.s.opError("renew subscription "+id, err)
	}
	if e := got.GetExpirationDateTime(); e != nil {
		return *e, nil
	}
	return exp, nil
}

// Delete removes the subscription; one already gone is not an error.
func (sb *Subscriber) Delete(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, sb.s.callTimeout())
	defer cancel()
	err := sb.s.client.Subscriptions().BySubscriptionId(id).Delete(ctx, nil)
	if err != nil && statusOf(err) != http.StatusNotFound {
		return sb.s.opError("delete subscription "+id, err)
	}
	return nil
}

// List returns the application's subscriptions on this folder.
func (sb *Subscriber) List(ctx context.Context) ([]Subscription, error) {
	ctx, cancel := context.WithTimeout(ctx, sb.s.callTimeout())
	defer cancel()
	resp, err := sb.s.client.Subscriptions().Get(ctx, nil)
	if err != nil {
		return nil, sb.s.opError("list subscriptions", err)
	}
	var out []Subscription
	for _, m := range resp.GetValue() {
		if deref(m.GetResource()) == sb.Resource() {
			out = append(out, toSubscription(m))
		}
	}
	return out, nil
}

// Close releases the session.
func (sb *Subscriber) Close() error { return sb.s.Close() }
