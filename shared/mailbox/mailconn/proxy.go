package mailconn

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/proxy"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
)

// Proxy is the proxy a job's connections go through: HTTP CONNECT
// (RFC 9110 section 9.3.6) or SOCKS5 (RFC 1928, with username and
// password, RFC 1929, from golang.org/x/net/proxy).
type Proxy struct {
	URL      *url.URL // http://host:port or socks5://host:port
	Username string   // from server.proxySecret; "" for none
	Password string
	NoProxy  []string // hosts reached directly (server.noProxy)
}

// NewProxy returns the job's proxy, or nil when it connects directly
// (no server.proxy, or "direct"). user and password come from the secret
// server.proxySecret names.
func NewProxy(srv job.Server, user, password string) (*Proxy, error) {
	if srv.Proxy == "" || srv.Proxy == job.ProxyDirect {
		return nil, nil
	}
	u, err := url.Parse(srv.Proxy)
	if err != nil || u.Port() == "" || (u.Scheme != "http" && u.Scheme != "socks5" && u.Scheme != "socks5h") {
		return nil, fmt.Errorf("server.proxy %q is not an http:// or socks5:// URL with a port", srv.Proxy)
	}
	return &Proxy{URL: u, Username: user, Password: password, NoProxy: srv.NoProxy}, nil
}

// String is the proxy's URL without credentials.
func (p *Proxy) String() string {
	return p.URL.Scheme + "://" + p.URL.Host
}

// Kind is "HTTP CONNECT" or "SOCKS5".
func (p *Proxy) Kind() string {
	if p.URL.Scheme == "http" {
		return "HTTP CONNECT"
	}
	return "SOCKS5"
}

// Bypass reports whether host is reached directly: it is named in
// NoProxy, lies under a domain there (".example.com", or "example.com"
// for the domain and its subdomains), or is an address in a CIDR range
// there; "*" bypasses every host.
func (p *Proxy) Bypass(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	ip := net.ParseIP(host)
	for _, e := range p.NoProxy {
		e = strings.ToLower(strings.TrimSpace(e))
		switch {
		case e == "*":
			return true
		case ip != nil && strings.Contains(e, "/"):
			if _, n, err := net.ParseCIDR(e); err == nil && n.Contains(ip) {
				return true
			}
		case ip != nil:
			if eip := net.ParseIP(e); eip != nil && eip.Equal(ip) {
				return true
			}
		case strings.HasPrefix(e, "."):
			if strings.HasSuffix(host, e) || host == e[1:] {
				return true
			}
		case host == e || strings.HasSuffix(host, "."+e):
			return true
		}
	}
	return false
}

// Dialer is the one way a job's connections go out, for every protocol:
// directly, or through the job's proxy. The IMAP and POP3 adapters take
// its DialContext as their DialFunc; the HTTP clients (Graph, EWS, the
// OAuth2 token endpoint, Autodiscover) take Transport. Through a proxy,
// host names are resolved by the proxy, not here.
type Dialer struct {
	// Proxy is nil for direct connections.
	Proxy *Proxy
	// Timeout bounds connecting and the proxy's handshake; default
	// job.DefaultTimeout.
	Timeout time.Duration
	// TCP opens TCP connections (to the proxy, or to the server when
	// direct); nil: a net.Dialer.
	TCP DialFunc
}

func (d *Dialer) timeout() time.Duration {
	if d == nil || d.Timeout <= 0 {
		return job.DefaultTimeout
	}
	return d.Timeout
}

func (d *Dialer) tcp(ctx context.Context, network, addr string) (net.Conn, error) {
	if d != nil && d.TCP != nil {
		return d.TCP(ctx, network, addr)
	}
	return (&net.Dialer{}).DialContext(ctx, network, addr)
}

// DialContext connects to addr (host:port) directly or through the
// proxy. Failures are *mailbox.ConnectError: step DNS or TCP directly,
// step proxy for the proxy's TCP connection or its handshake (with what
// the proxy answered).
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, &mailbox.ConnectError{Step: mailbox.StepTCP, Server: addr, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	if d == nil || d.Proxy == nil || d.Proxy.Bypass(host) {
		return d.direct(ctx, network, host, port)
	}
	conn, err := d.viaProxy(ctx, addr)
	if err != nil {
		return nil, &mailbox.ConnectError{Step: mailbox.StepProxy, Server: addr, Err: CtxErr(ctx, err)}
	}
	return conn, nil
}

// direct resolves host and connects to each of its addresses in turn.
func (d *Dialer) direct(ctx context.Context, network, host, port string) (net.Conn, error) {
	addr := net.JoinHostPort(host, port)
	ips, err := resolve(ctx, host)
	if err != nil {
		return nil, &mailbox.ConnectError{Step: mailbox.StepDNS, Server: addr, Err: fmt.Errorf("resolve %s: %w", host, CtxErr(ctx, err))}
	}
	var conn net.Conn
	for _, ip := range ips {
		if conn, err = d.tcp(ctx, network, net.JoinHostPort(ip, port)); err == nil {
			return conn, nil
		}
	}
	return nil, &mailbox.ConnectError{Step: mailbox.StepTCP, Server: addr, Err: fmt.Errorf("connect: %w", CtxErr(ctx, err))}
}

