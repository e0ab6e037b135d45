package connect

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox/graphbox"
	"mailconnector/shared/push"
	"mailconnector/shared/secrets"
)

// Subscriptions signs in to a Graph job's mailbox for its change
// notification subscriptions (push.Connector).
func (o Opener) Subscriptions(ctx context.Context, j *job.Job) (push.Subscriptions, error) {
	if j.Server.Protocol != job.Graph {
		return nil, fmt.Errorf("job %s: push needs protocol graph, not %s", j.ID, j.Server.Protocol)
	}
	creds, ts, err := o.jobTokens(ctx, j)
	if err != nil {
		return nil, err
	}
	d, err := o.dialer(ctx, j)
	if err != nil {
		return nil, err
	}
	sb, err := graphbox.NewSubscriber(ctx, graphbox.Config{Server: j.Server, TokenSource: ts, Delegated: creds.RefreshToken != "", Logger: o.Logger, Dial: d.DialContext})
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", j.ID, err)
	}
	return subscriptions{sb}, nil
}

// jobTokens resolves an oauth2 job's secret (completed for Graph with its
// cloud's token endpoint and scopes) and its token source, which keeps
// rotated refresh tokens when the resolver can write.
func (o Opener) jobTokens(ctx context.Context, j *job.Job) (secrets.Credentials, oauth2.TokenSource, error) {
	creds, err := o.credentials(ctx, j)
	if err != nil {
		return creds, nil, err
	}
	d, err := o.dialer(ctx, j)
	if err != nil {
		return creds, nil, err
	}
	ts, err := o.tokenSource(j, creds, d)
	if err != nil {
		return creds, nil, fmt.Errorf("job %s: %w", j.ID, err)
	}
	return creds, ts, nil
}

type subscriptions struct{ sb *graphbox.Subscriber }

func (s subscriptions) Create(ctx context.Context, notificationURL, lifecycleURL, clientState string, expires time.Time) (push.Created, error) {
	c, err := s.sb.Create(ctx, notificationURL, lifecycleURL, clientState, expires)
	return push.Created{ID: c.ID, Resource: c.Resource, Expires: c.Expires}, err
}

func (s subscriptions) Renew(ctx context.Context, id string, expires time.Time) (time.Time, error) {
	t, err := s.sb.Renew(ctx, id, expires)
	if errors.Is(err, graphbox.ErrSubscriptionGone) {
		return t, fmt.Errorf("%w: %v", push.ErrGone, err)
	}
	return t, err
}

func (s subscriptions) Delete(ctx context.Context, id string) error { return s.sb.Delete(ctx, id) }
func (s subscriptions) Close() error                                { return s.sb.Close() }

// CheckSignIn gets an access token for an oauth2 job the way a run would
// (refreshing it, and writing back a rotated refresh token), so that a
// revoked or expired sign-in is found between runs. Other jobs pass.
func (o Opener) CheckSignIn(ctx context.Context, j *job.Job) error {
	if j.Server.Auth.Method != job.AuthOAuth2 {
		return nil
	}
	_, ts, err := o.jobTokens(ctx, j)
	if err != nil {
		return err
	}
	if _, err := ts.Token(); err != nil {
		return fmt.Errorf("job %s: sign-in: %w", j.ID, err)
	}
	return nil
}
