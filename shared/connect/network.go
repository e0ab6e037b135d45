package connect

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox/mailconn"
)

// dialer is the job's one way out (mailconn.Dialer): directly, or through
// server.proxy with the username and password of server.proxySecret. Every
// connection of the job takes it: IMAP, POP3, Graph, EWS and Autodiscover,
// and the OAuth2 token endpoint.
func (o Opener) dialer(ctx context.Context, j *job.Job) (*mailconn.Dialer, error) {
	d := &mailconn.Dialer{Timeout: j.Server.Timeout.D()}
	var user, pass string
	if j.Server.ProxySecret != "" && j.Server.Proxy != "" && j.Server.Proxy != job.ProxyDirect {
		c, err := o.Secrets.Resolve(ctx, j.Server.ProxySecret)
		if err != nil {
			return nil, fmt.Errorf("job %s: resolve server.proxySecret %q: %w", j.ID, j.Server.ProxySecret, err)
		}
		user, pass = c.Username, c.Password
	}
	p, err := mailconn.NewProxy(j.Server, user, pass)
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", j.ID, err)
	}
	d.Proxy = p
	return d, nil
}

// tokenClient is the HTTP client of the job's token endpoint calls, and
// the route it names (for the token source cache): through the job's
// dialer, never the environment's HTTPS_PROXY.
func tokenClient(d *mailconn.Dialer) (*http.Client, string) {
	route := "direct"
	if d.Proxy != nil {
		route = d.Proxy.String() + " noProxy " + strings.Join(d.Proxy.NoProxy, ",")
	}
	return &http.Client{Transport: d.Transport(nil), Timeout: 30 * time.Second}, route
}

// Route says how the job reaches its server, for Test Connection:
// "direct", or the proxy's kind and URL.
func Route(j *job.Job, host string) string {
	p, err := mailconn.NewProxy(j.Server, "", "")
	if err != nil {
		return "invalid server.proxy"
	}
	return (&mailconn.Dialer{Proxy: p}).Describe(host)
}
