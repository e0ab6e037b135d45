package connect_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/connect"
	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/ewsbox"
	"mailconnector/shared/mailbox/mailauth"
	"mailconnector/shared/secrets"
	"mailconnector/shared/testkit/ewstest"
)

// TestOpenEWS opens ews jobs the three ways the jobs file can say where
// EWS is, signing in with each method the server checks.
func TestOpenEWS(t *testing.T) {
	srv, ca := ewstest.StartTLS(t)
	srv.AddUser("support@example.com", "pw-support", "support@example.com")
	srv.AddUser("CONTOSO\\agent", "pw-agent", "agent@example.com")
	srv.AddMailbox("shared@example.com")
	srv.AllowImpersonation("CONTOSO\\agent")
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.TLSURL(), "https://"))
	plainHost, plainPort, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL(), "http://"))
	dns := ewstest.StartDNS(t)
	dns.AddA("example.com", net.IPv4(127, 0, 0, 1))
	p, _ := net.LookupPort("tcp", port)
	dns.AddSRV("_autodiscover._tcp.example.com", "example.com", uint16(p))
	pp, _ := net.LookupPort("tcp", plainPort)

	sec := &memSecrets{m: map[string]secrets.Credentials{
		"support": {Username: "support@example.com", Password: "pw-support"},
		"agent":   {Username: "CONTOSO\\agent", Password: "pw-agent"},
		"wrong":   {Username: "support@example.com", Password: "not-it"},
	}}
	opener := connect.Opener{Secrets: sec, Tokens: &mailauth.Tokens{}, Resolver: dns.Resolver()}
	ews := func(e job.EWSSettings) *job.EWSSettings { return &e }
	tests := []struct {
		name     string
		server   job.Server
		wantAuth string
		wantStep mailbox.Step
		wantNote string
	}{
		{"url and basic", job.Server{EWS: ews(job.EWSSettings{URL: "https://example.com:" + port + "/EWS/Exchange.asmx"}), Auth: job.Auth{Secret: "support"}}, "Basic", "", ""},
		{"server name and ntlm", job.Server{Host: plainHost, Port: pp, Security: job.SecurityNone, Auth: job.Auth{Method: job.AuthSPA, Secret: "agent"}}, "NTLM", "", ""},
		{"autodiscover from the sign-in address", job.Server{EWS: ews(job.EWSSettings{Autodiscover: true}), Auth: job.Auth{Secret: "support"}}, "Basic", "", "autodiscover DNS SRV _autodiscover._tcp.example.com"},
		{"impersonation of a shared mailbox found by autodiscover", job.Server{EWS: ews(job.EWSSettings{Autodiscover: true, Mailbox: "shared@example.com"}), Auth: job.Auth{Method: job.AuthSPA, Secret: "agent"}}, "NTLM (impersonating shared@example.com)", "", ""},
		{"wrong password", job.Server{EWS: ews(job.EWSSettings{URL: "https://example.com:" + port + "/EWS/Exchange.asmx"}), Auth: job.Auth{Secret: "wrong"}}, "", mailbox.StepAuth, ""},
		{"autodiscover of an unknown domain", job.Server{EWS: ews(job.EWSSettings{Autodiscover: true, Mailbox: "x@nowhere.example"}), Auth: job.Auth{Secret: "support"}}, "", ewsbox.StepAutodiscover, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.server.Protocol, tt.server.CAFile, tt.server.Timeout = job.EWS, ca, job.Duration(5*time.Second)
			j := &job.Job{ID: "support", Server: tt.server}
			s, err := opener.Open(context.Background(), j)
			if tt.wantStep != "" {
				var ce *mailbox.ConnectError
				if !errors.As(err, &ce) || ce.Step != tt.wantStep {
					t.Fatalf("got %v, want step %s", err, tt.wantStep)
				}
				if strings.Contains(err.Error(), "not-it") {
					t.Errorf("the error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer s.Close()
			info := s.Info()
			if info.Protocol != "ews" || info.Auth != tt.wantAuth {
				t.Errorf("got protocol %q auth %q, want ews %q", info.Protocol, info.Auth, tt.wantAuth)
			}
			if notes := strings.Join(info.Notes, "\n"); !strings.Contains(notes, tt.wantNote) {
				t.Errorf("got notes %q, want %q", notes, tt.wantNote)
			}
		})
	}
}

func TestOpenEWSAutodiscoverNeedsAnAddress(t *testing.T) {
	sec := &memSecrets{m: map[string]secrets.Credentials{"agent": {Username: "CONTOSO\\agent", Password: "pw"}}}
	j := &job.Job{ID: "support", Server: job.Server{Protocol: job.EWS, EWS: &job.EWSSettings{Autodiscover: true}, Auth: job.Auth{Secret: "agent"}}}
	_, err := connect.Opener{Secrets: sec}.Open(context.Background(), j)
	if err == nil || !strings.Contains(err.Error(), "job support: server.ews.autodiscover needs an email address: set server.ews.mailbox") {
		t.Errorf("got %v, want it to ask for server.ews.mailbox", err)
	}
}
