package imapbox

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/mailauth"
	"mailconnector/shared/mailbox/mailconn"
)

// ErrUnsupportedAuth means the job asks for an authentication method this
// adapter does not speak yet.
var ErrUnsupportedAuth = errors.New("imapbox: authentication method not supported yet")

// ErrNoSTARTTLS means the job requires STARTTLS and the server does not
// offer it (RFC 3501 section 6.2.1).
var ErrNoSTARTTLS = errors.New("imapbox: server does not offer STARTTLS")

// Open connects, secures the connection, signs in and selects the job's
// folder. Failures are *mailbox.ConnectError naming the step.
func Open(ctx context.Context, cfg Config) (*Session, error) {
	srv := cfg.Server
	ep := mailconn.NewEndpoint(job.IMAP, srv, cfg.Logger)
	log, timeout, security, port, addr := ep.Log, ep.Timeout, ep.Security, ep.Port, ep.Addr
	fail := func(step mailbox.Step, err error) error { return ep.Fail("imapbox", step, err) }

	// Steps DNS and TCP (mailconn, as every adapter), then TLS, bounded
	// by the timeout.
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	raw, err := mailconn.Dial(ctx, mailconn.DialFunc(cfg.Dialer), srv.Host, port, timeout)
	if err != nil {
		if ce := (*mailbox.ConnectError)(nil); errors.As(err, &ce) {
			return nil, fail(ce.Step, ce.Err)
		}
		return nil, fail(mailbox.StepTCP, err)
	}
	log.Debug("imapbox: connected", "server", addr, "security", string(security))

	conn := newTimeoutConn(raw, timeout)
	defer conn.BeginContext(ctx)()

	s := &Session{conn: conn, log: log, timeout: timeout, created: map[string]bool{}, port: port}
	s.info = mailbox.Info{Protocol: "imap", Server: addr, Unseen: -1}
	opts := &imapclient.Options{}

	tlsConf, err := mailconn.TLSConfig(srv)
	if err != nil {
		conn.Close()
		return nil, fail(mailbox.StepCertificate, err)
	}

	// The greeting is read here, not by imapclient, so that a port that
	// is silent (implicit TLS) or speaks another protocol fails at once
	// with what was found.
	// The trace taps the plain-text layer: the connection itself, or TLS
	// once it is up.
	tap := mailconn.NewTap(cfg.Trace, job.IMAP)
	var plain net.Conn = tap.Wrap(conn)
	switch security {
	case job.SecurityNone, job.SecuritySTARTTLS, job.SecuritySTARTTLSIfAvailable:
	case job.SecurityTLS:
		tc := tls.Client(conn, tlsConf)
		if err := tc.HandshakeContext(dctx); err != nil {
			conn.Close()
			step, err := mailconn.TLSFailure(err)
			return nil, fail(step, ctxErr(ctx, err))
		}
		tap.Note("TLS established (%s)", tls.VersionName(tc.ConnectionState().Version))
		plain = tap.Wrap(tc)
	default:
		conn.Close()
		return nil, fail(mailbox.StepTLS, fmt.Errorf("imapbox: security %q is not one of none, starttls-if-available, starttls, tls", security))
	}
	br := bufio.NewReader(plain)
	greeting, err := readLine(br)
	if err != nil {
		conn.Close()
		return nil, fail(mailbox.StepProtocol, ctxErr(ctx, mailconn.GreetingError("IMAP", err, security)))
	}
	if err := mailconn.CheckGreeting(job.IMAP, greeting); err != nil {
		conn.Close()
		return nil, fail(mailbox.StepProtocol, err)
	}

	switch security {
	case job.SecurityNone:
		s.c = imapclient.New(replay(plain, greeting, br), opts)
		s.info.Security = "none"
	case job.SecurityTLS:
		s.c = imapclient.New(replay(plain, greeting, br), opts)
		s.info.Security = "tls"
	default:
		c, offered, err := startTLS(dctx, conn, plain, tap, greeting, br, tlsConf, opts)
		switch {
		case err != nil:
			conn.Close()
			var ie *imap.Error
			if errors.As(err, &ie) || errors.Is(err, errGreeting) {
				return nil, fail(mailbox.StepSTARTTLS, ctxErr(ctx, err))
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
				return nil, fail(mailbox.StepSTARTTLS, ctxErr(ctx, fmt.Errorf("connection closed during STARTTLS: %w", err)))
			}
			step, err := mailconn.TLSFailure(err)
			return nil, fail(step, ctxErr(ctx, err))
		case !offered && security == job.SecuritySTARTTLS:
			conn.Close()
			return nil, fail(mailbox.StepSTARTTLS, fmt.Errorf("%w, and the job's security is starttls (use starttls-if-available or none to allow plain text)", ErrNoSTARTTLS))
		case !offered:
			s.info.Security = "none"
			s.info.Notes = append(s.info.Notes, "the server does not offer STARTTLS; connected without encryption (security: starttls-if-available)")
			log.Warn("imapbox: STARTTLS not offered; continuing in plain text", "server", addr)
		default:
			s.info.Security = "starttls"
		}
		s.c = c
	}
	if err := s.c.WaitGreeting(); err != nil {
		s.c.Close()
		return nil, fail(mailbox.StepProtocol, fmt.Errorf("read greeting: %w", ctxErr(ctx, err)))
	}

	if err := s.authenticate(srv, cfg); err != nil {
		s.c.Close()
		if ctx.Err() != nil {
			return nil, fail(mailbox.StepAuth, ctxErr(ctx, err))
		}
		return nil, fail(mailbox.StepAuth, err)
	}
	log.Debug("imapbox: signed in", "server", addr, "user", cfg.Credentials.Username)
	for c := range s.c.Caps() {
		s.info.Capabilities = append(s.info.Capabilities, string(c))
	}
	slices.Sort(s.info.Capabilities)

	if err := s.selectFolder(srv.Folder); err != nil {
		s.c.Close()
		return nil, fail(mailbox.StepFolder, ctxErr(ctx, err))
	}
	return s, nil
}

