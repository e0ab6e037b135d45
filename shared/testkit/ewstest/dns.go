package ewstest

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// DNS is a small DNS server on a loopback UDP port for Autodiscover
// tests: it answers A and SRV questions from its records (RFC 1035, RFC
// 2782), NXDOMAIN for names it does not know and an empty answer for
// other types. Resolver points Go's resolver at it.
type DNS struct {
	conn net.PacketConn

	mu   sync.Mutex
	a    map[string][]net.IP
	srv  map[string][]dnsmessage.SRVResource
	asks []string // "TYPE name", in order
}

// StartDNS starts a DNS server; it stops with the test.
func StartDNS(t testing.TB) *DNS {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &DNS{conn: conn, a: map[string][]net.IP{}, srv: map[string][]dnsmessage.SRVResource{}}
	t.Cleanup(func() { conn.Close() })
	go d.serve()
	return d
}

func canonical(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) + "." }

// AddA makes name resolve to ip.
func (d *DNS) AddA(name string, ip net.IP) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.a[canonical(name)] = append(d.a[canonical(name)], ip.To4())
}

// AddSRV adds an SRV record name (e.g. _autodiscover._tcp.example.com)
// pointing at target:port.
func (d *DNS) AddSRV(name, target string, port uint16) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := dnsmessage.MustNewName(canonical(target))
	d.srv[canonical(name)] = append(d.srv[canonical(name)], dnsmessage.SRVResource{Priority: 0, Weight: 1, Port: port, Target: t})
}

// Asked lists the questions answered so far, as "A name" or "SRV name".
func (d *DNS) Asked() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.asks...)
}

// Resolver is a Go resolver that asks only this server.
func (d *DNS) Resolver() *net.Resolver {
	addr := d.conn.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dialer net.Dialer
		return dialer.DialContext(ctx, "udp", addr)
	}}
}

func (d *DNS) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := d.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if out := d.answer(buf[:n]); out != nil {
			d.conn.WriteTo(out, from)
		}
	}
}

func (d *DNS) answer(query []byte) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	name := strings.ToLower(q.Name.String())
	d.mu.Lock()
	defer d.mu.Unlock()
	d.asks = append(d.asks, strings.TrimPrefix(q.Type.String(), "Type")+" "+strings.TrimSuffix(name, "."))
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true}
	_, knownA := d.a[name]
	_, knownSRV := d.srv[name]
	if !knownA && !knownSRV {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	_ = b.StartQuestions()
	_ = b.Question(q)
	_ = b.StartAnswers()
	hdr := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
	switch q.Type {
	case dnsmessage.TypeA:
		for _, ip := range d.a[name] {
			var a dnsmessage.AResource
			copy(a.A[:], ip)
			_ = b.AResource(hdr, a)
		}
	case dnsmessage.TypeSRV:
		for _, s := range d.srv[name] {
			_ = b.SRVResource(hdr, s)
		}
	}
	out, err := b.Finish()
	if err != nil {
		return nil
	}
	return out
}
