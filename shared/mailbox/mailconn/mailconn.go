// Package mailconn holds what every mail protocol adapter does the same way
// before it speaks its protocol: resolve the host and connect (steps DNS and
// TCP), build the TLS configuration the job asks for (TLS 1.2 at least,
// certificates verified against the system roots plus the job's caFile
// unless the job turns verification off), tell a refused certificate from
// another TLS failure with the reason in words, and apply the job's timeout
// as an inactivity timeout on every read and write.
package mailconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
)

// DialFunc opens a network connection, like (*net.Dialer).DialContext.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// Dial resolves host (unless it is an IP address) and connects to each of
// its addresses in turn on port. Failures are *mailbox.ConnectError at step
// DNS or TCP; server is host:port for the error. A dial func given is
// handed host:port unresolved, as (*Dialer).DialContext wants it (a proxy
// resolves names itself); its *mailbox.ConnectError is returned as it is.
func Dial(ctx context.Context, dial DialFunc, host string, port int, timeout time.Duration) (net.Conn, error) {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if dial != nil {
		conn, err := dial(dctx, "tcp", addr)
		var ce *mailbox.ConnectError
		var de *net.DNSError
		switch {
		case err == nil, errors.As(err, &ce):
		case errors.As(err, &de):
			err = &mailbox.ConnectError{Step: mailbox.StepDNS, Server: addr, Err: fmt.Errorf("resolve %s: %w", host, CtxErr(ctx, err))}
		default:
			err = &mailbox.ConnectError{Step: mailbox.StepTCP, Server: addr, Err: fmt.Errorf("connect: %w", CtxErr(ctx, err))}
		}
		return conn, err
	}
	dial = (&net.Dialer{Timeout: timeout}).DialContext
	ips, err := resolve(dctx, host)
	if err != nil {
		return nil, &mailbox.ConnectError{Step: mailbox.StepDNS, Server: addr, Err: fmt.Errorf("resolve %s: %w", host, CtxErr(ctx, err))}
	}
	var conn net.Conn
	for _, ip := range ips {
		conn, err = dial(dctx, "tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
		if err == nil {
			return conn, nil
		}
	}
	return nil, &mailbox.ConnectError{Step: mailbox.StepTCP, Server: addr, Err: fmt.Errorf("connect: %w", CtxErr(ctx, err))}
}

func resolve(ctx context.Context, host string) ([]string, error) {
	if ip := net.ParseIP(host); ip != nil {
		return []string{host}, nil
	}
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, errors.New("no addresses")
	}
	return addrs, nil
}

// CtxErr prefers the context's error to the I/O error it caused.
func CtxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

// TLSConfig builds the TLS configuration: TLS 1.2 at least unless the
// job's minTLS allows older versions (see MinTLSVersion), the system roots
// plus the job's caFile, or no verification when the job sets
// rejectInvalidCertificates: false.
func TLSConfig(srv job.Server) (*tls.Config, error) {
	conf := &tls.Config{ServerName: srv.Host, MinVersion: MinTLSVersion(srv.MinTLS)}
	if !srv.VerifyCertificates() {
		conf.InsecureSkipVerify = true
		return conf, nil
	}
	if srv.CAFile != "" {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		pem, err := os.ReadFile(srv.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read caFile: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("caFile %s holds no PEM certificate", srv.CAFile)
		}
		conf.RootCAs = pool
	}
	return conf, nil
}

// TLSFailure tells a refused certificate (step certificate, with the
// reason in words: unknown authority, wrong host, expired) from another
// TLS failure (step TLS).
func TLSFailure(err error) (mailbox.Step, error) {
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var cv *tls.CertificateVerificationError
	switch {
	case errors.As(err, &ua):
		return mailbox.StepCertificate, fmt.Errorf("the server certificate is signed by an unknown authority (self-signed or a private CA); trust it with server.caFile or set rejectInvalidCertificates: false: %w", err)
	case errors.As(err, &he):
		return mailbox.StepCertificate, fmt.Errorf("the server certificate is not valid for host %s: %w", he.Host, err)
	case errors.As(err, &ci) && ci.Reason == x509.Expired:
		return mailbox.StepCertificate, fmt.Errorf("the server certificate has expired or is not yet valid: %w", err)
	case errors.As(err, &ci):
		return mailbox.StepCertificate, fmt.Errorf("the server certificate is invalid: %w", err)
	case errors.As(err, &cv):
		return mailbox.StepCertificate, fmt.Errorf("the server certificate was refused: %w", err)
	}
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		if found := greetingProtocol(string(rh.RecordHeader[:])); found != "" {
			return mailbox.StepTLS, fmt.Errorf("TLS handshake: the server answered in plain text (%q, %s greeting): is this a plain or STARTTLS port? use security starttls, or the implicit TLS port: %w", rh.RecordHeader[:], article(found), err)
		}
	}
	return mailbox.StepTLS, fmt.Errorf("TLS handshake: %w", err)
}

