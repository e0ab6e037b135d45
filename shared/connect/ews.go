package connect

import (
	"context"
	"fmt"
	"net"
	"net/mail"

	"golang.org/x/oauth2"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox/ewsbox"
	"mailconnector/shared/mailbox/mailconn"
	"mailconnector/shared/mailbox/mailtrace"
	"mailconnector/shared/secrets"
)

// ewsConfig builds the EWS session's configuration from the job: method
// password signs in with HTTP Basic, spa with NTLM, oauth2 with a Bearer
// token from the job's token source. The URL is server.ews.url, else
// https://host:port/EWS/Exchange.asmx, else found by Autodiscover from
// server.ews.mailbox or the sign-in address. incoming.purge, like
// server.ews.hardDelete, deletes for good.
func ewsConfig(j *job.Job, creds secrets.Credentials, ts oauth2.TokenSource, resolver *net.Resolver) (ewsbox.Config, error) {
	e := j.Server.EWS
	if e == nil {
		e = &job.EWSSettings{}
	}
	cfg := ewsbox.Config{Server: j.Server, Endpoint: e.URL, Username: creds.Username, Password: creds.Password, TokenSource: ts,
		Mailbox: e.Mailbox, Delegate: e.Access == job.EWSDelegate, Version: e.Version,
		HardDelete: e.HardDelete || j.Incoming.Purge, Resolver: resolver}
	switch j.Server.Auth.Method {
	case job.AuthSPA:
		cfg.Auth = ewsbox.AuthNTLM
	case job.AuthOAuth2:
		cfg.Auth = ewsbox.AuthBearer
	default:
		cfg.Auth = ewsbox.AuthBasic
	}
	if e.Autodiscover {
		cfg.Autodiscover = e.Mailbox
		if cfg.Autodiscover == "" {
			if a, err := mail.ParseAddress(creds.Username); err == nil && a.Address == creds.Username {
				cfg.Autodiscover = creds.Username
			}
		}
		if cfg.Autodiscover == "" {
			return cfg, fmt.Errorf("job %s: server.ews.autodiscover needs an email address: set server.ews.mailbox, or sign in as user@domain", j.ID)
		}
	}
	return cfg, nil
}

func (o Opener) openEWS(ctx context.Context, j *job.Job, creds secrets.Credentials, ts oauth2.TokenSource, d *mailconn.Dialer) (*ewsbox.Session, error) {
	cfg, err := ewsConfig(j, creds, ts, o.Resolver)
	if err != nil {
		return nil, err
	}
	cfg.Dial, cfg.Trace = d.DialContext, mailtrace.From(ctx)
	return ewsbox.Open(ctx, cfg)
}
