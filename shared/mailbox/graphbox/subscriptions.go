package graphbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
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

// subscription is the part of a subscription resource the adapter sends
// and reads (https://learn.microsoft.com/graph/api/resources/subscription).
type subscription struct {
	ID                       string     `json:"id,omitempty"`
	ChangeType               string     `json:"changeType,omitempty"`
	NotificationURL          string     `json:"notificationUrl,omitempty"`
	LifecycleNotificationURL string     `json:"lifecycleNotificationUrl,omitempty"`
	Resource                 string     `json:"resource,omitempty"`
	ExpirationDateTime       *time.Time `json:"expirationDateTime,omitempty"`
	ClientState              string     `json:"clientState,omitempty"`
}

// expiry is a subscription's expiry as it is sent: UTC, whole seconds
// (what the Graph SDK sent; the documentation's examples carry at most
// seven fractional digits, Go's encoding nine).
func expiry(t time.Time) *time.Time {
	e := t.UTC().Truncate(time.Second)
	return &e
}

func (m subscription) public() Subscription {
	out := Subscription{ID: m.ID, Resource: m.Resource, ClientState: m.ClientState}
	if m.ExpirationDateTime != nil {
		out.Expires = *m.ExpirationDateTime
	}
	return out
}

// Create subscribes to new messages in the folder
// (https://learn.microsoft.com/graph/api/subscription-post-subscriptions).
// Graph first validates both URLs by posting a validation token to them.
func (sb *Subscriber) Create(ctx context.Context, notificationURL, lifecycleURL, clientState string, expires time.Time) (Subscription, error) {
	body := subscription{ChangeType: "created", Resource: sb.Resource(), NotificationURL: notificationURL,
		LifecycleNotificationURL: lifecycleURL, ClientState: clientState, ExpirationDateTime: expiry(expires)}
	ctx, cancel := context.WithTimeout(ctx, sb.s.callTimeout()+15*time.Second)
	defer cancel()
	var got subscription
	if err := sb.s.call(ctx, http.MethodPost, "/subscriptions", body, &got); err != nil {
		return Subscription{}, sb.s.opError("create subscription", err)
	}
	return got.public(), nil
}

// Renew moves the subscription's expiry; it also reauthorizes it. A
// subscription Graph no longer has gives ErrSubscriptionGone.
func (sb *Subscriber) Renew(ctx context.Context, id string, expires time.Time) (time.Time, error) {
	exp := expiry(expires)
	ctx, cancel := context.WithTimeout(ctx, sb.s.callTimeout())
	defer cancel()
	var got subscription
	err := sb.s.call(ctx, http.MethodPatch, "/subscriptions/"+url.PathEscape(id), subscription{ExpirationDateTime: exp}, &got)
	if statusOf(err) == http.StatusNotFound {
		return time.Time{}, fmt.Errorf("renew subscription %s: %w", id, ErrSubscriptionGone)
	}
	if err != nil {
		return time.Time{}, sb.s.opError("renew subscription "+id, err)
	}
	if got.ExpirationDateTime != nil {
		return *got.ExpirationDateTime, nil
	}
	return *exp, nil
}

// Delete removes the subscription; one already gone is not an error.
func (sb *Subscriber) Delete(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, sb.s.callTimeout())
	defer cancel()
	err := sb.s.call(ctx, http.MethodDelete, "/subscriptions/"+url.PathEscape(id), nil, nil)
	if err != nil && statusOf(err) != http.StatusNotFound {
		return sb.s.opError("delete subscription "+id, err)
	}
	return nil
}

// List returns the application's subscriptions on this folder, following
// @odata.nextLink.
func (sb *Subscriber) List(ctx context.Context) ([]Subscription, error) {
	ctx, cancel := context.WithTimeout(ctx, sb.s.callTimeout())
	defer cancel()
	var out []Subscription
	link := "/subscriptions"
	for range 100 {
		var page struct {
			Value []subscription `json:"value"`
			Next  string         `json:"@odata.nextLink"`
		}
		if err := sb.s.call(ctx, http.MethodGet, link, nil, &page); err != nil {
			return nil, sb.s.opError("list subscriptions", err)
		}
		for _, m := range page.Value {
			if m.Resource == sb.Resource() {
				out = append(out, m.public())
			}
		}
		if page.Next == "" {
			return out, nil
		}
		link = page.Next
	}
	return nil, sb.s.opError("list subscriptions", errors.New("the listing does not end"))
}

// Close releases the session.
func (sb *Subscriber) Close() error { return sb.s.Close() }