var errGreeting = errors.New("imapbox: unexpected greeting")

// startTLS checks the greeting and reads the capabilities itself
// (imapclient can only STARTTLS unconditionally), then, when STARTTLS is offered,
// sends STARTTLS itself and hands the secured connection to imapclient
// (RFC 3501 section 6.2.1; RFC 9051 section 6.2.1). When it is not
// offered, it returns a plain client on the connection, the greeting
// replayed, and offered false.
//
// STARTTLS is sent here rather than by imapclient.NewStartTLS so that the
// trace tap sits on the TLS connection's plain text: imapclient starts on
// the secured connection as on a fresh one, and asks for the capabilities
// again, as the RFC requires after STARTTLS.
func startTLS(ctx context.Context, conn, plain net.Conn, tap *mailconn.Tap, greeting string, br *bufio.Reader, tlsConf *tls.Config, opts *imapclient.Options) (c *imapclient.Client, offered bool, err error) {
	upper := strings.ToUpper(greeting)
	switch {
	case strings.HasPrefix(upper, "* OK"):
	case strings.HasPrefix(upper, "* PREAUTH"):
		// RFC 9051 section 7.1.4: PREAUTH means no chance of STARTTLS.
		return nil, false, fmt.Errorf("%w: PREAUTH on an unencrypted connection: %s", errGreeting, strings.TrimSpace(greeting))
	default:
		return nil, false, fmt.Errorf("%w: %s", errGreeting, strings.TrimSpace(greeting))
	}
	caps, ok := capsInText(greeting)
	if !ok {
		// RFC 3501 section 6.1.1: ask for them.
		if _, err := io.WriteString(plain, "C0 CAPABILITY\r\n"); err != nil {
			return nil, false, fmt.Errorf("send CAPABILITY: %w", err)
		}
		for {
			line, err := readLine(br)
			if err != nil {
				return nil, false, fmt.Errorf("read CAPABILITY: %w", err)
			}
			u := strings.ToUpper(line)
			if strings.HasPrefix(u, "* CAPABILITY ") {
				caps = strings.Fields(u[len("* CAPABILITY "):])
			}
			if strings.HasPrefix(u, "C0 ") {
				if !strings.HasPrefix(u, "C0 OK") {
					return nil, false, fmt.Errorf("%w: CAPABILITY failed: %s", errGreeting, strings.TrimSpace(line))
				}
				break
			}
		}
	}
	offered = false
	for _, c := range caps {
		if c == "STARTTLS" {
			offered = true
		}
	}
	if !offered {
		return imapclient.New(replay(plain, greeting, br), opts), false, nil
	}
	if _, err := io.WriteString(plain, "C1 STARTTLS\r\n"); err != nil {
		return nil, true, fmt.Errorf("send STARTTLS: %w", err)
	}
	for {
		line, err := readLine(br)
		if err != nil {
			return nil, true, fmt.Errorf("read the answer to STARTTLS: %w", err)
		}
		u := strings.ToUpper(line)
		if !strings.HasPrefix(u, "C1 ") {
			continue
		}
		if !strings.HasPrefix(u, "C1 OK") {
			return nil, true, fmt.Errorf("%w: STARTTLS refused: %s", errGreeting, strings.TrimSpace(line))
		}
		break
	}
	if br.Buffered() > 0 {
		// RFC 9051 section 6.2.1: nothing may follow the OK before the
		// handshake (a man in the middle injecting commands).
		return nil, true, fmt.Errorf("%w: the server sent data after STARTTLS's OK, before the TLS handshake", errGreeting)
	}
	tc := tls.Client(conn, tlsConf)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, true, err
	}
	tap.Note("TLS established by STARTTLS (%s)", tls.VersionName(tc.ConnectionState().Version))
	// imapclient reads a greeting first: an untagged OK of our own, not
	// from the server and not in the trace.
	return imapclient.New(newPrefixConn(tap.Wrap(tc), []byte("* OK TLS established\r\n")), opts), true, nil
}

