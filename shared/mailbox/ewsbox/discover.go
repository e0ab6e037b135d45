package ewsbox

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/mailconn"
)

// StepAutodiscover is the connection step that finds the EWS URL from the
// mailbox address.
const StepAutodiscover mailbox.Step = "Autodiscover"

// The SOAP Autodiscover service (Exchange 2010 and later):
// https://learn.microsoft.com/exchange/client-developer/web-service-reference/getusersettings-operation-soap
const (
	nsAutodiscover     = "http://schemas.microsoft.com/exchange/2010/Autodiscover"
	nsAddressing       = "http://www.w3.org/2005/08/addressing"
	actionUserSettings = nsAutodiscover + "/Autodiscover/GetUserSettings"
)

// String is the attempt as Test Connection shows it.
func (a Attempt) String() string {
	switch {
	case a.Err != nil:
		return a.URL + ": " + a.Err.Error()
	case a.EWSURL != "":
		return a.URL + ": EWS at " + a.EWSURL
	}
	return a.URL + ": " + a.Found
}

// DiscoverError is Autodiscover finding no EWS URL: every attempt failed.
type DiscoverError struct {
	Address  string
	Attempts []Attempt
}

func (e *DiscoverError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "found no EWS URL for %s (tried %d)", e.Address, len(e.Attempts))
	for _, a := range e.Attempts {
		b.WriteString("; ")
		b.WriteString(a.String())
	}
	return b.String()
}

// Discover finds the EWS URL of address the way Exchange clients do
// (https://learn.microsoft.com/exchange/client-developer/exchange-web-services/autodiscover-for-exchange):
// the SOAP then the POX Autodiscover service at https://DOMAIN and at
// https://autodiscover.DOMAIN, then at each target of the DNS SRV record
// _autodiscover._tcp.DOMAIN (RFC 2782), with cfg's sign-in and TLS
// settings. It stops at the first EWS URL and returns every attempt, for
// Test Connection to show. It does not query Active Directory for a
// service connection point (that needs a domain-joined Windows client)
// and does not follow the unauthenticated plain-HTTP redirect method.
func Discover(ctx context.Context, cfg Config, address string) (string, []Attempt, error) {
	_, domain, ok := strings.Cut(address, "@")
	if !ok || domain == "" || strings.ContainsAny(domain, "/ :") {
		return "", nil, fmt.Errorf("autodiscover: %q is not an email address", address)
	}
	var attempts []Attempt
	try := func(base string) string {
		for _, soap := range []bool{true, false} {
			u := base + "/autodiscover/autodiscover.xml"
			if soap {
				u = base + "/autodiscover/autodiscover.svc"
			}
			ews, err := autodiscoverAt(ctx, cfg, u, address, soap)
			attempts = append(attempts, Attempt{URL: u, EWSURL: ews, Err: err})
			if err == nil {
				return ews
			}
		}
		return ""
	}
	for _, host := range []string{domain, "autodiscover." + domain} {
		if ews := try("https://" + host); ews != "" {
			return ews, attempts, nil
		}
		if ctx.Err() != nil {
			return "", attempts, ctx.Err()
		}
	}
	name := "_autodiscover._tcp." + domain
	_, srvs, err := cfg.resolver().LookupSRV(ctx, "autodiscover", "tcp", domain)
	if err != nil || len(srvs) == 0 {
		if err == nil {
			err = errors.New("no SRV record")
		}
		attempts = append(attempts, Attempt{URL: "DNS SRV " + name, Err: err})
		return "", attempts, &DiscoverError{Address: address, Attempts: attempts}
	}
	var found []string
	for _, s := range srvs {
		found = append(found, net.JoinHostPort(strings.TrimSuffix(s.Target, "."), strconv.Itoa(int(s.Port))))
	}
	attempts = append(attempts, Attempt{URL: "DNS SRV " + name, Found: strings.Join(found, ", ")})
	for _, hp := range found {
		if ews := try("https://" + hp); ews != "" {
			return ews, attempts, nil
		}
	}
	return "", attempts, &DiscoverError{Address: address, Attempts: attempts}
}

// autodiscoverAt asks one Autodiscover URL.
func autodiscoverAt(ctx context.Context, cfg Config, u, address string, soap bool) (string, error) {
	cfg.Endpoint = u
	c, err := newClient(cfg)
	if err != nil {
		return "", err
	}
	defer c.http.CloseIdleConnections()
	var ews string
	if soap {
		ews, err = c.getUserSettings(ctx, address)
	} else {
		ews, err = c.autodiscover(ctx, address)
	}
	// The attempt names the URL already: say only what went wrong.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return ews, err
}

