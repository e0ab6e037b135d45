package connect_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/connect"
	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/mailauth"
	"mailconnector/shared/secrets"
	"mailconnector/shared/testkit/dovecottest"
	"mailconnector/shared/testkit/ewstest"
	"mailconnector/shared/testkit/graphtest"
	"mailconnector/shared/testkit/proxytest"
)

// The servers of the proxy tests are named by hosts no resolver knows:
// only the proxy maps them to loopback, so a connection that bypasses the
// proxy fails instead of passing unseen.
const (
	mailHost  = "mail.proxied.test"
	graphHost = "graph.proxied.test"
	loginHost = "login.proxied.test"
	ewsHost   = "ews.proxied.test"
)

var proxiedHosts = map[string]string{mailHost: "127.0.0.1", graphHost: "127.0.0.1", loginHost: "127.0.0.1", ewsHost: "127.0.0.1"}

func startProxy(t *testing.T, kind string, o proxytest.Options) *proxytest.Server {
	o.Hosts = proxiedHosts
	if kind == "socks5" {
		return proxytest.StartSOCKS5(t, o)
	}
	return proxytest.StartHTTP(t, o)
}

// TestEveryProtocolGoesThroughTheProxy opens IMAP and POP3 (Dovecot, plain
// and implicit TLS with a certificate for the proxied name), Graph with
// its OAuth2 token endpoint (graphtest) and EWS (ewstest) through an HTTP CONNECT proxy and
// a SOCKS5 proxy with credentials, and checks each server was reached
// through a tunnel of the proxy.
func TestEveryProtocolGoesThroughTheProxy(t *testing.T) {
	now := time.Now()
	dc := certDovecot(t, []string{mailHost}, nil, now.Add(-time.Hour), now.Add(time.Hour))
	g := graphtest.Start(t)
	g.AddMailbox("desk@contoso.example")
	g.AddApp("contoso", "connector", "app-secret")
	gport := strings.TrimSuffix(g.URL()[strings.LastIndex(g.URL(), ":")+1:], "/v1.0")
	tokenURL := strings.Replace(g.TokenURL("contoso"), "127.0.0.1", loginHost, 1)
	ews := ewstest.Start(t)
	ews.AddUser("desk@contoso.example", "pw-ews", "desk@contoso.example")
	ewsPort := ews.URL()[strings.LastIndex(ews.URL(), ":")+1:]
	sec := &memSecrets{m: map[string]secrets.Credentials{
		"pw":    {Username: "desk", Password: "pw-desk"},
		"graph": {TenantID: "contoso", ClientID: "connector", ClientSecret: "app-secret", TokenURL: tokenURL},
		"proxy": {Username: "relay", Password: "Pr0xy-Pass-Canary"},
		"ews":   {Username: "desk@contoso.example", Password: "pw-ews"},
	}}
	opener := connect.Opener{Secrets: sec, Tokens: &mailauth.Tokens{}}
	gp, _ := strconv.Atoi(gport)
	servers := []struct {
		name   string
		server job.Server
		want   []string // tunnels
	}{
		{"imap", job.Server{Protocol: job.IMAP, Host: mailHost, Port: dc.Port(dovecottest.IMAP), Security: job.SecurityNone, Auth: job.Auth{Secret: "pw"}},
			[]string{net.JoinHostPort(mailHost, strconv.Itoa(dc.Port(dovecottest.IMAP)))}},
		{"imaps", job.Server{Protocol: job.IMAP, Host: mailHost, Port: dc.Port(dovecottest.IMAPS), Security: job.SecurityTLS, CAFile: dc.caFile, Auth: job.Auth{Secret: "pw"}},
			[]string{net.JoinHostPort(mailHost, strconv.Itoa(dc.Port(dovecottest.IMAPS)))}},
		{"pop3", job.Server{Protocol: job.POP3, Host: mailHost, Port: dc.Port(dovecottest.POP3), Security: job.SecurityNone, Auth: job.Auth{Secret: "pw"}},
			[]string{net.JoinHostPort(mailHost, strconv.Itoa(dc.Port(dovecottest.POP3)))}},
		{"pop3s", job.Server{Protocol: job.POP3, Host: mailHost, Port: dc.Port(dovecottest.POP3S), Security: job.SecurityTLS, CAFile: dc.caFile, Auth: job.Auth{Secret: "pw"}},
			[]string{net.JoinHostPort(mailHost, strconv.Itoa(dc.Port(dovecottest.POP3S)))}},
		{"graph and its token endpoint", job.Server{Protocol: job.Graph, Host: graphHost, Port: gp, Security: job.SecurityNone, Mailbox: "desk@contoso.example",
			Cloud: job.CloudGlobal, Folder: "Inbox", Auth: job.Auth{Method: job.AuthOAuth2, Secret: "graph"}},
			[]string{net.JoinHostPort(loginHost, gport), net.JoinHostPort(graphHost, gport)}},
		{"ews", job.Server{Protocol: job.EWS, EWS: &job.EWSSettings{URL: "http://" + net.JoinHostPort(ewsHost, ewsPort) + "/EWS/Exchange.asmx"},
			Folder: "INBOX", Auth: job.Auth{Secret: "ews"}},
			[]string{net.JoinHostPort(ewsHost, ewsPort)}},
	}
	for _, kind := range []string{"http", "socks5"} {
		for _, tt := range servers {
			t.Run(kind+"/"+tt.name, func(t *testing.T) {
				p := startProxy(t, kind, proxytest.Options{Username: "relay", Password: "Pr0xy-Pass-Canary"})
				srv := tt.server
				srv.Timeout = job.Duration(10 * time.Second)
				srv.Proxy, srv.ProxySecret = p.URL, "proxy"
				// A fresh token cache: the token endpoint is reached anew.
				o := opener
				o.Tokens = &mailauth.Tokens{}
				s, err := o.Open(context.Background(), &job.Job{ID: "support", Server: srv})
				if err != nil {
					t.Fatalf("open through %s: %v", p.URL, err)
				}
				s.Close()
				got := p.Tunnels()
				for _, w := range tt.want {
					found := false
					for _, g := range got {
						found = found || g == w
					}
					if !found {
						t.Errorf("the proxy opened tunnels to %v, want one to %s", got, w)
					}
				}
			})
		}
	}
	t.Run("without the proxy the servers are out of reach", func(t *testing.T) {
		for _, tt := range servers {
			s, err := opener.Open(context.Background(), &job.Job{ID: "support", Server: tt.server})
			if err == nil {
				s.Close()
				t.Fatalf("%s: opened a session without the proxy: the proxied host names resolve, and the test proves nothing", tt.name)
			}
		}
	})
}

