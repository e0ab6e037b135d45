package job

import (
	"net"
	"net/url"
	"strings"
	"time"
)

// ProxyDirect in server.proxy connects the job directly even when the
// jobs file's defaults name a proxy.
const ProxyDirect = "direct"

// DefaultTraceFor is how long a trace switched on without debug.until
// stays on: 24 hours after the jobs file was written (LoadFile), which is
// when it was switched on.
const DefaultTraceFor = 24 * time.Hour

// Defaults are settings of the jobs file that every job takes unless it
// says otherwise.
type Defaults struct {
	// Proxy, ProxySecret and NoProxy are the server.proxy, server.proxySecret
	// and server.noProxy of every job that names no proxy of its own.
	Proxy       string   `yaml:"proxy" json:"proxy,omitempty"`
	ProxySecret string   `yaml:"proxySecret" json:"proxySecret,omitempty"`
	NoProxy     []string `yaml:"noProxy" json:"noProxy,omitempty"`
	// Retention is the retention of every job that sets none of its own
	// (see Retention).
	Retention *Retention `yaml:"retention" json:"retention,omitempty"`
}

// Debug is the job's email debug switch.
type Debug struct {
	// Trace records the protocol conversation of each run (commands and
	// responses, HTTP headers) with the run, secrets and message bodies
	// left out.
	Trace bool `yaml:"trace" json:"trace,omitempty"`
	// Until switches the trace off (RFC 3339). Left out, LoadFile sets it
	// to DefaultTraceFor after the jobs file's modification time.
	Until time.Time `yaml:"until" json:"until,omitzero"`
}

// Tracing reports whether the job's trace is on at now.
func (d Debug) Tracing(now time.Time) bool {
	return d.Trace && (d.Until.IsZero() || now.Before(d.Until))
}

// applyNetworkDefaults gives every job without a proxy of its own the
// file's default proxy.
func (f *File) applyNetworkDefaults() {
	if f.Defaults == nil || f.Defaults.Proxy == "" {
		return
	}
	for i := range f.Jobs {
		s := &f.Jobs[i].Server
		if s.Proxy != "" {
			continue
		}
		s.Proxy, s.ProxySecret = f.Defaults.Proxy, f.Defaults.ProxySecret
		if len(s.NoProxy) == 0 {
			s.NoProxy = append([]string(nil), f.Defaults.NoProxy...)
		}
	}
}

// stampTrace sets debug.until of the jobs whose trace is on without one.
func (f *File) stampTrace(set time.Time) {
	for i := range f.Jobs {
		d := &f.Jobs[i].Debug
		if d.Trace && d.Until.IsZero() {
			d.Until = set.Add(DefaultTraceFor).UTC().Truncate(time.Second)
		}
	}
}

// validateNetwork checks server.proxy, server.proxySecret and
// server.noProxy.
func (j *Job) validateNetwork(add func(field, format string, args ...any)) {
	s := &j.Server
	if msg := checkProxyURL(s.Proxy); msg != "" {
		add("server.proxy", "%s", msg)
	}
	if s.ProxySecret != "" {
		switch {
		case s.Proxy == "" || s.Proxy == ProxyDirect:
			add("server.proxySecret", "only with server.proxy")
		case !validSecretName(s.ProxySecret):
			add("server.proxySecret", "%q is not a secret name (letters, digits and /_+=.@-)", s.ProxySecret)
		}
	}
	for i, h := range s.NoProxy {
		if h == "" || strings.ContainsAny(h, " /:?#") && net.ParseIP(h) == nil {
			if _, _, err := net.ParseCIDR(h); err != nil {
				add("server.noProxy", "[%d] %q is not a host name, domain (.example.com), IP address or CIDR range", i, h)
			}
		}
	}
}

// checkProxyURL says what is wrong with a server.proxy value, or "".
func checkProxyURL(s string) string {
	if s == "" || s == ProxyDirect {
		return ""
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || u.Hostname() == "":
		return "\"" + s + "\" is not a proxy URL such as http://proxy.example.com:3128 or socks5://proxy.example.com:1080 (or direct)"
	case u.Scheme != "http" && u.Scheme != "socks5" && u.Scheme != "socks5h":
		return "\"" + s + "\": the scheme is not http (HTTP CONNECT) or socks5"
	case u.User != nil:
		return "\"" + u.Redacted() + "\": no user or password in the URL; name a secret in server.proxySecret"
	case u.Port() == "":
		return "\"" + s + "\": name the proxy's port (e.g. :3128 or :1080)"
	case u.Path != "" && u.Path != "/" || u.RawQuery != "":
		return "\"" + s + "\": a proxy URL has no path or query"
	}
	return ""
}
