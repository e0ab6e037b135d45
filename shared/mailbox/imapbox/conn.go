package imapbox

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"time"
)

// timeoutConn applies the job's timeout to every read and write while a
// session operation is under way, and none while the session is idle
// between operations. imapclient's own fixed deadlines (30 s per response,
// 5 min per literal) are ignored: the job's timeout replaces them, and it
// is an inactivity timeout, so a 50 MB literal that keeps flowing never
// times out while a stalled server does after one timeout.
type timeoutConn struct {
	net.Conn
	timeout time.Duration
	busy    atomic.Int32
}

func newTimeoutConn(c net.Conn, timeout time.Duration) *timeoutConn {
	return &timeoutConn{Conn: c, timeout: timeout}
}

// begin marks an operation under way; the returned func ends it.
func (c *timeoutConn) begin() (end func()) {
	c.busy.Add(1)
	c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
	return func() {
		if c.busy.Add(-1) == 0 {
			c.Conn.SetReadDeadline(time.Time{})
		}
	}
}

func (c *timeoutConn) Read(b []byte) (int, error) {
	for {
		if c.busy.Load() > 0 {
			c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
		}
		n, err := c.Conn.Read(b)
		var ne net.Error
		if n == 0 && err != nil && errors.As(err, &ne) && ne.Timeout() && c.busy.Load() == 0 {
			// A deadline left over from the last operation: the session
			// is idle, keep waiting.
			c.Conn.SetReadDeadline(time.Time{})
			continue
		}
		return n, err
	}
}

func (c *timeoutConn) Write(b []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(c.timeout))
	return c.Conn.Write(b)
}

// The deadlines of layers above (imapclient, crypto/tls) are replaced by
// the job's timeout.
func (c *timeoutConn) SetDeadline(time.Time) error      { return nil }
func (c *timeoutConn) SetReadDeadline(time.Time) error  { return nil }
func (c *timeoutConn) SetWriteDeadline(time.Time) error { return nil }

// prefixConn replays bytes already read (the greeting) before reading on.
type prefixConn struct {
	net.Conn
	r io.Reader
}

func newPrefixConn(c net.Conn, prefix []byte) net.Conn {
	return &prefixConn{Conn: c, r: io.MultiReader(bytes.NewReader(prefix), c)}
}

func (c *prefixConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// dialContext resolves host (unless it is an IP address) and connects to
// each address in turn.
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