// TestProxyRefusals: wrong or missing proxy credentials, and a proxy that
// is not listening, fail at step proxy with what went wrong.
func TestProxyRefusals(t *testing.T) {
	dc := dovecottest.Start(t, nil)
	if err := dc.AddUser("desk", "pw-desk"); err != nil {
		t.Fatal(err)
	}
	sec := &memSecrets{m: map[string]secrets.Credentials{
		"pw":    {Username: "desk", Password: "pw-desk"},
		"wrong": {Username: "relay", Password: "Not-The-Password"},
	}}
	opener := connect.Opener{Secrets: sec, Tokens: &mailauth.Tokens{}}
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := closed.Addr().String()
	closed.Close()
	tests := []struct {
		name, kind, secret, deadURL, want string
	}{
		{"http wrong password", "http", "wrong", "", "407 Proxy Authentication Required (the proxy refused the username and password of server.proxySecret)"},
		{"http no secret", "http", "", "", "(the proxy wants a username and password: name a secret in server.proxySecret)"},
		{"socks5 wrong password", "socks5", "wrong", "", "the proxy refused the username and password of server.proxySecret"},
		{"socks5 no secret", "socks5", "", "", "the proxy wants a username and password"},
		{"http proxy down", "http", "", "http://" + deadAddr, "connect to the proxy http://" + deadAddr},
		{"socks5 proxy down", "socks5", "", "socks5://" + deadAddr, "connect to the proxy socks5://" + deadAddr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startProxy(t, tt.kind, proxytest.Options{Username: "relay", Password: "Right-Password"})
			url := p.URL
			if tt.deadURL != "" {
				url = tt.deadURL
			}
			srv := job.Server{Protocol: job.IMAP, Host: mailHost, Port: dc.Port(dovecottest.IMAP), Security: job.SecurityNone,
				Auth: job.Auth{Secret: "pw"}, Timeout: job.Duration(5 * time.Second), Proxy: url, ProxySecret: tt.secret}
			s, err := opener.Open(context.Background(), &job.Job{ID: "support", Server: srv})
			if err == nil {
				s.Close()
				t.Fatal("open: got a session, want step proxy failing")
			}
			var ce *mailbox.ConnectError
			if !errors.As(err, &ce) || ce.Step != mailbox.StepProxy || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want step proxy with %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "Not-The-Password") {
				t.Errorf("the error holds the proxy password: %v", err)
			}
		})
	}
}

// TestNoProxyGoesDirect: a host in server.noProxy is reached directly.
func TestNoProxyGoesDirect(t *testing.T) {
	dc := dovecottest.Start(t, nil)
	if err := dc.AddUser("desk", "pw-desk"); err != nil {
		t.Fatal(err)
	}
	p := proxytest.StartHTTP(t, proxytest.Options{})
	opener := connect.Opener{Secrets: &memSecrets{m: map[string]secrets.Credentials{"pw": {Username: "desk", Password: "pw-desk"}}}, Tokens: &mailauth.Tokens{}}
	srv := job.Server{Protocol: job.IMAP, Host: "127.0.0.1", Port: dc.Port(dovecottest.IMAP), Security: job.SecurityNone,
		Auth: job.Auth{Secret: "pw"}, Timeout: job.Duration(5 * time.Second), Proxy: p.URL, NoProxy: []string{"127.0.0.0/8"}}
	s, err := opener.Open(context.Background(), &job.Job{ID: "support", Server: srv})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if got := p.Tunnels(); len(got) != 0 {
		t.Errorf("got tunnels %v, want none (127.0.0.1 is in noProxy)", got)
	}
}