// replay returns conn with the greeting and whatever else br read ahead
// put back in front.
func replay(conn net.Conn, greeting string, br *bufio.Reader) net.Conn {
	rest, _ := br.Peek(br.Buffered())
	return newPrefixConn(conn, append([]byte(greeting), rest...))
}

// readLine reads one CRLF-terminated line of at most 64 KiB.
func readLine(br *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		chunk, err := br.ReadSlice('\n')
		b.Write(chunk)
		if b.Len() > 64<<10 {
			return "", fmt.Errorf("%w: line longer than 64 KiB", errGreeting)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return "", err
		}
		return b.String(), nil
	}
}

// capsInText finds a CAPABILITY response code (RFC 3501 section 7.1) in a
// greeting such as "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready".
func capsInText(greeting string) ([]string, bool) {
	u := strings.ToUpper(greeting)
	i := strings.Index(u, "[CAPABILITY ")
	if i < 0 {
		return nil, false
	}
	rest := u[i+len("[CAPABILITY "):]
	j := strings.IndexByte(rest, ']')
	if j < 0 {
		return nil, false
	}
	return strings.Fields(rest[:j]), true
}

// authenticate signs in with LOGIN (RFC 3501 section 6.2.3) or
// AUTHENTICATE (RFC 3501 section 6.2.2, with SASL-IR when offered, RFC
// 4959) with the job's mechanism: PLAIN (RFC 4616), NTLM (SPA), XOAUTH2
// or OAUTHBEARER (RFC 7628) with a token from cfg.TokenSource. Errors
// never contain the password or the token.
func (s *Session) authenticate(srv job.Server, cfg Config) error {
	mech, err := mailauth.Mechanism(srv.Auth)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnsupportedAuth, err)
	}
	creds := cfg.Credentials
	user, pass := creds.Username, creds.Password
	if user == "" {
		return errors.New("imapbox: the secret holds no username")
	}
	if mech == "" {
		if s.c.Caps().Has(imap.CapLoginDisabled) {
			return fmt.Errorf("the server refuses LOGIN on this connection (LOGINDISABLED); use security tls or starttls")
		}
		if err := s.c.Login(user, pass).Wait(); err != nil {
			return fmt.Errorf("LOGIN as %q refused: %w", user, err)
		}
		s.info.Auth = "LOGIN"
		return nil
	}
	if !s.c.Caps().Has(imap.Cap("AUTH=" + mech)) {
		var offered []string
		for c := range s.c.Caps() {
			if m, ok := strings.CutPrefix(string(c), "AUTH="); ok {
				offered = append(offered, m)
			}
		}
		slices.Sort(offered)
		return fmt.Errorf("the server does not offer AUTH=%s on this connection (it offers: %s)", mech, strings.Join(offered, " "))
	}
	c, notes, err := mailauth.ClientFor(mech, srv, s.port, creds, cfg.TokenSource)
	// A rotated refresh token written back (or not) belongs in the run
	// record.
	s.info.Notes = append(s.info.Notes, notes...)
	if err != nil {
		return err
	}
	if err := s.c.Authenticate(c); err != nil {
		if d := mailauth.Detail(c); d != "" {
			return fmt.Errorf("AUTHENTICATE %s as %q refused: %w (%s)", mech, user, err, d)
		}
		return fmt.Errorf("AUTHENTICATE %s as %q refused: %w", mech, user, err)
	}
	s.info.Auth = "SASL " + mech
	return nil
}

