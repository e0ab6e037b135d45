package mailconn

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"mailconnector/shared/job"
)

// NoGreetingHint is what a read timeout before any greeting most often
// means: the port speaks TLS at once and waits for the client's hello.
const NoGreetingHint = "no greeting: is this an implicit TLS port? use security tls"

// GreetingError wraps a failure to read the greeting of proto ("IMAP",
// "POP3"). A timeout on a connection that is not implicit TLS gets
// NoGreetingHint.
func GreetingError(proto string, err error, security job.Security) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() && security != job.SecurityTLS {
		return fmt.Errorf("read the %s greeting: %w (%s)", proto, err, NoGreetingHint)
	}
	return fmt.Errorf("read the %s greeting: %w", proto, err)
}

// CheckGreeting compares the server's first line with the protocol the
// job speaks. It returns an error naming the protocol the server greeted
// in when that is another one (an IMAP client on a POP3 port, a POP3
// client on an IMAP port, either on an SMTP port), and nil otherwise; a
// line of no known protocol is left to the adapter's own parser.
func CheckGreeting(want job.Protocol, line string) error {
	found := greetingProtocol(line)
	if found == "" || found == string(want) {
		return nil
	}
	return fmt.Errorf("the server greeted with %q: this is %s port, not %s one (check server.port and server.protocol)",
		shorten(line), article(found), article(string(want)))
}

// greetingProtocol tells the protocol a greeting belongs to: "imap" for
// an untagged response (RFC 9051 section 7.1), "pop3" for a status
// indicator (RFC 1939 section 3), "smtp" for a reply code (RFC 5321
// section 4.2), "" otherwise.
func greetingProtocol(line string) string {
	u := strings.ToUpper(line)
	switch {
	case strings.HasPrefix(u, "* OK"), strings.HasPrefix(u, "* PREAUTH"), strings.HasPrefix(u, "* BYE"):
		return "imap"
	case strings.HasPrefix(u, "+OK"), strings.HasPrefix(u, "-ERR"):
		return "pop3"
	case len(u) >= 4 && strings.Trim(u[:3], "0123456789") == "" && (u[3] == ' ' || u[3] == '-'):
		return "smtp"
	}
	return ""
}

func article(proto string) string {
	switch proto {
	case "imap":
		return "an IMAP"
	case "smtp":
		return "an SMTP"
	}
	return "a " + strings.ToUpper(proto)
}

// shorten trims the line ending and keeps at most 80 bytes.
func shorten(line string) string {
	line = strings.TrimRight(line, "\r\n")
	if len(line) > 80 {
		line = line[:80] + "…"
	}
	return line
}
