// Package proxytest starts small proxies on loopback for tests: an HTTP
// CONNECT proxy (RFC 9110 section 9.3.6, Basic Proxy-Authorization,
// section 11.7.2) and a SOCKS5 proxy (RFC 1928, username and password per
// RFC 1929). Each counts the tunnels it opened and to where, and resolves
// names it is given in Options.Hosts itself: a test that names its server
// by such a host (which no resolver knows) can only reach it through the
// proxy, so a connection that bypasses the proxy fails instead of passing
// unseen.
package proxytest

import (
	"bufio"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
)

// Options configure a proxy.
type Options struct {
	// Username and Password, when set, are required of clients.
	Username, Password string
	// Hosts maps host names to the address they stand for (host names
	// only the proxy knows), e.g. "imap.proxied.test" → "127.0.0.1".
	Hosts map[string]string
}

// Server is a running proxy.
type Server struct {
	// URL is http://127.0.0.1:PORT or socks5://127.0.0.1:PORT.
	URL string
	// Addr is 127.0.0.1:PORT.
	Addr string

	o  Options
	ln net.Listener

	mu      sync.Mutex
	targets []string // host:port of every tunnel opened
	refused int      // clients refused for their credentials
	wg      sync.WaitGroup
}

// StartHTTP starts an HTTP CONNECT proxy; it stops when the test ends.
func StartHTTP(tb testing.TB, o Options) *Server { return start(tb, "http", o) }

// StartSOCKS5 starts a SOCKS5 proxy; it stops when the test ends.
func StartSOCKS5(tb testing.TB, o Options) *Server { return start(tb, "socks5", o) }

func start(tb testing.TB, scheme string, o Options) *Server {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("proxytest: listen: %v", err)
	}
	s := &Server{URL: scheme + "://" + ln.Addr().String(), Addr: ln.Addr().String(), o: o, ln: ln}
	serve := s.serveHTTP
	if scheme == "socks5" {
		serve = s.serveSOCKS
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				serve(c)
			}()
		}
	}()
	tb.Cleanup(func() { ln.Close() })
	return s
}

// Tunnels returns the host:port of every tunnel the proxy opened, as the
// client named it, in order.
func (s *Server) Tunnels() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.targets...)
}

// Refused counts clients refused for missing or wrong credentials.
func (s *Server) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

func (s *Server) refuse() {
	s.mu.Lock()
	s.refused++
	s.mu.Unlock()
}

// dial connects to target (host:port), resolving host through Hosts.
func (s *Server) dial(target string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		return nil, err
	}
	if a, ok := s.o.Hosts[host]; ok {
		host = a
	}
	c, err := net.Dial("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.targets = append(s.targets, target)
	s.mu.Unlock()
	return c, nil
}

// pipe copies both ways until either side closes.
func pipe(a, b net.Conn, fromA io.Reader) {
	done := make(chan struct{}, 2)
	go func() { io.Copy(b, fromA); closeWrite(b); done <- struct{}{} }()
	go func() { io.Copy(a, b); closeWrite(a); done <- struct{}{} }()
	<-done
	<-done
	a.Close()
	b.Close()
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
		return
	}
	c.Close()
}

func (s *Server) serveHTTP(c net.Conn) {
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		c.Close()
		return
	}
	if req.Method != http.MethodConnect {
		io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
		c.Close()
		return
	}
	if s.o.Username != "" {
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte(s.o.Username+":"+s.o.Password))
		if req.Header.Get("Proxy-Authorization") != want {
			s.refuse()
			io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"proxytest\"\r\nContent-Length: 0\r\n\r\n")
			c.Close()
			return
		}
	}
	up, err := s.dial(req.Host)
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		c.Close()
		return
	}
	io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	pipe(c, up, br)
}

// serveSOCKS speaks RFC 1928 (CONNECT only) with RFC 1929 when
// credentials are set.
func (s *Server) serveSOCKS(c net.Conn) {
	br := bufio.NewReader(c)
	fail := func() { c.Close() }
	hdr := make([]byte, 2)
	if _, err := io.ReadFull(br, hdr); err != nil || hdr[0] != 5 {
		fail()
		return
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(br, methods); err != nil {
		fail()
		return
	}
	want := byte(0x00)
	if s.o.Username != "" {
		want = 0x02
	}
	offered := false
	for _, m := range methods {
		offered = offered || m == want
	}
	if !offered {
		s.refuse()
		c.Write([]byte{5, 0xff})
		fail()
		return
	}
	c.Write([]byte{5, want})
	if want == 0x02 {
		user, pass, err := readUserPass(br)
		if err != nil {
			fail()
			return
		}
		if user != s.o.Username || pass != s.o.Password {
			s.refuse()
			c.Write([]byte{1, 1})
			fail()
			return
		}
		c.Write([]byte{1, 0})
	}
	req := make([]byte, 4)
	if _, err := io.ReadFull(br, req); err != nil || req[0] != 5 || req[1] != 1 {
		c.Write([]byte{5, 7, 0, 1, 0, 0, 0, 0, 0, 0})
		fail()
		return
	}
	var host string
	switch req[3] {
	case 1:
		b := make([]byte, 4)
		if _, err := io.ReadFull(br, b); err != nil {
			fail()
			return
		}
		host = net.IP(b).String()
	case 4:
		b := make([]byte, 16)
		if _, err := io.ReadFull(br, b); err != nil {
			fail()
			return
		}
		host = net.IP(b).String()
	case 3:
		n, err := br.ReadByte()
		if err != nil {
			fail()
			return
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			fail()
			return
		}
		host = string(b)
	default:
		c.Write([]byte{5, 8, 0, 1, 0, 0, 0, 0, 0, 0})
		fail()
		return
	}
	pb := make([]byte, 2)
	if _, err := io.ReadFull(br, pb); err != nil {
		fail()
		return
	}
	up, err := s.dial(net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(pb)))))
	if err != nil {
		c.Write([]byte{5, 4, 0, 1, 0, 0, 0, 0, 0, 0}) // host unreachable
		fail()
		return
	}
	la := up.LocalAddr().(*net.TCPAddr)
	reply := []byte{5, 0, 0, 1}
	reply = append(reply, la.IP.To4()...)
	reply = binary.BigEndian.AppendUint16(reply, uint16(la.Port))
	c.Write(reply)
	pipe(c, up, br)
}

func readUserPass(br *bufio.Reader) (user, pass string, err error) {
	v, err := br.ReadByte()
	if err != nil || v != 1 {
		return "", "", errors.New("bad version")
	}
	read := func() (string, error) {
		n, err := br.ReadByte()
		if err != nil {
			return "", err
		}
		b := make([]byte, n)
		_, err = io.ReadFull(br, b)
		return string(b), err
	}
	if user, err = read(); err != nil {
		return "", "", err
	}
	pass, err = read()
	return user, pass, err
}