// selectFolder learns the hierarchy delimiter (LIST "" "", RFC 3501
// section 6.3.8), maps the job's folder onto it and selects it, with STATUS
// for the unseen count pipelined before SELECT (RFC 3501 section 6.3.10
// forbids STATUS on the selected mailbox only by recommendation; asking
// first avoids the question).
func (s *Session) selectFolder(folder string) error {
	list, err := s.c.List("", "", nil).Collect()
	if err != nil {
		return fmt.Errorf("learn the hierarchy delimiter: %w", err)
	}
	if len(list) > 0 {
		s.delim = list[0].Delim
	}
	if folder == "" {
		folder = "INBOX"
	}
	name := mapFolder(folder, s.delim)
	status := s.c.Status(name, &imap.StatusOptions{NumMessages: true, NumUnseen: true})
	sel := s.c.Select(name, nil)
	st, serr := status.Wait()
	data, err := sel.Wait()
	if err != nil {
		return fmt.Errorf("select folder %q (server name %q): %w", folder, name, err)
	}
	s.folder = name
	s.validity = data.UIDValidity
	s.info.Folder = name
	if s.delim != 0 {
		s.info.Delimiter = string(s.delim)
	}
	s.info.Messages = int(data.NumMessages)
	if serr == nil && st.NumUnseen != nil {
		s.info.Unseen = int(*st.NumUnseen)
	}
	s.created[name] = true
	s.log.Debug("imapbox: selected", "folder", name, "uidvalidity", data.UIDValidity, "messages", data.NumMessages)
	return nil
}

// mapFolder maps a folder as the jobs file writes it ("/" or "."
// separated) to the server's hierarchy delimiter. A name that already
// uses the server's delimiter is kept as it is, so "Archive/2024.01" on a
// "/" server stays one level. INBOX is case-insensitive (RFC 3501 section
// 5.1).
func mapFolder(name string, delim rune) string {
	name = strings.Trim(name, "/")
	if delim != 0 && !strings.ContainsRune(name, delim) {
		other := "/"
		if delim == '/' {
			other = "."
		}
		name = strings.ReplaceAll(name, other, string(delim))
	}
	first, rest := name, ""
	if delim != 0 {
		if i := strings.IndexRune(name, delim); i >= 0 {
			first, rest = name[:i], name[i:]
		}
	}
	if strings.EqualFold(first, "INBOX") {
		return "INBOX" + rest
	}
	return name
}
