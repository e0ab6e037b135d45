package mailconn

import (
	"bytes"
	"net"
	"strconv"
	"strings"
	"sync"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox/mailtrace"
)

// Tap records an IMAP or POP3 session's commands and responses into a
// trace. It sits on the plaintext layer of the connection: Wrap the
// connection as it is before TLS (plain text, STARTTLS/STLS exchange) and
// again the TLS connection once it is up; never the TLS connection's
// ciphertext.
//
// It knows the secret-bearing commands and never records their
// arguments: IMAP LOGIN (RFC 9051 section 6.2.3), AUTHENTICATE's initial
// response, continuations and the server's challenges (section 6.2.2);
// POP3 PASS and APOP (RFC 1939 section 7), AUTH's (RFC 5034). It never
// records message data: IMAP literals (section 4.3: FETCH BODY[], headers)
// and the lines of POP3 RETR and TOP answers are counted, not kept.
type Tap struct {
	rec   *mailtrace.Recorder
	proto string

	mu             sync.Mutex
	client, server stream
	// IMAP: the tag of an AUTHENTICATE under way; a LOGIN whose literal
	// arguments are still being sent.
	authTag    string
	loginCont  bool
	clientCont bool
	// POP3: the commands awaiting their status line, an AUTH exchange
	// under way, a multi-line answer being read.
	pending   []pop3Cmd
	sasl      bool
	multi     bool
	multiData bool
	dataLines int
	dataBytes int
}

type pop3Cmd struct {
	multi, data bool
}

type stream struct {
	buf  []byte
	skip int // literal bytes still to come, not recorded
}

// NewTap returns a tap for proto recording into rec; nil when rec is nil.
func NewTap(rec *mailtrace.Recorder, proto job.Protocol) *Tap {
	if rec == nil {
		return nil
	}
	return &Tap{rec: rec, proto: string(proto)}
}

// Wrap returns c with what passes through it recorded; c itself when t
// is nil.
func (t *Tap) Wrap(c net.Conn) net.Conn {
	if t == nil {
		return c
	}
	return &tapConn{Conn: c, t: t}
}

// Note records a note in the trace (TLS established, and the like).
func (t *Tap) Note(format string, args ...any) {
	if t != nil {
		t.rec.Notef(t.proto, format, args...)
	}
}

type tapConn struct {
	net.Conn
	t *Tap
}

func (c *tapConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.t.feed(false, b[:n])
	}
	return n, err
}

func (c *tapConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if n > 0 {
		c.t.feed(true, b[:n])
	}
	return n, err
}

// maxBuffered bounds a line kept while it arrives; the rest of a longer
// line is not kept (the recorder cuts lines anyway).
const maxBuffered = 4 * mailtrace.MaxLine

func (t *Tap) feed(fromClient bool, p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := &t.server
	if fromClient {
		st = &t.client
	}
	for len(p) > 0 {
		if st.skip > 0 {
			n := min(st.skip, len(p))
			st.skip -= n
			p = p[n:]
			continue
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			st.buf = appendBounded(st.buf, p)
			return
		}
		line := string(appendBounded(st.buf, p[:i+1]))
		st.buf = st.buf[:0]
		p = p[i+1:]
		if t.proto == string(job.POP3) {
			t.pop3Line(fromClient, line)
		} else {
			st.skip = t.imapLine(fromClient, line)
		}
	}
}

func appendBounded(buf, p []byte) []byte {
	if room := maxBuffered - len(buf); room < len(p) {
		p = p[:max(room, 0)]
	}
	return append(buf, p...)
}

func (t *Tap) rec1(fromClient bool, text string) {
	dir := "S"
	if fromClient {
		dir = "C"
	}
	t.rec.Line(t.proto, dir, text)
}

