// Package connect opens a job's mailbox: it resolves the job's secret and
// picks the adapter for its protocol. The CLI, the local runner and the
// fetch function share it, so a job connects the same way everywhere.
//
// For OAuth2 jobs it keeps one token source per secret for the life of the
// process (mailauth.Tokens), so an access token is reused until shortly
// before it expires, and a refresh token the provider rotates is written
// back to the secret when the resolver can write (secrets.Writer).
package connect

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"golang.org/x/oauth2"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/graphbox"
	"mailconnector/shared/mailbox/imapbox"
	"mailconnector/shared/mailbox/mailauth"
	"mailconnector/shared/mailbox/mailconn"
	"mailconnector/shared/mailbox/mailtrace"
	"mailconnector/shared/mailbox/pop3box"
	"mailconnector/shared/secrets"
)

// Opener opens mailbox sessions for jobs.
type Opener struct {
	Secrets secrets.Resolver
	Logger  *slog.Logger
	// Tokens caches OAuth2 token sources; nil uses one shared by the
	// process.
	Tokens *mailauth.Tokens
	// Resolver looks up host names and the EWS Autodiscover SRV record;
	// nil is net.DefaultResolver.
	Resolver *net.Resolver
}

var processTokens = &mailauth.Tokens{}

// Open resolves the job's secret and opens its mailbox. Connection
// failures are *mailbox.ConnectError naming the step; the secret's value
// never appears in an error.
func (o Opener) Open(ctx context.Context, j *job.Job) (mailbox.Session, error) {
	creds, err := o.credentials(ctx, j)
	if err != nil {
		return nil, err
	}
	d, err := o.dialer(ctx, j)
	if err != nil {
		return nil, err
	}
	var ts oauth2.TokenSource
	if j.Server.Auth.Method == job.AuthOAuth2 {
		src, err := o.tokenSource(j, creds, d)
		if err != nil {
			port := j.Server.Port
			if port == 0 {
				port = job.DefaultPort(j.Server.Protocol, j.Server.Security)
			}
			return nil, &mailbox.ConnectError{Step: mailbox.StepAuth, Server: net.JoinHostPort(j.Server.Host, strconv.Itoa(port)), Err: err}
		}
		ts = src
	}
	switch j.Server.Protocol {
	case job.IMAP:
		s, err := imapbox.Open(ctx, imapbox.Config{Server: j.Server, Credentials: creds, TokenSource: ts, Logger: o.Logger, Dialer: imapbox.DialFunc(d.DialContext), Trace: mailtrace.From(ctx)})
		if err != nil {
			return nil, err
		}
		return s, nil
	case job.POP3:
		s, err := pop3box.Open(ctx, pop3box.Config{Server: j.Server, Credentials: creds, TokenSource: ts, Logger: o.Logger, Dialer: d.DialContext, Trace: mailtrace.From(ctx)})
		if err != nil {
			return nil, err
		}
		return s, nil
	case job.Graph:
		s, err := graphbox.Open(ctx, graphbox.Config{Server: j.Server, TokenSource: ts, Delegated: creds.RefreshToken != "", Logger: o.Logger, Dial: d.DialContext, Trace: mailtrace.From(ctx)})
		if err != nil {
			return nil, err
		}
		return s, nil
	case job.EWS:
		s, err := o.openEWS(ctx, j, creds, ts, d)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("job %s: protocol %s is not supported by this build yet", j.ID, j.Server.Protocol)
}

// credentials resolves the job's secret; for Graph it completes it with
// the token endpoint of the job's cloud and Graph's scopes.
func (o Opener) credentials(ctx context.Context, j *job.Job) (secrets.Credentials, error) {
	creds, err := o.Secrets.Resolve(ctx, j.Server.Auth.Secret)
	if err != nil {
		return creds, fmt.Errorf("job %s: resolve secret %q: %w", j.ID, j.Server.Auth.Secret, err)
	}
	if j.Server.Protocol == job.Graph {
		creds = graphbox.Credentials(j.Server, creds)
	}
	return creds, nil
}

// tokenSource is the oauth2 job's token source, kept for the process
// (Tokens); a resolver that can write keeps rotated refresh tokens.
func (o Opener) tokenSource(j *job.Job, creds secrets.Credentials, d *mailconn.Dialer) (mailauth.TokenSource, error) {
	tokens := o.Tokens
	if tokens == nil {
		tokens = processTokens
	}
	w, _ := o.Secrets.(secrets.Writer)
	hc, route := tokenClient(d)
	return tokens.SourceVia(j.Server.Auth.Secret, creds, w, hc, route)
}
