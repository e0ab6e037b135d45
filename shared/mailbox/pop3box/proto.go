package pop3box

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/emersion/go-sasl"

	"mailconnector/shared/mailbox/mailauth"
)

// maxLine bounds a response line. RFC 2449 section 4 limits responses to
// 512 octets; a misbehaving server gets some slack, not unbounded memory.
const maxLine = 64 << 10

// errProtocol means the server said something POP3 does not allow here.
var errProtocol = errors.New("pop3box: unexpected response")

// Error is a -ERR response (RFC 1939 section 3), with its extended
// response code when the server gives one (RFC 2449 section 8: [IN-USE],
// [LOGIN-DELAY], [SYS/TEMP], [SYS/PERM], [AUTH]).
type Error struct {
	Command string // the command's keyword only: never its arguments
	Code    string // e.g. "IN-USE", "AUTH"; "" when none
	Text    string
}

func (e *Error) Error() string {
	s := "server said -ERR " + e.Text
	if e.Code != "" {
		s = fmt.Sprintf("server said -ERR [%s] %s", e.Code, e.Text)
	}
	switch e.Code {
	case "IN-USE":
		s += " (another POP3 session holds the maildrop: is another client connected?)"
	case "LOGIN-DELAY":
		s += " (the server limits how often one may sign in: schedule the job less often)"
	case "SYS/TEMP":
		s += " (a temporary server problem: the next run retries)"
	}
	if e.Command == "" {
		return s
	}
	return e.Command + ": " + s
}

