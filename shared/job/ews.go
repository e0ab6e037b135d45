package job

import (
	"net/mail"
	"net/url"
	"strings"
)

// EWSSettings says how an ews job finds and uses Exchange Web Services. The EWS
// URL comes from exactly one of: URL, server.host (then
// https://host:port/EWS/Exchange.asmx), or Autodiscover from the mailbox
// address.
type EWSSettings struct {
	// URL is the EWS endpoint, e.g.
	// https://mail.example.com/EWS/Exchange.asmx. Plain http only for a
	// loopback host.
	URL string `yaml:"url" json:"url,omitempty"`
	// Autodiscover finds the EWS URL from the mailbox address (Mailbox,
	// else the sign-in user name when it is an address): the SOAP and POX
	// Autodiscover services of the address's domain and of its DNS SRV
	// record _autodiscover._tcp.
	Autodiscover bool `yaml:"autodiscover" json:"autodiscover,omitempty"`
	// Version is the RequestServerVersion sent with every request
	// (Exchange2013 or later); default Exchange2013_SP1.
	Version string `yaml:"version" json:"version,omitempty"`
	// Mailbox is the SMTP address of the mailbox to read when it is not
	// the sign-in account's own: a shared mailbox reached by Access.
	Mailbox string `yaml:"mailbox" json:"mailbox,omitempty"`
	// Access is how the sign-in account reaches Mailbox: impersonation
	// (default; the ApplicationImpersonation role) or delegate (full
	// access permission on the mailbox).
	Access string `yaml:"access" json:"access,omitempty"`
	// HardDelete makes delete (and incoming.purge) remove messages for
	// good instead of moving them to Deleted Items.
	HardDelete bool `yaml:"hardDelete" json:"hardDelete,omitempty"`
}

// The ews access modes.
const (
	EWSImpersonation = "impersonation"
	EWSDelegate      = "delegate"
)

// EWSVersions are the RequestServerVersion values an ews job may force:
// Exchange 2013 and later, which have every operation the connector uses
// (https://learn.microsoft.com/exchange/client-developer/web-service-reference/requestserverversion).
var EWSVersions = []string{"Exchange2013", "Exchange2013_SP1", "Exchange2015", "Exchange2016",
	"V2015_10_05", "V2016_01_06", "V2016_04_13", "V2016_07_13", "V2016_10_10",
	"V2017_01_07", "V2017_04_14", "V2017_07_11", "V2017_10_09", "V2018_01_08"}

// EWSOnline reports whether host is Exchange Online's EWS host, where
// Microsoft ends EWS on 1 April 2027.
func EWSOnline(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	return host == "outlook.office365.com" || host == "outlook.office.com"
}

// EWSOnlineEnd is the warning shown for an ews job on Exchange Online.
const EWSOnlineEnd = "Exchange Online blocks EWS by default from 1 October 2026 and turns it off on 1 April 2027: move this job to graph (connector migrate JOB --to graph prints the equivalent job)"

// MinTLSVersions are the values of server.minTLS, oldest first.
var MinTLSVersions = []string{"1.0", "1.1", "1.2", "1.3"}

// DefaultMinTLS is the oldest TLS version accepted unless server.minTLS
// says otherwise.
const DefaultMinTLS = "1.2"

// WeakTLS reports whether the job accepts a TLS version below 1.2.
func (s *Server) WeakTLS() bool { return s.MinTLS == "1.0" || s.MinTLS == "1.1" }

func (j *Job) validateEWS(add func(field, format string, args ...any)) {
	s := &j.Server
	e := s.EWS
	if e == nil {
		e = &EWSSettings{}
	}
	sources := 0
	if e.URL != "" {
		sources++
		u, err := url.Parse(e.URL)
		switch {
		case err != nil || u.Host == "" || u.User != nil:
			add("server.ews.url", "%q is not a URL (https://host/EWS/Exchange.asmx)", e.URL)
		case u.Scheme == "https":
		case u.Scheme == "http" && isLoopback(u.Hostname()):
		default:
			add("server.ews.url", "%q: use https (plain http only for loopback addresses)", e.URL)
		}
	}
	if s.Host != "" {
		sources++
		if strings.ContainsAny(s.Host, " /") {
			add("server.host", "%q is not a host name or address (for a full URL use server.ews.url)", s.Host)
		}
		switch {
		case s.Security == SecurityTLS:
		case s.Security == SecurityNone && isLoopback(s.Host):
		default:
			add("server.security", "ews uses tls (none only for a loopback server.host), not %q", s.Security)
		}
	} else {
		if s.Port != 0 {
			add("server.port", "only with server.host (server.ews.url carries its own port)")
		}
		if s.Security != "" && s.Security != SecurityTLS {
			add("server.security", "only with server.host (server.ews.url carries its own scheme)")
		}
	}
	if e.Autodiscover {
		sources++
	}
	switch {
	case sources == 0:
		add("server.ews", "say where EWS is: server.ews.url, server.host, or server.ews.autodiscover: true")
	case sources > 1:
		add("server.ews", "set only one of server.ews.url, server.host and server.ews.autodiscover: true")
	}
	if e.Version != "" && !contains(EWSVersions, e.Version) {
		add("server.ews.version", "%q is not an EWS RequestServerVersion of Exchange 2013 or later (%s)", e.Version, strings.Join(EWSVersions, ", "))
	}
	if e.Mailbox != "" {
		if a, err := mail.ParseAddress(e.Mailbox); err != nil || a.Address != e.Mailbox {
			add("server.ews.mailbox", "%q is not an email address", e.Mailbox)
		}
	}
	switch e.Access {
	case "", EWSImpersonation, EWSDelegate:
		if e.Access != "" && e.Mailbox == "" {
			add("server.ews.access", "only with server.ews.mailbox (the mailbox reached by %s)", e.Access)
		}
	default:
		add("server.ews.access", "%q is not one of impersonation, delegate", e.Access)
	}
	if s.Auth.Mechanism != "" {
		add("server.auth.mechanism", "not for ews: method password signs in with HTTP Basic, spa with NTLM, oauth2 with a Bearer token")
	}
}

func validateMinTLS(s *Server, add func(field, format string, args ...any)) {
	if s.MinTLS == "" {
		return
	}
	if !contains(MinTLSVersions, s.MinTLS) {
		add("server.minTLS", "%q is not one of %s (quote it in YAML: \"1.0\")", s.MinTLS, strings.Join(MinTLSVersions, ", "))
		return
	}
	if s.Protocol == Graph {
		add("server.minTLS", "not for graph: Microsoft Graph always uses TLS 1.2 or later")
	}
}