// viaProxy opens a tunnel to addr through the proxy.
func (d *Dialer) viaProxy(ctx context.Context, addr string) (net.Conn, error) {
	p := d.Proxy
	var tcpErr error
	toProxy := func(ctx context.Context, network, a string) (net.Conn, error) {
		c, err := d.tcp(ctx, network, a)
		tcpErr = err
		return c, err
	}
	if p.URL.Scheme == "http" {
		c, err := toProxy(ctx, "tcp", p.URL.Host)
		if err != nil {
			return nil, fmt.Errorf("connect to the proxy %s: %w", p, err)
		}
		conn, err := connectTunnel(ctx, c, addr, p)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("the proxy %s: %w", p, err)
		}
		return conn, nil
	}
	var auth *proxy.Auth
	if p.Username != "" {
		auth = &proxy.Auth{User: p.Username, Password: p.Password}
	}
	sd, err := proxy.SOCKS5("tcp", p.URL.Host, auth, contextDialer(toProxy))
	if err != nil {
		return nil, fmt.Errorf("the proxy %s: %w", p, err)
	}
	c, err := sd.(proxy.ContextDialer).DialContext(ctx, "tcp", addr)
	if err != nil {
		if tcpErr != nil {
			return nil, fmt.Errorf("connect to the proxy %s: %w", p, tcpErr)
		}
		return nil, fmt.Errorf("SOCKS5 handshake with the proxy %s: %w%s", p, socksReason(err), socksHint(err, p))
	}
	return c, nil
}

// socksReason is what the SOCKS5 proxy answered, without the addresses
// net.OpError repeats.
func socksReason(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}

func socksHint(err error, p *Proxy) string {
	s := err.Error()
	switch {
	case strings.Contains(s, "username/password authentication failed"):
		return " (the proxy refused the username and password of server.proxySecret)"
	case strings.Contains(s, "no acceptable authentication methods") && p.Username == "":
		return " (the proxy wants a username and password: name a secret in server.proxySecret)"
	case strings.Contains(s, "no acceptable authentication methods"):
		return " (the proxy accepts none of the offered authentication methods)"
	}
	return ""
}

type contextDialer DialFunc

func (f contextDialer) Dial(network, addr string) (net.Conn, error) {
	return f(context.Background(), network, addr)
}

func (f contextDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return f(ctx, network, addr)
}

// connectTunnel asks an HTTP proxy for a tunnel to addr (CONNECT,
// RFC 9110 section 9.3.6), with Basic credentials when the job has a
// proxy secret (Proxy-Authorization, RFC 9110 section 11.7.2).
func connectTunnel(ctx context.Context, c net.Conn, addr string, p *Proxy) (net.Conn, error) {
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
		defer c.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	req := "CONNECT " + addr + " HTTP/1.1\r\nHost: " + addr + "\r\n"
	if p.Username != "" {
		req += "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(p.Username+":"+p.Password)) + "\r\n"
	}
	if _, err := c.Write([]byte(req + "\r\n")); err != nil {
		return nil, fmt.Errorf("send CONNECT: %w", err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		return nil, fmt.Errorf("read the answer to CONNECT: %w", err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusProxyAuthRequired && p.Username == "":
		return nil, fmt.Errorf("CONNECT %s refused: %s (the proxy wants a username and password: name a secret in server.proxySecret)", addr, resp.Status)
	case resp.StatusCode == http.StatusProxyAuthRequired:
		return nil, fmt.Errorf("CONNECT %s refused: %s (the proxy refused the username and password of server.proxySecret)", addr, resp.Status)
	case resp.StatusCode/100 != 2:
		return nil, fmt.Errorf("CONNECT %s refused: %s", addr, resp.Status)
	}
	if br.Buffered() > 0 {
		// What the server sent at once (a greeting) arrived with the
		// proxy's answer.
		rest, _ := br.Peek(br.Buffered())
		return newBufferedConn(c, rest), nil
	}
	return c, nil
}

type bufferedConn struct {
	net.Conn
	rest []byte
}

func newBufferedConn(c net.Conn, rest []byte) net.Conn {
	return &bufferedConn{Conn: c, rest: append([]byte(nil), rest...)}
}

func (c *bufferedConn) Read(b []byte) (int, error) {
	if len(c.rest) > 0 {
		n := copy(b, c.rest)
		c.rest = c.rest[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// Transport is an HTTP transport whose connections all go out through
// d, with tlsConf for https. The environment's HTTPS_PROXY, HTTP_PROXY
// and NO_PROXY are not consulted (Proxy is nil): the jobs file alone says
// how a job reaches its server.
func (d *Dialer) Transport(tlsConf *tls.Config) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = d.DialContext
	t.TLSClientConfig = tlsConf
	return t
}

// Describe names how d reaches addr, for Test Connection: "direct", or
// the proxy's kind and URL.
func (d *Dialer) Describe(host string) string {
	if d == nil || d.Proxy == nil {
		return "direct"
	}
	if d.Proxy.Bypass(host) {
		return "direct (server.noProxy)"
	}
	return d.Proxy.Kind() + " " + d.Proxy.String()
}
