// Package smsecrets resolves secret references from AWS Secrets Manager:
// the reference is the secret's name, its value the JSON of
// secrets.Credentials. Values are cached briefly (Secrets Manager allows
// few calls per second), and a rotated OAuth refresh token is written back
// only when it changed.
package smsecrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"mailconnector/shared/secrets"
)

// Options configure a Resolver; nil means the defaults.
type Options struct {
	// CacheTTL is how long a value read is reused: 5 minutes when zero,
	// no caching when negative. Secrets Manager allows a few thousand
	// GetSecretValue calls per second per account, shared by every
	// function; a job's runs every few minutes then cost one read each.
	CacheTTL time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Resolver reads secrets from Secrets Manager.
type Resolver struct {
	c *secretsmanager.Client
	o Options

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	creds secrets.Credentials
	until time.Time
}

var _ secrets.Resolver = (*Resolver)(nil)

// New returns a Resolver.
func New(c *secretsmanager.Client, opts *Options) *Resolver {
	r := &Resolver{c: c, cache: map[string]cached{}}
	if opts != nil {
		r.o = *opts
	}
	if r.o.CacheTTL == 0 {
		r.o.CacheTTL = 5 * time.Minute
	}
	if r.o.Now == nil {
		r.o.Now = time.Now
	}
	return r
}

// Resolve returns the credentials the secret named ref holds.
func (r *Resolver) Resolve(ctx context.Context, ref string) (secrets.Credentials, error) {
	now := r.o.Now()
	r.mu.Lock()
	if c, ok := r.cache[ref]; ok && now.Before(c.until) {
		r.mu.Unlock()
		return c.creds, nil
	}
	r.mu.Unlock()
	creds, err := r.read(ctx, ref)
	if err != nil {
		return secrets.Credentials{}, err
	}
	r.mu.Lock()
	r.cache[ref] = cached{creds: creds, until: now.Add(r.o.CacheTTL)}
	r.mu.Unlock()
	return creds, nil
}

func (r *Resolver) read(ctx context.Context, ref string) (secrets.Credentials, error) {
	out, err := r.c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(ref)})
	if err != nil {
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return secrets.Credentials{}, fmt.Errorf("smsecrets: secret %q: %w", ref, secrets.ErrNotFound)
		}
		return secrets.Credentials{}, fmt.Errorf("smsecrets: read secret %q: %w", ref, err)
	}
	var c secrets.Credentials
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &c); err != nil {
		// The JSON error may quote the value: never pass it on.
		return secrets.Credentials{}, fmt.Errorf("smsecrets: secret %q is not a JSON object of credentials", ref)
	}
	secrets.Register(c)
	return c, nil
}

// WriteBack stores c's refresh token in the secret named ref when it
// differs from the stored one (an OAuth server rotated it), keeping the
// secret's other fields as stored; it reports whether it wrote. It
// compares with the stored value read afresh, not with the cache. An
// empty refresh token (a token response without one keeps the old one)
// writes nothing.
func (r *Resolver) WriteBack(ctx context.Context, ref string, c secrets.Credentials) (changed bool, err error) {
	if c.RefreshToken == "" {
		return false, nil
	}
	secrets.Register(c)
	stored, err := r.read(ctx, ref)
	if err != nil {
		return false, err
	}
	if stored.RefreshToken == c.RefreshToken {
		return false, nil
	}
	stored.RefreshToken = c.RefreshToken
	b, err := json.Marshal(stored)
	if err != nil {
		return false, fmt.Errorf("smsecrets: encode secret %q", ref) // no %w: the error could quote a value
	}
	if _, err := r.c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(ref), SecretString: aws.String(string(b))}); err != nil {
		return false, fmt.Errorf("smsecrets: write secret %q: %w", ref, err)
	}
	r.mu.Lock()
	r.cache[ref] = cached{creds: stored, until: r.o.Now().Add(r.o.CacheTTL)}
	r.mu.Unlock()
	return true, nil
}
