// Package push turns Graph change notifications into fetch runs, and keeps
// each push-enabled job subscribed
// (https://learn.microsoft.com/graph/change-notifications-delivery-webhooks,
// https://learn.microsoft.com/graph/change-notifications-lifecycle-events).
//
// A notification only says "something arrived": the fetch run's delta
// query finds what. So a burst of notifications for one job becomes one
// fetch: the first marks the job pending and starts a fetch, the others
// find it pending. The fetch run, through Burst, clears the mark when it
// starts and looks at it again when it ends; a notification that came
// meanwhile starts one more run. A mark older than StaleAfter counts as lost (its fetch never
// ran), so the next notification starts a fetch again; the job's schedule
// is the safety net behind all of it.
//
// The package knows no AWS and no Graph API: the subscriptions of a job
// come through Connector, fetch runs start through Fetcher.
package push

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/notify"
	"mailconnector/shared/store"
)

// MaxLifetime is the longest Graph keeps a subscription to messages.
const MaxLifetime = 10080 * time.Minute

// RenewWithin is how close to its expiry a subscription is renewed: the
// renew function runs several times a day, so a day leaves room for a
// few failed attempts.
const RenewWithin = 24 * time.Hour

// MaxNotifications bounds the notifications handled from one batch; the
// rest are counted as ignored and answered 202 with the batch. Graph
// sends far fewer in one POST, and retries any non-2xx answer for up to
// four hours, so refusing the batch would only bring it back. One
// accepted notification per job is all a fetch needs: the run's delta
// query finds every new message.
const MaxNotifications = 1000

// StaleAfter is when a pending mark whose fetch never ran counts as lost.
const StaleAfter = 2 * time.Minute

// ErrGone means Graph no longer has the subscription.
var ErrGone = errors.New("push: the subscription no longer exists")

// Created is a subscription Graph accepted.
type Created struct {
	ID, Resource string
	Expires      time.Time
}

// Subscriptions manages the subscriptions on one job's folder.
type Subscriptions interface {
	Create(ctx context.Context, notificationURL, lifecycleURL, clientState string, expires time.Time) (Created, error)
	// Renew moves the expiry (and reauthorizes); ErrGone when Graph no
	// longer has it.
	Renew(ctx context.Context, id string, expires time.Time) (time.Time, error)
	Delete(ctx context.Context, id string) error
	Close() error
}

// Connector signs in to a job's mailbox for its subscriptions.
type Connector func(ctx context.Context, j *job.Job) (Subscriptions, error)

// Fetcher starts a fetch run of a job without waiting for it (on AWS an
// asynchronous invocation of the fetch function).
type Fetcher interface {
	StartFetch(ctx context.Context, jobID, trigger string) error
}

