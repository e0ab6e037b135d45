package mailconn_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/mailconn"
	"mailconnector/shared/testkit/proxytest"
)

// greeter accepts connections and greets each with a line at once, as a
// mail server does (the greeting may arrive with the proxy's answer).
func greeter(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serve(t, ln, func(c net.Conn) {
		io.WriteString(c, "* OK hello\r\n")
		c.Close()
	})
	return ln.Addr().String()
}

// serve accepts connections on ln until the test ends and hands each to
// handle on a goroutine of its own.
func serve(t *testing.T, ln net.Listener, handle func(net.Conn)) {
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go handle(c)
		}
	}()
}

// TestDialerThroughProxies reaches a server named by a host only the
// proxy resolves, through an HTTP CONNECT and a SOCKS5 proxy, with
// mailconn.Dial as the IMAP and POP3 adapters call it and with an HTTP
// transport as the Graph and EWS adapters build it.
func TestDialerThroughProxies(t *testing.T) {
	_, port, _ := net.SplitHostPort(greeter(t))
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer web.Close()
	_, webPort, _ := net.SplitHostPort(strings.TrimPrefix(web.URL, "http://"))
	hosts := map[string]string{"mail.proxied.test": "127.0.0.1", "web.proxied.test": "127.0.0.1"}
	for _, kind := range []string{"http", "socks5"} {
		t.Run(kind, func(t *testing.T) {
			o := proxytest.Options{Username: "relay", Password: "pw", Hosts: hosts}
			p := proxytest.StartHTTP(t, o)
			if kind == "socks5" {
				p = proxytest.StartSOCKS5(t, o)
			}
			px, err := mailconn.NewProxy(job.Server{Proxy: p.URL}, "relay", "pw")
			if err != nil {
				t.Fatal(err)
			}
			d := &mailconn.Dialer{Proxy: px, Timeout: 5 * time.Second}
			var portN int
			for _, c := range port {
				portN = portN*10 + int(c-'0')
			}
			c, err := mailconn.Dial(context.Background(), d.DialContext, "mail.proxied.test", portN, 5*time.Second)
			if err != nil {
				t.Fatalf("dial through %s: %v", p.URL, err)
			}
			line, _ := io.ReadAll(c)
			c.Close()
			if string(line) != "* OK hello\r\n" {
				t.Errorf("got greeting %q, want %q", line, "* OK hello\r\n")
			}
			resp, err := (&http.Client{Transport: d.Transport(nil)}).Get("http://web.proxied.test:" + webPort + "/")
			if err != nil {
				t.Fatalf("get through %s: %v", p.URL, err)
			}
			resp.Body.Close()
			want := []string{"mail.proxied.test:" + port, "web.proxied.test:" + webPort}
			if got := p.Tunnels(); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("got tunnels %v, want %v", got, want)
			}
		})
	}
}

// TestTransportIgnoresTheEnvironment: HTTPS_PROXY and HTTP_PROXY do not
// send a job's requests elsewhere (nor does a job bypass its own proxy).
func TestTransportIgnoresTheEnvironment(t *testing.T) {
	p := proxytest.StartHTTP(t, proxytest.Options{Hosts: map[string]string{"web.proxied.test": "127.0.0.1"}})
	t.Setenv("HTTP_PROXY", p.URL)
	t.Setenv("HTTPS_PROXY", p.URL)
	web := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer web.Close()
	// Directly, the name does not resolve; through the environment's
	// proxy it would.
	resp, err := (&http.Client{Transport: (&mailconn.Dialer{}).Transport(nil)}).Get(strings.Replace(web.URL, "127.0.0.1", "web.proxied.test", 1))
	if err == nil {
		resp.Body.Close()
	}
	if got := p.Tunnels(); len(got) != 0 {
		t.Errorf("the environment's proxy opened %v, want no tunnel", got)
	}
}

func TestProxyBypass(t *testing.T) {
	p := &mailconn.Proxy{NoProxy: []string{".corp.example", "mail.example.com", "10.0.0.0/8", "192.0.2.7"}}
	tests := []struct {
		host string
		want bool
	}{
		{"imap.corp.example", true}, {"corp.example", true}, {"mail.example.com", true}, {"sub.mail.example.com", true},
		{"example.com", false}, {"10.1.2.3", true}, {"192.0.2.7", true}, {"192.0.2.8", false}, {"outlook.office365.com", false},
	}
	for _, tt := range tests {
		if got := p.Bypass(tt.host); got != tt.want {
			t.Errorf("Bypass(%q): got %v, want %v", tt.host, got, tt.want)
		}
	}
}

func TestProxyStepErrors(t *testing.T) {
	p := proxytest.StartHTTP(t, proxytest.Options{Username: "relay", Password: "right", Hosts: map[string]string{"mail.proxied.test": "127.0.0.1"}})
	px, _ := mailconn.NewProxy(job.Server{Proxy: p.URL}, "relay", "Wrong-Pass-Canary")
	d := &mailconn.Dialer{Proxy: px, Timeout: 5 * time.Second}
	_, err := mailconn.Dial(context.Background(), d.DialContext, "mail.proxied.test", 143, 5*time.Second)
	var ce *mailbox.ConnectError
	if !errors.As(err, &ce) || ce.Step != mailbox.StepProxy || !strings.Contains(err.Error(), "407") || strings.Contains(err.Error(), "Wrong-Pass-Canary") {
		t.Errorf("got %v, want step proxy naming 407 without the password", err)
	}
}
