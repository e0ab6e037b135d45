package mailboxtest

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// FaultProxy is a TCP proxy on 127.0.0.1 that forwards to a target and can
// cut its connections after a number of bytes, to test a connection
// dropped in the middle of a command.
type FaultProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	conns []*proxyConn
	cut   int64 // for new connections: bytes before cutting (0: never)
	wg    sync.WaitGroup
}

type proxyConn struct {
	client, server net.Conn
	budget         atomic.Int64 // bytes server→client left; <0: unlimited
	once           sync.Once
}

func (p *proxyConn) close() {
	p.once.Do(func() {
		p.client.Close()
		p.server.Close()
	})
}

// NewFaultProxy starts a proxy to target (host:port) and stops it in
// tb.Cleanup.
func NewFaultProxy(tb testing.TB, target string) *FaultProxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("fault proxy: listen: %v", err)
	}
	p := &FaultProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	tb.Cleanup(p.Close)
	return p
}

// Addr is the proxy's host:port.
func (p *FaultProxy) Addr() *net.TCPAddr { return p.ln.Addr().(*net.TCPAddr) }

// CutAfter makes every open connection, and every later one, close both
// ways once n more bytes went from the server to the client. n <= 0 never
// cuts.
func (p *FaultProxy) CutAfter(n int64) {
	if n <= 0 {
		n = -1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = n
	for _, c := range p.conns {
		c.budget.Store(n)
	}
}

// Close stops the proxy and closes its connections.
func (p *FaultProxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *FaultProxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		pc := &proxyConn{client: client, server: server}
		p.mu.Lock()
		cut := p.cut
		if cut == 0 {
			cut = -1
		}
		pc.budget.Store(cut)
		p.conns = append(p.conns, pc)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			io.Copy(server, client)
			pc.close()
		}()
		go func() {
			defer p.wg.Done()
			buf := make([]byte, 16<<10)
			for {
				n, err := server.Read(buf)
				if n > 0 {
					chunk := buf[:n]
					if b := pc.budget.Load(); b >= 0 {
						if int64(n) > b {
							chunk = buf[:b]
						}
						pc.budget.Add(-int64(len(chunk)))
					}
					if len(chunk) > 0 {
						if _, werr := client.Write(chunk); werr != nil {
							break
						}
					}
					if b := pc.budget.Load(); b == 0 {
						break
					}
				}
				if err != nil {
					break
				}
			}
			pc.close()
		}()
	}
}
