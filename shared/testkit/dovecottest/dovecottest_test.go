package dovecottest_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/testkit/dovecottest"
)

// dialIMAP connects and returns the greeting line.
func dialIMAP(tb testing.TB, addr string, tlsConf *tls.Config) (net.Conn, *bufio.Reader, string) {
	tb.Helper()
	var c net.Conn
	var err error
	if tlsConf != nil {
		c, err = tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, tlsConf)
	} else {
		c, err = net.DialTimeout("tcp", addr, 5*time.Second)
	}
	if err != nil {
		tb.Fatalf("dial %s: %v", addr, err)
	}
	tb.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		tb.Fatalf("read greeting from %s: %v", addr, err)
	}
	return c, r, line
}

// command sends one tagged command and returns every line up to the tagged
// response.
func command(tb testing.TB, c net.Conn, r *bufio.Reader, cmd string) string {
	tb.Helper()
	fmt.Fprintf(c, "t1 %s\r\n", cmd)
	var out strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			tb.Fatalf("%s: %v (got %q)", cmd, err, out.String())
		}
		out.WriteString(line)
		if strings.HasPrefix(line, "t1 ") {
			return out.String()
		}
	}
}

func TestServer(t *testing.T) {
	s := dovecottest.Start(t, &dovecottest.Options{TLS: true})
	if err := s.AddUser("alice", "pw-alice"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		raw := fmt.Sprintf("Message-ID: <m%d@test>\r\nSubject: %d\r\n\r\nbody\r\n", i, i)
		if err := s.Deliver("alice", "INBOX/Support", []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("plain port offers STARTTLS and logs in", func(t *testing.T) {
		c, r, greet := dialIMAP(t, s.Addr(dovecottest.IMAP), nil)
		if !strings.Contains(greet, "STARTTLS") {
			t.Errorf("got greeting %q, want STARTTLS in it", greet)
		}
		if got := command(t, c, r, "LOGIN alice pw-alice"); !strings.Contains(got, "t1 OK") {
			t.Fatalf("got %q, want t1 OK", got)
		}
		got := command(t, c, r, `SELECT "INBOX.Support"`)
		if !strings.Contains(got, "* 3 EXISTS") {
			t.Errorf("got %q, want 3 EXISTS", got)
		}
	})

	t.Run("imaps verifies against CAFile", func(t *testing.T) {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(s.CAPEM()) {
			t.Fatal("CA PEM does not parse")
		}
		_, _, greet := dialIMAP(t, s.Addr(dovecottest.IMAPS), &tls.Config{RootCAs: pool, ServerName: "localhost"})
		if !strings.HasPrefix(greet, "* OK") {
			t.Errorf("got greeting %q, want * OK", greet)
		}
	})

	t.Run("pop3 and pop3s listen", func(t *testing.T) {
		_, _, greet := dialIMAP(t, s.Addr(dovecottest.POP3), nil)
		if !strings.HasPrefix(greet, "+OK") {
			t.Errorf("got greeting %q, want +OK", greet)
		}
		_, _, greet = dialIMAP(t, s.Addr(dovecottest.POP3S), &tls.Config{InsecureSkipVerify: true})
		if !strings.HasPrefix(greet, "+OK") {
			t.Errorf("got greeting %q, want +OK", greet)
		}
	})

	t.Run("messages and uidvalidity", func(t *testing.T) {
		msgs, err := s.Messages("alice")
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 3 {
			t.Fatalf("got %d messages, want 3: %+v", len(msgs), msgs)
		}
		for i, m := range msgs {
			want := fmt.Sprintf("<m%d@test>", i+1)
			if m.Folder != "INBOX.Support" || m.UID != uint32(i+1) || m.MessageID != want || m.Seen {
				t.Errorf("got %+v, want INBOX.Support uid %d %s unseen", m, i+1, want)
			}
		}
		if err := s.SetUIDValidity("alice", "INBOX/Support", 4242); err != nil {
			t.Fatal(err)
		}
		v, err := s.UIDValidity("alice", "INBOX.Support")
		if err != nil {
			t.Fatal(err)
		}
		if v != 4242 {
			t.Errorf("got uidvalidity %d, want 4242", v)
		}
	})
}

func TestNoTLS(t *testing.T) {
	s := dovecottest.Start(t, nil)
	if s.Addr(dovecottest.IMAPS) != "" || s.CAFile() != "" {
		t.Errorf("got imaps %q caFile %q, want none without TLS", s.Addr(dovecottest.IMAPS), s.CAFile())
	}
	_, _, greet := dialIMAP(t, s.Addr(dovecottest.IMAP), nil)
	if strings.Contains(greet, "STARTTLS") {
		t.Errorf("got greeting %q, want no STARTTLS", greet)
	}
	if err := s.AddUser("bob", "pw"); err != nil {
		t.Fatal(err)
	}
	// A user added after start can log in.
	c, r, _ := dialIMAP(t, s.Addr(dovecottest.IMAP), nil)
	if got := command(t, c, r, "LOGIN bob pw"); !strings.Contains(got, "t1 OK") {
		t.Errorf("got %q, want t1 OK", got)
	}
}

func TestDeliverIsFast(t *testing.T) {
	s := dovecottest.Start(t, nil)
	if err := s.AddUser("carol", "pw"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	const n = 10000
	raws := make([][]byte, n)
	for i := range raws {
		raws[i] = []byte(fmt.Sprintf("Message-ID: <%d@x>\r\n\r\nb\r\n", i))
	}
	if err := s.DeliverMany("carol", "INBOX", raws); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if took > 5*time.Second {
		t.Errorf("got %v to deliver %d messages, want under 5s", took, n)
	}
	msgs, err := s.Messages("carol")
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != n {
		t.Fatalf("got %d messages, want %d", len(msgs), n)
	}
	for i, m := range msgs {
		if want := fmt.Sprintf("<%d@x>", i); m.MessageID != want {
			t.Fatalf("uid %d: got %s, want %s (delivery order)", m.UID, m.MessageID, want)
		}
	}
	t.Logf("delivered %d messages in %v", n, took)
}
