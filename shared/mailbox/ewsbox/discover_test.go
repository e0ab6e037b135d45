package ewsbox_test

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/ewsbox"
	"mailconnector/shared/testkit/ewstest"
)

// discoverEnv is a TLS ewstest whose certificate names example.com, and
// a DNS server on loopback where example.com is 127.0.0.1 (nothing
// listens on its port 443), autodiscover.example.com does not exist, and
// _autodiscover._tcp.example.com points at the TLS listener. The code path
// is the real one: Go's resolver asks the DNS server over UDP, the
// HTTP client dials what it answers.
type discoverEnv struct {
	srv  *ewstest.Server
	dns  *ewstest.DNS
	cfg  ewsbox.Config
	user string
	port string
}

func newDiscoverEnv(t *testing.T, srvRecord bool) *discoverEnv {
	t.Helper()
	srv, ca := ewstest.StartTLS(t)
	user := "support@example.com"
	srv.AddUser(user, "pw-discover", user)
	dns := ewstest.StartDNS(t)
	dns.AddA("example.com", net.IPv4(127, 0, 0, 1))
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.TLSURL(), "https://"))
	if srvRecord {
		p, _ := net.LookupPort("tcp", port)
		dns.AddSRV("_autodiscover._tcp.example.com", "example.com", uint16(p))
	}
	cfg := ewsbox.Config{Server: job.Server{Protocol: job.EWS, CAFile: ca, Timeout: job.Duration(5 * time.Second)},
		Auth: ewsbox.AuthBasic, Username: user, Password: "pw-discover", Resolver: dns.Resolver()}
	return &discoverEnv{srv: srv, dns: dns, cfg: cfg, user: user, port: port}
}

func TestDiscoverTriesEachPlaceAndFindsTheSRVTarget(t *testing.T) {
	e := newDiscoverEnv(t, true)
	for _, tt := range []struct {
		name      string
		soap, pox bool
		last      string // the URL that answered
	}{
		{"soap", true, false, "https://example.com:" + e.port + "/autodiscover/autodiscover.svc"},
		{"pox when soap is missing", false, true, "https://example.com:" + e.port + "/autodiscover/autodiscover.xml"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.srv.SetAutodiscover(tt.soap, tt.pox)
			ews, attempts, err := ewsbox.Discover(ctxT(t), e.cfg, e.user)
			if err != nil {
				t.Fatalf("discover: %v", err)
			}
			if want := "https://example.com:" + e.port + "/EWS/Exchange.asmx"; ews != want {
				t.Errorf("got EWS URL %q, want %q", ews, want)
			}
			var got []string
			for _, a := range attempts {
				got = append(got, a.String())
			}
			want := []string{
				"https://example.com/autodiscover/autodiscover.svc: TCP failed",
				"https://example.com/autodiscover/autodiscover.xml: TCP failed",
				"https://autodiscover.example.com/autodiscover/autodiscover.svc: DNS failed",
				"https://autodiscover.example.com/autodiscover/autodiscover.xml: DNS failed",
				"DNS SRV _autodiscover._tcp.example.com: example.com:" + e.port,
			}
			if !tt.soap {
				want = append(want, "https://example.com:"+e.port+"/autodiscover/autodiscover.svc: HTTP 404")
			}
			want = append(want, tt.last+": EWS at "+ews)
			if len(got) != len(want) {
				t.Fatalf("got attempts\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			for i := range want {
				if !strings.HasPrefix(got[i], want[i]) {
					t.Errorf("attempt %d: got %q, want it to start %q", i, got[i], want[i])
				}
			}
		})
	}
	e.srv.SetAutodiscover(true, true)

	// Open finds the URL itself and lists the attempts in its notes.
	cfg := e.cfg
	cfg.Autodiscover = e.user
	s := open(t, cfg)
	notes := strings.Join(s.Info().Notes, "\n")
	if !strings.Contains(notes, "autodiscover DNS SRV _autodiscover._tcp.example.com") || !strings.Contains(notes, "/autodiscover/autodiscover.svc: EWS at https://example.com:"+e.port) {
		t.Errorf("got notes\n%s\nwant every attempt", notes)
	}
	if got := s.Info().Server; got != "example.com:"+e.port {
		t.Errorf("got server %q, want the discovered example.com:%s", got, e.port)
	}
	if e.srv.Count("GetUserSettings") == 0 {
		t.Error("the server saw no GetUserSettings request")
	}
}

func TestDiscoverFailureNamesEveryAttempt(t *testing.T) {
	tests := []struct {
		name    string
		srv     bool
		address string
		want    []string
	}{
		{"unknown mailbox", true, "stranger@example.com", []string{"found no EWS URL for stranger@example.com (tried 7)", "autodiscover.svc: autodiscover InvalidUser", "autodiscover.xml: autodiscover error 500"}},
		{"no srv record", false, "support@example.com", []string{"found no EWS URL for support@example.com (tried 5)", "DNS SRV _autodiscover._tcp.example.com: lookup"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newDiscoverEnv(t, tt.srv)
			cfg := e.cfg
			cfg.Autodiscover = tt.address
			_, err := ewsbox.Open(ctxT(t), cfg)
			var ce *mailbox.ConnectError
			if !errors.As(err, &ce) || ce.Step != ewsbox.StepAutodiscover {
				t.Fatalf("got %v, want an Autodiscover step failure", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %q, want it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "pw-discover") {
				t.Errorf("the error shows the password: %q", err)
			}
		})
	}
}

func TestExchangeOnlineWarning(t *testing.T) {
	srv, ca := ewstest.StartTLS(t)
	user := "support@contoso.example"
	srv.AddUser(user, "pw", user)
	dns := ewstest.StartDNS(t)
	dns.AddA("outlook.office365.com", net.IPv4(127, 0, 0, 1))
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.TLSURL(), "https://"))
	// The test certificate names example.com, not Microsoft's host.
	no := false
	cfg := ewsbox.Config{Server: job.Server{Protocol: job.EWS, CAFile: ca, RejectInvalidCertificates: &no, Timeout: job.Duration(5 * time.Second)},
		Endpoint: "https://outlook.office365.com:" + port + "/EWS/Exchange.asmx",
		Auth:     ewsbox.AuthBasic, Username: user, Password: "pw", Resolver: dns.Resolver()}
	s := open(t, cfg)
	notes := strings.Join(s.Info().Notes, "\n")
	if !strings.Contains(notes, "warning: Exchange Online") || !strings.Contains(notes, "1 April 2027") || !strings.Contains(notes, "connector migrate") {
		t.Errorf("got notes %q, want the Exchange Online end-of-EWS warning", notes)
	}
	b := newBox(t)
	if notes := open(t, b.config()).Info().Notes; len(notes) != 0 {
		t.Errorf("on-premises server: got notes %q, want none", notes)
	}
}
