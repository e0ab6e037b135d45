package imapbox

import (
	"bytes"
	"io"
	"net"
	"time"

	"mailconnector/shared/mailbox/mailconn"
)

// timeoutConn is the job's inactivity timeout on the connection
// (mailconn.TimeoutConn): imapclient's own fixed deadlines (30 s per
// response, 5 min per literal) are ignored, so a 50 MB literal that keeps
// flowing never times out while a stalled server does after one timeout.
type timeoutConn struct{ *mailconn.TimeoutConn }

func newTimeoutConn(c net.Conn, timeout time.Duration) *timeoutConn {
	return &timeoutConn{mailconn.NewTimeoutConn(c, timeout)}
}

// begin marks an operation under way; the returned func ends it.
func (c *timeoutConn) begin() (end func()) { return c.Begin() }

// prefixConn replays bytes already read (the greeting) before reading on.
type prefixConn struct {
	net.Conn
	r io.Reader
}

func newPrefixConn(c net.Conn, prefix []byte) net.Conn {
	return &prefixConn{Conn: c, r: io.MultiReader(bytes.NewReader(prefix), c)}
}

func (c *prefixConn) Read(b []byte) (int, error) { return c.r.Read(b) }