// literal returns the size of the literal a line announces at its end
// ({N} or {N+}, RFC 9051 section 4.3, RFC 7888), or -1.
func literal(line string) int {
	l := strings.TrimRight(line, "\r\n")
	if !strings.HasSuffix(l, "}") {
		return -1
	}
	i := strings.LastIndexByte(l, '{')
	if i < 0 {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSuffix(l[i+1:len(l)-1], "+"))
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// imapLine records one IMAP line and returns the literal bytes that
// follow it, which are not recorded.
func (t *Tap) imapLine(fromClient bool, line string) int {
	n := literal(line)
	skip := max(n, 0)
	if fromClient {
		switch {
		case t.authTag != "":
			t.rec1(true, "[SASL response not recorded]")
			return skip
		case t.clientCont && t.loginCont:
			// The rest of LOGIN's arguments.
		case t.clientCont:
			t.rec1(true, line)
		default:
			f := strings.Fields(line)
			cmd := ""
			if len(f) > 1 {
				cmd = strings.ToUpper(f[1])
			}
			switch {
			case cmd == "LOGIN":
				t.rec1(true, f[0]+" LOGIN [user name and password not recorded]")
				t.loginCont = true
			case cmd == "AUTHENTICATE" && len(f) > 2:
				text := f[0] + " AUTHENTICATE " + f[2]
				if len(f) > 3 {
					text += " [initial response not recorded]"
				}
				t.rec1(true, text)
				t.authTag = f[0]
			default:
				t.rec1(true, line)
			}
		}
		t.clientCont = n >= 0
		if n < 0 {
			t.loginCont = false
		} else if !t.loginCont {
			t.rec1(true, "[literal of "+strconv.Itoa(n)+" bytes not recorded]")
		}
		return skip
	}
	if t.authTag != "" {
		switch {
		case strings.HasPrefix(line, "+"):
			t.rec1(false, "+ [SASL challenge not recorded]")
			return skip
		case strings.HasPrefix(line, t.authTag+" "):
			t.authTag = ""
		}
	}
	t.rec1(false, line)
	if n >= 0 {
		t.rec1(false, "[literal of "+strconv.Itoa(n)+" bytes not recorded]")
	}
	return skip
}

// pop3Line records one POP3 line.
func (t *Tap) pop3Line(fromClient bool, line string) {
	if fromClient {
		if t.sasl {
			t.rec1(true, "[SASL response not recorded]")
			return
		}
		f := strings.Fields(line)
		cmd := ""
		if len(f) > 0 {
			cmd = strings.ToUpper(f[0])
		}
		c := pop3Cmd{}
		switch cmd {
		case "PASS":
			t.rec1(true, "PASS [password not recorded]")
		case "APOP":
			text := "APOP"
			if len(f) > 1 {
				text += " " + f[1]
			}
			t.rec1(true, text+" [digest not recorded]")
		case "AUTH":
			text := line
			if len(f) > 1 {
				text = "AUTH " + f[1]
				t.sasl = true
			} else {
				c.multi = true
			}
			if len(f) > 2 {
				text += " [initial response not recorded]"
			}
			t.rec1(true, text)
		case "RETR", "TOP":
			c.multi, c.data = true, true
			t.rec1(true, line)
		case "CAPA":
			c.multi = true
			t.rec1(true, line)
		case "UIDL", "LIST":
			c.multi = len(f) == 1
			t.rec1(true, line)
		default:
			t.rec1(true, line)
		}
		t.pending = append(t.pending, c)
		return
	}
	if t.multi {
		if strings.TrimRight(line, "\r\n") == "." {
			if t.multiData {
				t.rec1(false, "[message data of "+strconv.Itoa(t.dataLines)+" lines, "+strconv.Itoa(t.dataBytes)+" bytes not recorded]")
			}
			t.rec1(false, ".")
			t.multi = false
			return
		}
		if t.multiData {
			t.dataLines++
			t.dataBytes += len(line)
			return
		}
		t.rec1(false, line)
		return
	}
	if t.sasl && strings.HasPrefix(line, "+") && !strings.HasPrefix(line, "+OK") {
		t.rec1(false, "+ [SASL challenge not recorded]")
		return
	}
	t.sasl = false
	t.rec1(false, line)
	if len(t.pending) == 0 {
		return // the greeting
	}
	c := t.pending[0]
	t.pending = t.pending[1:]
	if c.multi && strings.HasPrefix(line, "+OK") {
		t.multi, t.multiData, t.dataLines, t.dataBytes = true, c.data, 0, 0
	}
}