// getUserSettings asks the SOAP Autodiscover service for the user's EWS
// URL (ExternalEwsUrl, else InternalEwsUrl), following one redirect to
// another address or URL.
func (c *client) getUserSettings(ctx context.Context, address string) (string, error) {
	for hop := 0; ; hop++ {
		env, err := c.postAutodiscover(ctx, address)
		if err != nil {
			return "", err
		}
		ur := env.find("UserResponse")
		if ur == nil {
			if code := env.text("ErrorCode"); code != "" && code != "NoError" {
				return "", fmt.Errorf("autodiscover %s: %s", code, env.text("ErrorMessage"))
			}
			return "", errors.New("the GetUserSettings response holds no UserResponse")
		}
		code := ur.text("ErrorCode")
		switch code {
		case "", "NoError":
		case "RedirectAddress", "RedirectUrl":
			target := ur.text("RedirectTarget")
			if hop > 0 || target == "" {
				return "", fmt.Errorf("autodiscover %s to %q: too many redirects", code, target)
			}
			if code == "RedirectAddress" {
				address = target
			} else if strings.HasPrefix(target, "https://") {
				c.url = target
			} else {
				return "", fmt.Errorf("autodiscover RedirectUrl to %q: not https", target)
			}
			continue
		default:
			return "", fmt.Errorf("autodiscover %s: %s", code, ur.text("ErrorMessage"))
		}
		settings := map[string]string{}
		for _, s := range ur.findAll("UserSetting") {
			settings[s.text("Name")] = s.text("Value")
		}
		for _, name := range []string{"ExternalEwsUrl", "InternalEwsUrl"} {
			if u := settings[name]; u != "" {
				return u, nil
			}
		}
		return "", errors.New("the GetUserSettings response names no EWS URL")
	}
}

func (c *client) postAutodiscover(ctx context.Context, address string) (*node, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="%s" xmlns:a="%s" xmlns:wsa="%s"><soap:Header><a:RequestedServerVersion>Exchange2013</a:RequestedServerVersion><wsa:Action>%s</wsa:Action><wsa:To>%s</wsa:To></soap:Header>`,
		nsSoap, nsAutodiscover, nsAddressing, actionUserSettings, esc(c.url))
	fmt.Fprintf(&b, `<soap:Body><a:GetUserSettingsRequestMessage><a:Request><a:Users><a:User><a:Mailbox>%s</a:Mailbox></a:User></a:Users><a:RequestedSettings><a:Setting>ExternalEwsUrl</a:Setting><a:Setting>InternalEwsUrl</a:Setting></a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage></soap:Body></soap:Envelope>`,
		esc(address))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, &b)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", `"`+actionUserSettings+`"`)
	if err := c.auth(req); err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &HTTPError{Status: resp.StatusCode, Body: strings.TrimSpace(string(body[:min(len(body), 200)]))}
	}
	var env node
	if err := xml.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("read the GetUserSettings response: %w", err)
	}
	return &env, nil
}

func (cfg *Config) resolver() *net.Resolver {
	if cfg.Resolver != nil {
		return cfg.Resolver
	}
	return net.DefaultResolver
}

// dial connects to host:port through cfg.Dial (the job's dialer, which
// resolves names itself: a proxy does it remotely), or directly. A
// Resolver given resolves host first, whichever dials.
func (cfg *Config) dial(ctx context.Context, host string, port int, timeout time.Duration) (net.Conn, error) {
	if cfg.Resolver == nil || net.ParseIP(host) != nil {
		return mailconn.Dial(ctx, cfg.Dial, host, port, timeout)
	}
	addrs, err := cfg.Resolver.LookupHost(ctx, host)
	if err != nil || len(addrs) == 0 {
		if err == nil {
			err = errors.New("no addresses")
		}
		return nil, &mailbox.ConnectError{Step: mailbox.StepDNS, Server: net.JoinHostPort(host, strconv.Itoa(port)), Err: fmt.Errorf("resolve %s: %w", host, err)}
	}
	var last error
	for _, a := range addrs {
		conn, err := mailconn.Dial(ctx, cfg.Dial, a, port, timeout)
		if err == nil {
			return conn, nil
		}
		last = err
	}
	return nil, last
}