// TimeoutConn applies a timeout to every read and write while an
// operation is under way (between Begin and the func it returns), and none
// while the session is idle. It is an inactivity timeout: a 50 MB message
// that keeps flowing never times out, a stalled server does after one
// timeout. Deadlines set by layers above (crypto/tls) are ignored.
type TimeoutConn struct {
	net.Conn
	timeout time.Duration
	busy    atomic.Int32
}

// NewTimeoutConn wraps c.
func NewTimeoutConn(c net.Conn, timeout time.Duration) *TimeoutConn {
	return &TimeoutConn{Conn: c, timeout: timeout}
}

// Begin marks an operation under way; the returned func ends it.
func (c *TimeoutConn) Begin() (end func()) {
	c.busy.Add(1)
	c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
	return func() {
		if c.busy.Add(-1) == 0 {
			c.Conn.SetReadDeadline(time.Time{})
		}
	}
}

// BeginContext is Begin, and also closes the connection if ctx ends
// before the returned func is called, which unblocks whatever waits on it
// (the connection is unusable afterwards).
func (c *TimeoutConn) BeginContext(ctx context.Context) (end func()) {
	endIO := c.Begin()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	return func() {
		stop()
		endIO()
	}
}

func (c *TimeoutConn) Read(b []byte) (int, error) {
	for {
		if c.busy.Load() > 0 {
			c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
		}
		n, err := c.Conn.Read(b)
		var ne net.Error
		if n == 0 && err != nil && errors.As(err, &ne) && ne.Timeout() && c.busy.Load() == 0 {
			// A deadline left over from the last operation: idle, wait on.
			c.Conn.SetReadDeadline(time.Time{})
			continue
		}
		return n, err
	}
}

func (c *TimeoutConn) Write(b []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(c.timeout))
	return c.Conn.Write(b)
}

// SetDeadline is ignored: the job's timeout replaces the deadlines of the
// layers above.
func (c *TimeoutConn) SetDeadline(time.Time) error { return nil }

// SetReadDeadline is ignored (see SetDeadline).
func (c *TimeoutConn) SetReadDeadline(time.Time) error { return nil }

// SetWriteDeadline is ignored (see SetDeadline).
func (c *TimeoutConn) SetWriteDeadline(time.Time) error { return nil }

// Endpoint is the job's server with the defaults applied, as every
// adapter reads it before it connects.
type Endpoint struct {
	Log      *slog.Logger // never nil: a discarding logger by default
	Timeout  time.Duration
	Security job.Security // starttls-if-available by default
	Port     int          // the protocol's port for the security by default
	Addr     string       // host:port, for errors and logs
}

// NewEndpoint applies the defaults to srv for proto.
func NewEndpoint(proto job.Protocol, srv job.Server, log *slog.Logger) Endpoint {
	e := Endpoint{Log: log, Timeout: srv.Timeout.D(), Security: srv.Security, Port: srv.Port}
	if e.Log == nil {
		e.Log = slog.New(slog.DiscardHandler)
	}
	if e.Timeout <= 0 {
		e.Timeout = job.DefaultTimeout
	}
	if e.Security == "" {
		e.Security = job.SecuritySTARTTLSIfAvailable
	}
	if e.Port == 0 {
		e.Port = job.DefaultPort(proto, e.Security)
	}
	e.Addr = net.JoinHostPort(srv.Host, strconv.Itoa(e.Port))
	return e
}

// Fail logs a failed step at debug level, prefixed with the adapter's
// name, and returns it as a *mailbox.ConnectError.
func (e Endpoint) Fail(adapter string, step mailbox.Step, err error) error {
	e.Log.Debug(adapter+": connect failed", "server", e.Addr, "step", string(step), "err", err)
	return &mailbox.ConnectError{Step: step, Server: e.Addr, Err: err}
}
