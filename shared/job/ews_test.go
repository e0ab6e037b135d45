package job

import "testing"

func ewsJob(server string) string {
	return "\njobs:\n  - id: x\n    server: " + server + "\n"
}

func TestEWSJobs(t *testing.T) {
	checkParse(t, []parseCase{
		{"url", ewsJob(`{protocol: ews, ews: {url: "https://mail.example.com/EWS/Exchange.asmx"}, auth: {method: spa, secret: s}}`), ""},
		{"server name", ewsJob(`{protocol: ews, host: mail.example.com, auth: {secret: s}}`), ""},
		{"autodiscover", ewsJob(`{protocol: ews, ews: {autodiscover: true, mailbox: help@example.com, access: delegate}, auth: {method: oauth2, secret: s}}`), ""},
		{"loopback plain url", ewsJob(`{protocol: ews, ews: {url: "http://127.0.0.1:8080/EWS/Exchange.asmx", version: Exchange2016, hardDelete: true}, auth: {secret: s}}`), ""},
		{"loopback plain host", ewsJob(`{protocol: ews, host: 127.0.0.1, port: 8080, security: none, auth: {secret: s}}`), ""},
		{"old tls", ewsJob(`{protocol: ews, host: mail.example.com, minTLS: "1.0", auth: {secret: s}}`), ""},
		{"old tls unquoted", ewsJob(`{protocol: ews, host: mail.example.com, minTLS: 1.1, auth: {secret: s}}`), ""},

		{"nowhere", ewsJob(`{protocol: ews, auth: {secret: s}}`), `job "x": server.ews: say where EWS is: server.ews.url, server.host, or server.ews.autodiscover: true`},
		{"two places", ewsJob(`{protocol: ews, host: mail.example.com, ews: {autodiscover: true}, auth: {secret: s}}`), `job "x": server.ews: set only one of`},
		{"not a url", ewsJob(`{protocol: ews, ews: {url: "mail.example.com"}, auth: {secret: s}}`), `job "x": server.ews.url: "mail.example.com" is not a URL`},
		{"plain http", ewsJob(`{protocol: ews, ews: {url: "http://mail.example.com/EWS/Exchange.asmx"}, auth: {secret: s}}`), `job "x": server.ews.url: "http://mail.example.com/EWS/Exchange.asmx": use https`},
		{"credentials in the url", ewsJob(`{protocol: ews, ews: {url: "https://u:p@mail.example.com/EWS/Exchange.asmx"}, auth: {secret: s}}`), `job "x": server.ews.url:`},
		{"port without host", ewsJob(`{protocol: ews, port: 444, ews: {url: "https://mail.example.com/EWS/Exchange.asmx"}, auth: {secret: s}}`), `job "x": server.port: only with server.host`},
		{"plain security off loopback", ewsJob(`{protocol: ews, host: mail.example.com, security: none, auth: {secret: s}}`), `job "x": server.security: ews uses tls`},
		{"starttls", ewsJob(`{protocol: ews, host: mail.example.com, security: starttls, auth: {secret: s}}`), `job "x": server.security: ews uses tls`},
		{"version", ewsJob(`{protocol: ews, host: h, ews: {version: Exchange2010}, auth: {secret: s}}`), `job "x": server.ews.version: "Exchange2010" is not an EWS RequestServerVersion`},
		{"mailbox", ewsJob(`{protocol: ews, host: h, ews: {mailbox: "help desk"}, auth: {secret: s}}`), `job "x": server.ews.mailbox: "help desk" is not an email address`},
		{"access", ewsJob(`{protocol: ews, host: h, ews: {mailbox: help@example.com, access: owner}, auth: {secret: s}}`), `job "x": server.ews.access: "owner" is not one of impersonation, delegate`},
		{"access without mailbox", ewsJob(`{protocol: ews, host: h, ews: {access: delegate}, auth: {secret: s}}`), `job "x": server.ews.access: only with server.ews.mailbox`},
		{"mechanism", ewsJob(`{protocol: ews, host: h, auth: {method: oauth2, mechanism: xoauth2, secret: s}}`), `job "x": server.auth.mechanism: not for ews`},
		{"ews on imap", ewsJob(`{protocol: imap, host: h, security: tls, ews: {hardDelete: true}, auth: {secret: s}}`), `job "x": server.ews: only for protocol ews`},
		{"ews key typo", ewsJob(`{protocol: ews, host: h, ews: {harddelete: true}, auth: {secret: s}}`), `jobs[0].server.ews: unknown key "harddelete" (did you mean "hardDelete"?)`},
		{"minTLS", ewsJob(`{protocol: imap, host: h, security: tls, minTLS: "1.4", auth: {secret: s}}`), `job "x": server.minTLS: "1.4" is not one of 1.0, 1.1, 1.2, 1.3`},
		{"minTLS ssl", ewsJob(`{protocol: pop3, host: h, security: tls, minTLS: ssl3, auth: {secret: s}}`), `job "x": server.minTLS: "ssl3" is not one of`},
		{"minTLS graph", ewsJob(`{protocol: graph, mailbox: a@example.com, minTLS: "1.0", auth: {method: oauth2, secret: s}}`), `job "x": server.minTLS: not for graph`},
	})
}

func TestEWSDefaults(t *testing.T) {
	f := mustParse(t, ewsJob(`{protocol: ews, host: mail.example.com, minTLS: 1.0, auth: {method: spa, secret: s}}`))
	s := f.Jobs[0].Server
	if s.Security != SecurityTLS || s.Port != 443 || s.Folder != DefaultFolder || s.MinTLS != "1.0" || !s.WeakTLS() {
		t.Errorf("got security %q port %d folder %q minTLS %q, want tls 443 %s 1.0", s.Security, s.Port, s.Folder, s.MinTLS, DefaultFolder)
	}
	f = mustParse(t, ewsJob(`{protocol: ews, ews: {url: "https://mail.example.com/EWS/Exchange.asmx"}, auth: {secret: s}}`))
	if s := f.Jobs[0].Server; s.Port != 0 || s.Host != "" || s.WeakTLS() {
		t.Errorf("url job: got port %d host %q weak %v, want no port and no host (the URL has them)", s.Port, s.Host, s.WeakTLS())
	}
}

func TestEWSOnline(t *testing.T) {
	for _, tt := range []struct {
		host string
		want bool
	}{{"outlook.office365.com", true}, {"Outlook.Office365.com.", true}, {"outlook.office.com", true}, {"mail.contoso.com", false}, {"office365.com", false}} {
		if got := EWSOnline(tt.host); got != tt.want {
			t.Errorf("EWSOnline(%q): got %v, want %v", tt.host, got, tt.want)
		}
	}
}
