package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"golang.org/x/oauth2"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox/graphbox"
	"mailconnector/shared/secrets"
)

// cmdOAuth is `connector oauth login JOB`: the device code flow
// (RFC 8628, https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code)
// for a delegated sign-in. The administrator opens the printed address on
// any device, enters the code and signs in as the mailbox's user; the
// refresh token goes into the job's secret (secrets.yaml locally, Secrets
// Manager with --aws), beside the clientId and tenantId already there.
func cmdOAuth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "login" {
		return &exitError{code: 2, msg: "usage: connector oauth login JOB [--jobs FILE] [--state DIR] [--aws]"}
	}
	var c common
	fs := newFlagSet("oauth login", stderr)
	c.register(fs)
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &exitError{code: 2, msg: "usage: connector oauth login JOB [--jobs FILE] [--state DIR] [--aws]"}
	}
	jobs, err := c.loadJobs()
	if err != nil {
		return err
	}
	j, err := findJob(jobs, pos[0])
	if err != nil {
		return err
	}
	if j.Server.Auth.Method != job.AuthOAuth2 {
		return &exitError{code: 2, msg: fmt.Sprintf("job %s: server.auth.method is %s; oauth login is for oauth2 jobs", j.ID, j.Server.Auth.Method)}
	}
	b, err := c.backend(ctx)
	if err != nil {
		return err
	}
	defer b.close()
	w, ok := b.secrets.(secrets.Writer)
	if !ok {
		return &exitError{code: 1, msg: fmt.Sprintf("job %s: the secret store cannot be written", j.ID)}
	}
	ref := j.Server.Auth.Secret
	creds, err := b.secrets.Resolve(ctx, ref)
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("job %s: secret %q: %v (put clientId and tenantId in it first)", j.ID, ref, err)}
	}
	conf, err := deviceConfig(j, creds)
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("job %s: %v", j.ID, err)}
	}
	da, err := conf.DeviceAuth(ctx)
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("job %s: start the sign-in: %v", j.ID, err)}
	}
	fmt.Fprintf(stdout, "job %s: to sign in, open %s and enter the code %s\n", j.ID, da.VerificationURI, da.UserCode)
	fmt.Fprintf(stdout, "  sign in as the mailbox's user (%s); waiting…\n", mailboxOf(j, creds))
	tok, err := conf.DeviceAccessToken(ctx, da)
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("job %s: sign-in did not complete: %v", j.ID, err)}
	}
	if tok.RefreshToken == "" {
		return &exitError{code: 1, msg: fmt.Sprintf("job %s: the provider gave no refresh token (ask for the offline_access scope)", j.ID)}
	}
	creds.RefreshToken = tok.RefreshToken
	creds.Scopes = conf.Scopes
	if _, err := w.WriteBack(ctx, ref, creds); err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("job %s: store the refresh token in secret %q: %v", j.ID, ref, err)}
	}
	fmt.Fprintf(stdout, "job %s: signed in; the refresh token is in secret %q. Check with: connector test %s\n", j.ID, ref, j.ID)
	return nil
}

func mailboxOf(j *job.Job, c secrets.Credentials) string {
	if j.Server.Mailbox != "" {
		return j.Server.Mailbox
	}
	return c.Username
}

// deviceConfig is the device code flow of the job's provider: the
// Microsoft identity platform of the job's cloud and tenant, or the
// secret's tokenUrl (whose /token becomes /devicecode). Scopes are the
// secret's, else those the protocol needs for a user.
func deviceConfig(j *job.Job, c secrets.Credentials) (*oauth2.Config, error) {
	if c.ClientID == "" {
		return nil, fmt.Errorf("secret %q has no clientId (the app registration's application id)", j.Server.Auth.Secret)
	}
	tokenURL := c.TokenURL
	if tokenURL == "" {
		if c.TenantID == "" {
			return nil, fmt.Errorf("secret %q has neither tenantId nor tokenUrl", j.Server.Auth.Secret)
		}
		login := graphbox.CloudOf(j.Server).Login
		tokenURL = "https://" + login + "/" + c.TenantID + "/oauth2/v2.0/token"
	}
	if !strings.HasSuffix(tokenURL, "/token") {
		return nil, fmt.Errorf("tokenUrl %s does not end in /token: the device code endpoint is unknown", tokenURL)
	}
	scopes := c.Scopes
	if len(scopes) == 0 {
		switch j.Server.Protocol {
		case job.Graph:
			scopes = []string{"https://" + graphbox.CloudOf(j.Server).Graph + "/Mail.ReadWrite", "offline_access"}
		case job.POP3:
			scopes = []string{"https://outlook.office.com/POP.AccessAsUser.All", "offline_access"}
		default:
			scopes = []string{"https://outlook.office.com/IMAP.AccessAsUser.All", "offline_access"}
		}
	}
	return &oauth2.Config{
		ClientID: c.ClientID, ClientSecret: c.ClientSecret, Scopes: scopes,
		Endpoint: oauth2.Endpoint{TokenURL: tokenURL, DeviceAuthURL: strings.TrimSuffix(tokenURL, "/token") + "/devicecode", AuthStyle: oauth2.AuthStyleInParams},
	}, nil
}
