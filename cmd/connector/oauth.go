package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox/mailauth"
	"mailconnector/shared/secrets"
	"mailconnector/shared/signin"
)

func newOAuthCmd(a *app) *cobra.Command {
	login := command("login JOB [--jobs FILE] [--state DIR] [--aws]", "sign in as the mailbox's user (device code); stores the refresh token in the job's secret", exactArgs(1),
		func(cmd *cobra.Command, args []string) error {
			return cmdOAuthLogin(cmd.Context(), &a.common, args[0], a.stdout)
		})
	var url string
	link := command("link JOB --url WEBHOOK_URL [--jobs FILE] [--aws]", "print a one-time sign-in link served by the deployed webhook", exactArgs(1),
		func(cmd *cobra.Command, args []string) error {
			if url == "" {
				return usageError(cmd)
			}
			return cmdOAuthLink(cmd.Context(), &a.common, args[0], url, a.stdout)
		})
	link.Flags().StringVar(&url, "url", os.Getenv("CONNECTOR_WEBHOOK_URL"), "the webhook's URL (stack output WebhookUrl)")
	return group("oauth", "delegated sign-in for oauth2 jobs", login, link)
}

// cmdOAuthLogin is `connector oauth login JOB`: the device code flow
// (RFC 8628, https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code)
// for a delegated sign-in. The administrator opens the printed address on
// any device, enters the code and signs in as the mailbox's user; the
// refresh token goes into the job's secret (secrets.yaml locally, Secrets
// Manager with --aws), beside the clientId and tenantId already there.
func cmdOAuthLogin(ctx context.Context, c *common, id string, stdout io.Writer) error {
	j, b, err := oauthJob(ctx, c, "login", id)
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
		return &exitError{code: 1, msg: fmt.Sprintf("job %s: start the sign-in: %v", j.ID, mailauth.DescribeTokenError(conf.Endpoint.DeviceAuthURL, err))}
	}
	fmt.Fprintf(stdout, "job %s: to sign in, open %s and enter the code %s\n", j.ID, da.VerificationURI, da.UserCode)
	fmt.Fprintf(stdout, "  sign in as the mailbox's user (%s); waiting…\n", mailboxOf(j, creds))
	tok, err := conf.DeviceAccessToken(ctx, da)
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("job %s: sign-in did not complete: %v", j.ID, mailauth.DescribeTokenError(conf.Endpoint.TokenURL, err))}
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

// deviceConfig is the job's delegated sign-in configuration (package
// signin), checked to have a device code endpoint.
func deviceConfig(j *job.Job, c secrets.Credentials) (*oauth2.Config, error) {
	return signin.Config(j, c)
}

// cmdOAuthLink is `connector oauth link JOB --url URL`: a one-time sign-in
// link (valid an hour) served by the webhook function at URL (the stack's
// WebhookUrl output), for an administrator who signs in with a browser.
func cmdOAuthLink(ctx context.Context, c *common, id, base string, stdout io.Writer) error {
	if err := signin.CheckURL(base); err != nil {
		return &exitError{code: 2, msg: fmt.Sprintf("--url: %v", err)}
	}
	j, b, err := oauthJob(ctx, c, "link", id)
	if err != nil {
		return err
	}
	defer b.close()
	link, err := signin.NewLink(ctx, b.store, j.ID, base, time.Now())
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("job %s: store the sign-in link: %v", j.ID, err)}
	}
	fmt.Fprintf(stdout, "job %s: sign-in link (one use, valid %s):\n%s\n", j.ID, signin.LinkLifetime, link)
	fmt.Fprintf(stdout, "  the app registration needs the redirect URI %s/callback\n", strings.TrimRight(base, "/"))
	return nil
}

// oauthJob finds the job named id for `connector oauth NAME`, checks it
// signs in with oauth2, and opens the backend.
func oauthJob(ctx context.Context, c *common, name, id string) (*job.Job, *backend, error) {
	j, err := c.job(id)
	if err != nil {
		return nil, nil, err
	}
	if j.Server.Auth.Method != job.AuthOAuth2 {
		return nil, nil, &exitError{code: 2, msg: fmt.Sprintf("job %s: server.auth.method is %s; oauth %s is for oauth2 jobs", j.ID, j.Server.Auth.Method, name)}
	}
	b, err := c.backend(ctx)
	if err != nil {
		return nil, nil, err
	}
	return j, b, nil
}