// proto speaks POP3 on one connection.
type proto struct {
	nc net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

func newProto(nc net.Conn) *proto {
	return &proto{nc: nc, br: bufio.NewReaderSize(nc, 64<<10), bw: bufio.NewWriter(nc)}
}

// readLine reads one line without its CRLF.
func (p *proto) readLine() (string, error) {
	var b []byte
	for {
		chunk, err := p.br.ReadSlice('\n')
		b = append(b, chunk...)
		if len(b) > maxLine {
			return "", fmt.Errorf("%w: a response line longer than %d bytes", errProtocol, maxLine)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(b) == 0 {
				return "", io.EOF
			}
			if err == io.EOF {
				return "", io.ErrUnexpectedEOF
			}
			return "", err
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
}

// send writes one command line. name is the keyword used in errors.
func (p *proto) send(line string) error {
	if _, err := p.bw.WriteString(line + "\r\n"); err != nil {
		return err
	}
	return p.bw.Flush()
}

// status reads a status line: "+OK text" returns text; "-ERR" an *Error.
func (p *proto) status(name string) (string, error) {
	line, err := p.readLine()
	if err != nil {
		return "", fmt.Errorf("%s: read response: %w", name, err)
	}
	return parseStatus(name, line)
}

func parseStatus(name, line string) (string, error) {
	switch {
	case line == "+OK" || strings.HasPrefix(line, "+OK "):
		return strings.TrimPrefix(strings.TrimPrefix(line, "+OK"), " "), nil
	case line == "-ERR" || strings.HasPrefix(line, "-ERR "):
		text := strings.TrimPrefix(strings.TrimPrefix(line, "-ERR"), " ")
		e := &Error{Command: name, Text: text}
		if strings.HasPrefix(text, "[") {
			if i := strings.IndexByte(text, ']'); i > 0 {
				e.Code, e.Text = strings.ToUpper(text[1:i]), strings.TrimSpace(text[i+1:])
			}
		}
		return "", e
	}
	return "", fmt.Errorf("%s: %w: %.100q", name, errProtocol, line)
}

// cmd sends a command and reads its status line. name is what errors
// show instead of the line (which may hold a password).
func (p *proto) cmd(name, line string) (string, error) {
	if err := p.send(line); err != nil {
		return "", fmt.Errorf("%s: send: %w", name, err)
	}
	return p.status(name)
}

// lines sends a command with a multi-line answer (RFC 1939 section 3) and
// passes each line, dot-unstuffed, to fn.
func (p *proto) lines(name, line string, fn func(string) error) error {
	if _, err := p.cmd(name, line); err != nil {
		return err
	}
	for {
		l, err := p.readLine()
		if err != nil {
			return fmt.Errorf("%s: read listing: %w", name, err)
		}
		if l == "." {
			return nil
		}
		l = strings.TrimPrefix(l, ".")
		if err := fn(l); err != nil {
			return err
		}
	}
}

// dotReader streams a multi-line response body (RETR, TOP), undoing the
// byte-stuffing of RFC 1939 section 3 (a line starting with "." was sent
// with one more ".") and stopping at the terminating ".CRLF". Unlike
// net/textproto's DotReader it keeps CRLF line endings, so the message
// arrives byte for byte as the server stores it. It holds at most one
// buffer of the connection's reader: a 50 MB message streams.
type dotReader struct {
	br        *bufio.Reader
	pending   []byte
	lineStart bool
	done      bool
	err       error
}

func newDotReader(br *bufio.Reader) *dotReader {
	return &dotReader{br: br, lineStart: true}
}

func (d *dotReader) Read(p []byte) (int, error) {
	for len(d.pending) == 0 {
		if d.done {
			return 0, io.EOF
		}
		if d.err != nil {
			return 0, d.err
		}
		d.fill()
	}
	n := copy(p, d.pending)
	d.pending = d.pending[n:]
	return n, nil
}

// fill reads the next line (or piece of a long line) into pending.
func (d *dotReader) fill() {
	chunk, err := d.br.ReadSlice('\n')
	if len(chunk) == 0 && err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // the connection ended before ".CRLF"
		}
		d.err = err
		return
	}
	if d.lineStart && len(chunk) > 0 && chunk[0] == '.' {
		if err == nil && (string(chunk) == ".\r\n" || string(chunk) == ".\n") {
			d.done = true
			return
		}
		chunk = chunk[1:]
	}
	d.pending = chunk
	switch {
	case err == nil:
		d.lineStart = true
	case err == bufio.ErrBufferFull:
		d.lineStart = false
	default:
		d.lineStart = false
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		d.err = err
	}
}

// drain reads what is left of the body, so the next command finds the
// connection at a response boundary.
func (d *dotReader) drain() error {
	_, err := io.Copy(io.Discard, d)
	return err
}

// saslError is a refused SASL exchange, with what the mechanism learnt.
type saslError struct {
	mech   string
	err    error
	detail string
}

func (e *saslError) Error() string {
	s := e.err.Error()
	if e.detail != "" {
		s += " (" + e.detail + ")"
	}
	return s
}

func (e *saslError) Unwrap() error { return e.err }

// authenticate runs AUTH (RFC 5034 section 4). The initial response goes
// on the command line when it fits the 255-octet limit of RFC 2449 and
// the mechanism is not NTLM (SPA servers expect the classic empty
// challenge first); otherwise it answers the server's empty challenge.
func (p *proto) authenticate(c sasl.Client) error {
	mech, ir, err := c.Start()
	if err != nil {
		return fmt.Errorf("AUTH: %w", err)
	}
	line := "AUTH " + mech
	pending := ir
	if ir != nil && mech != mailauth.NTLM {
		enc := "="
		if len(ir) > 0 {
			enc = base64.StdEncoding.EncodeToString(ir)
		}
		if len(line)+1+len(enc)+2 <= 255 {
			line += " " + enc
			pending = nil
		}
	}
	if err := p.send(line); err != nil {
		return fmt.Errorf("AUTH %s: send: %w", mech, err)
	}
	for {
		resp, err := p.readLine()
		if err != nil {
			return fmt.Errorf("AUTH %s: read response: %w", mech, err)
		}
		if !strings.HasPrefix(resp, "+") || strings.HasPrefix(resp, "+OK") {
			if _, err := parseStatus("", resp); err != nil {
				return &saslError{mech: mech, err: err, detail: mailauth.Detail(c)}
			}
			return nil
		}
		chal := strings.TrimSpace(resp[1:])
		var answer []byte
		if chal == "" && pending != nil {
			answer, pending = pending, nil
		} else {
			challenge, derr := base64.StdEncoding.DecodeString(chal)
			if derr != nil {
				p.send("*")
				p.status("AUTH " + mech)
				return fmt.Errorf("AUTH %s: %w: the server's challenge is not base64", mech, errProtocol)
			}
			answer, err = c.Next(challenge)
			if err != nil {
				// RFC 5034 section 4: "*" cancels the exchange.
				p.send("*")
				p.status("AUTH " + mech)
				return fmt.Errorf("AUTH %s: %w", mech, err)
			}
		}
		if err := p.send(base64.StdEncoding.EncodeToString(answer)); err != nil {
			return fmt.Errorf("AUTH %s: send: %w", mech, err)
		}
	}
}