// Service handles notifications and keeps subscriptions.
type Service struct {
	Jobs    *job.File
	Store   store.Push
	Connect Connector
	Fetch   Fetcher
	// WebhookURL is where Graph sends notifications: WebhookURL+"notify"
	// and, for lifecycle events, WebhookURL+"lifecycle".
	WebhookURL string
	Notifier   notify.Notifier // nil: failures are only logged
	// CheckSignIn, when set, gets a token for each enabled oauth2 job at
	// every Renew, so administrators hear of a revoked or expired sign-in
	// before the job's runs start failing.
	CheckSignIn func(ctx context.Context, j *job.Job) error
	Logger      *slog.Logger
	Now         func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// Enabled reports whether a job is subscribed to push.
func Enabled(j *job.Job) bool {
	return j.Server.Protocol == job.Graph && j.Push.Enabled && j.IsEnabled()
}

// Notification is one entry of a change or lifecycle notification batch.
type Notification struct {
	SubscriptionID string `json:"subscriptionId"`
	ClientState    string `json:"clientState"`
	ChangeType     string `json:"changeType,omitempty"`
	Resource       string `json:"resource,omitempty"`
	LifecycleEvent string `json:"lifecycleEvent,omitempty"`
	TenantID       string `json:"tenantId,omitempty"`
}

// Batch is what Graph posts: {"value": [...]}.
type Batch struct {
	Value []Notification `json:"value"`
}

// Result counts what became of a batch.
type Result struct {
	Accepted int // matched a subscription and its clientState
	Fetches  int // fetch runs started
	Unknown  int // no job has that subscription (an old one, or not ours)
	Refused  int // the clientState did not match
	Ignored  int // past MaxNotifications, or a repeat of one already handled
}

// lookup finds the job and stored subscription of a subscription id among
// the push-enabled jobs (a handful; read once per batch).
type lookup struct {
	s    *Service
	byID map[string]store.Subscription
	done bool
}

func (l *lookup) find(ctx context.Context, id string) (store.Subscription, bool, error) {
	if !l.done {
		l.byID = map[string]store.Subscription{}
		for i := range l.s.Jobs.Jobs {
			j := &l.s.Jobs.Jobs[i]
			if !Enabled(j) {
				continue
			}
			sub, err := l.s.Store.Subscription(ctx, j.ID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return store.Subscription{}, false, err
			}
			l.byID[sub.ID] = sub
		}
		l.done = true
	}
	sub, ok := l.byID[id]
	return sub, ok, nil
}

// check finds n's subscription and compares the clientState in constant
// time. It logs nothing: an unauthenticated batch can hold thousands of
// forged entries, so the caller logs one line per batch with the counts
// of Result.
func (s *Service) check(ctx context.Context, l *lookup, n Notification, res *Result) (store.Subscription, bool, error) {
	sub, ok, err := l.find(ctx, n.SubscriptionID)
	if err != nil {
		return sub, false, err
	}
	if !ok {
		res.Unknown++
		return sub, false, nil
	}
	if subtle.ConstantTimeCompare([]byte(n.ClientState), []byte(sub.ClientState)) != 1 {
		res.Refused++
		return sub, false, nil
	}
	res.Accepted++
	return sub, true, nil
}

// capped returns the notifications of b handled, at most MaxNotifications,
// and counts the rest as ignored.
func capped(b Batch, res *Result) []Notification {
	if len(b.Value) > MaxNotifications {
		res.Ignored += len(b.Value) - MaxNotifications
		return b.Value[:MaxNotifications]
	}
	return b.Value
}

// Notify handles a change notification batch: the accepted notifications
// of a job mark it pending once per batch, and the first mark of a burst
// starts a fetch. It returns an error only when the marks could not be
// stored (the webhook then answers 5xx and Graph delivers again).
func (s *Service) Notify(ctx context.Context, b Batch) (Result, error) {
	var res Result
	l := &lookup{s: s}
	var jobs []string
	seen := map[string]bool{}
	for _, n := range capped(b, &res) {
		sub, ok, err := s.check(ctx, l, n, &res)
		if err != nil {
			return res, err
		}
		if !ok {
			continue
		}
		if !seen[sub.JobID] {
			seen[sub.JobID] = true
			jobs = append(jobs, sub.JobID)
		}
	}
	for _, id := range jobs {
		if err := s.poke(ctx, id, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// poke marks a job pending and starts a fetch when it is the first mark.
func (s *Service) poke(ctx context.Context, jobID string, res *Result) error {
	first, err := s.Store.MarkPushPending(ctx, jobID, s.now(), StaleAfter)
	if err != nil {
		return fmt.Errorf("job %s: note the notification: %w", jobID, err)
	}
	if !first {
		return nil
	}
	if err := s.Fetch.StartFetch(ctx, jobID, "push"); err != nil {
		// The mark stays: the next notification after StaleAfter, or the
		// schedule, fetches.
		s.log().Error("start a fetch for a notification", "job", jobID, "err", err)
		return nil
	}
	res.Fetches++
	return nil
}

// Lifecycle handles a lifecycle notification batch: reauthorizationRequired
// renews (which reauthorizes), subscriptionRemoved subscribes again and
// fetches (mail may have come meanwhile), missed fetches.
func (s *Service) Lifecycle(ctx context.Context, b Batch) (Result, error) {
	var res Result
	l := &lookup{s: s}
	seen := map[string]bool{} // subscription and event: each handled once a batch
	for _, n := range capped(b, &res) {
		sub, ok, err := s.check(ctx, l, n, &res)
		if err != nil {
			return res, err
		}
		if !ok {
			continue
		}
		if k := sub.ID + "\x00" + n.LifecycleEvent; seen[k] {
			res.Ignored++
			continue
		} else {
			seen[k] = true
		}
		j, found := s.Jobs.Job(sub.JobID)
		if !found {
			continue
		}
		log := s.log().With("job", j.ID, "subscription", sub.ID, "event", n.LifecycleEvent)
		switch n.LifecycleEvent {
		case "reauthorizationRequired":
			if err := s.renewOne(ctx, j, sub, true); err != nil {
				log.Error("reauthorize subscription", "err", err)
			}
		case "subscriptionRemoved":
			if err := s.DropSubscription(ctx, j); err != nil {
				log.Error("forget removed subscription", "err", err)
			}
			if _, err := s.subscribe(ctx, j); err != nil {
				log.Error("subscribe again", "err", err)
			}
			if err := s.poke(ctx, j.ID, &res); err != nil {
				return res, err
			}
		case "missed":
			if err := s.poke(ctx, j.ID, &res); err != nil {
				return res, err
			}
		default:
			log.Warn("unknown lifecycle event ignored")
		}
	}
	return res, nil
}

// NotificationURL and LifecycleURL are the webhook's two endpoints.
func (s *Service) NotificationURL() string { return strings.TrimRight(s.WebhookURL, "/") + "/notify" }
func (s *Service) LifecycleURL() string    { return strings.TrimRight(s.WebhookURL, "/") + "/lifecycle" }

func newClientState() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// expiry is the expiry asked for: the longest Graph allows, less a margin
// for clock skew.
func (s *Service) expiry() time.Time { return s.now().Add(MaxLifetime - 10*time.Minute) }

// subscribe creates a subscription for the job and stores it.
func (s *Service) subscribe(ctx context.Context, j *job.Job) (store.Subscription, error) {
	if s.WebhookURL == "" {
		return store.Subscription{}, errors.New("no webhook URL is configured (CONNECTOR_WEBHOOK_URL)")
	}
	subs, err := s.Connect(ctx, j)
	if err != nil {
		return store.Subscription{}, err
	}
	defer subs.Close()
	state := newClientState()
	c, err := subs.Create(ctx, s.NotificationURL(), s.LifecycleURL(), state, s.expiry())
	if err != nil {
		return store.Subscription{}, err
	}
	sub := store.Subscription{JobID: j.ID, ID: c.ID, Resource: c.Resource, ClientState: state, Expires: c.Expires, Created: s.now()}
	if err := s.Store.PutSubscription(ctx, sub); err != nil {
		// Graph has it, we do not: delete it rather than leave it
		// sending notifications nobody can check.
		_ = subs.Delete(ctx, c.ID)
		return store.Subscription{}, err
	}
	s.log().Info("subscribed to change notifications", "job", j.ID, "subscription", c.ID, "expires", c.Expires)
	return sub, nil
}

// renewOne renews sub (now, or when it expires within RenewWithin), and
// subscribes again when Graph no longer has it.
func (s *Service) renewOne(ctx context.Context, j *job.Job, sub store.Subscription, force bool) error {
	if !force && sub.Expires.Sub(s.now()) > RenewWithin {
		return nil
	}
	subs, err := s.Connect(ctx, j)
	if err != nil {
		return err
	}
	defer subs.Close()
	exp, err := subs.Renew(ctx, sub.ID, s.expiry())
	if errors.Is(err, ErrGone) {
		s.log().Warn("subscription gone; subscribing again and fetching", "job", j.ID, "subscription", sub.ID)
		if err := s.Store.DeleteSubscription(ctx, j.ID); err != nil {
			return err
		}
		if _, err := s.subscribe(ctx, j); err != nil {
			return err
		}
		var res Result
		return s.poke(ctx, j.ID, &res)
	}
	if err != nil {
		return err
	}
	sub.Expires = exp
	return s.Store.PutSubscription(ctx, sub)
}

// DropSubscription forgets the job's subscription in the store.
func (s *Service) DropSubscription(ctx context.Context, j *job.Job) error {
	return s.Store.DeleteSubscription(ctx, j.ID)
}

// JobReport is what Renew did for one job.
type JobReport struct {
	JobID   string    `json:"jobId"`
	Action  string    `json:"action"` // subscribed, renewed, kept, unsubscribed, failed, sign-in failing
	Expires time.Time `json:"expires,omitempty"`
	Error   string    `json:"error,omitempty"`
}

// Renew subscribes every push-enabled job that has no subscription,
// renews those expiring within RenewWithin, subscribes again where Graph
// dropped one, and unsubscribes jobs that no longer push. A job's failure
// does not stop the others; each failure is reported to the
// administrators.
func (s *Service) Renew(ctx context.Context) []JobReport {
	var out []JobReport
	for i := range s.Jobs.Jobs {
		j := &s.Jobs.Jobs[i]
		if s.CheckSignIn == nil || j.Server.Auth.Method != job.AuthOAuth2 || !j.IsEnabled() {
			continue
		}
		if err := s.CheckSignIn(ctx, j); err != nil {
			out = append(out, JobReport{JobID: j.ID, Action: "sign-in failing", Error: err.Error()})
			s.log().Error("sign-in check failed", "job", j.ID, "err", err)
			if s.Notifier != nil {
				_ = s.Notifier.Notify(ctx, notify.Notice{Kind: notify.Alert, JobID: j.ID,
					Subject: fmt.Sprintf("Mail connector: job %s cannot sign in", j.ID),
					Body: fmt.Sprintf("The connector could not get an access token for job %s:\n\n%s\n\n"+
						"Its runs will fail until the sign-in is renewed: for a delegated sign-in run `connector oauth login %s` "+
						"(or send a `connector oauth link`); for an app, check its client secret.", j.ID, err, j.ID)})
			}
		}
	}
	for i := range s.Jobs.Jobs {
		j := &s.Jobs.Jobs[i]
		rep := JobReport{JobID: j.ID}
		sub, err := s.Store.Subscription(ctx, j.ID)
		has := err == nil
		switch {
		case err != nil && !errors.Is(err, store.ErrNotFound):
			rep.Action, rep.Error = "failed", err.Error()
		case !Enabled(j):
			if !has {
				continue
			}
			rep.Action = "unsubscribed"
			if j.Server.Protocol == job.Graph {
				if subs, err := s.Connect(ctx, j); err == nil {
					if err := subs.Delete(ctx, sub.ID); err != nil {
						s.log().Warn("delete subscription", "job", j.ID, "err", err)
					}
					subs.Close()
				}
			}
			if err := s.Store.DeleteSubscription(ctx, j.ID); err != nil {
				rep.Action, rep.Error = "failed", err.Error()
			}
		case !has:
			created, err := s.subscribe(ctx, j)
			if err != nil {
				rep.Action, rep.Error = "failed", err.Error()
				break
			}
			rep.Action, rep.Expires = "subscribed", created.Expires
		case sub.Expires.Sub(s.now()) > RenewWithin:
			rep.Action, rep.Expires = "kept", sub.Expires
		default:
			if err := s.renewOne(ctx, j, sub, true); err != nil {
				rep.Action, rep.Error = "failed", err.Error()
				break
			}
			now, _ := s.Store.Subscription(ctx, j.ID)
			rep.Action, rep.Expires = "renewed", now.Expires
		}
		if rep.Action == "failed" {
			s.log().Error("keep subscription", "job", j.ID, "err", rep.Error)
			if s.Notifier != nil {
				_ = s.Notifier.Notify(ctx, notify.Notice{Kind: notify.Alert, JobID: j.ID,
					Subject: fmt.Sprintf("Mail connector: job %s: push subscription failed", j.ID),
					Body: fmt.Sprintf("The connector could not keep job %s subscribed to new-mail notifications:\n\n%s\n\n"+
						"Mail still arrives on the job's schedule. Check the job's sign-in (connector test %s) and the webhook URL.", j.ID, rep.Error, j.ID)})
			}
		}
		out = append(out, rep)
	}
	return out
}
