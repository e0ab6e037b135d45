// Package demo runs the connector's demo mailbox: an in-process IMAP server
// (go-imap's imapmemserver) on a free loopback port, seeded with realistic
// support mail, and the job that reads it. It needs no network and no AWS.
package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"strconv"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"mailconnector/shared/job"
	"mailconnector/shared/mailgen"
	"mailconnector/shared/secrets"
)

// The demo mailbox's account. The password is not a secret: the server
// lives only as long as the process and listens on loopback.
const (
	User     = "support@demo.example"
	password = "demo-password"
	// SecretRef is the secret reference the demo job uses.
	SecretRef = "demo"
	// JobID is the demo job's id.
	JobID = "demo"
)

// Server is a running demo mailbox.
type Server struct {
	Addr *net.TCPAddr
	srv  *imapserver.Server
	ln   net.Listener
	wg   sync.WaitGroup
}

// Start starts the demo IMAP server on 127.0.0.1 and a free port, seeded
// with mailgen.Demo's messages in INBOX.
func Start() (*Server, error) {
	mem := imapmemserver.New()
	u := imapmemserver.NewUser(User, password)
	if err := u.Create("INBOX", nil); err != nil {
		return nil, fmt.Errorf("demo: create INBOX: %w", err)
	}
	for _, m := range mailgen.Demo("demo.example") {
		if _, err := u.Append("INBOX", literal{bytes.NewReader(m.Raw)}, &imap.AppendOptions{}); err != nil {
			return nil, fmt.Errorf("demo: seed %q: %w", m.Subject, err)
		}
	}
	mem.AddUser(u)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}, imap.CapMove: {}},
		InsecureAuth: true, // loopback only
		Logger:       log.New(discard{}, "", 0),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: listen: %w", err)
	}
	s := &Server{Addr: ln.Addr().(*net.TCPAddr), srv: srv, ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, net.ErrClosed) {
			log.Printf("demo: serve: %v", err)
		}
	}()
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error {
	err := s.srv.Close()
	s.wg.Wait()
	return err
}

// Jobs is the demo jobs file: one job reading the demo mailbox.
func (s *Server) Jobs() *job.File {
	f := &job.File{Jobs: []job.Job{{
		ID:   JobID,
		Name: "Demo support mailbox",
		Server: job.Server{
			Protocol: job.IMAP, Host: "127.0.0.1", Port: s.Addr.Port,
			Security: job.SecurityNone, Folder: "INBOX",
			Auth: job.Auth{Method: job.AuthPassword, Secret: SecretRef},
		},
		Incoming: job.Incoming{OnSuccess: job.MarkRead},
	}}}
	if err := f.Validate(); err != nil {
		panic("demo: the demo job is invalid: " + err.Error())
	}
	return f
}

// Secrets resolves the demo job's secret, and delegates every other
// reference to next.
type Secrets struct{ Next secrets.Resolver }

// Resolve returns the demo account for SecretRef.
func (d Secrets) Resolve(ctx context.Context, ref string) (secrets.Credentials, error) {
	if ref == SecretRef {
		return secrets.Credentials{Username: User, Password: password}, nil
	}
	if d.Next == nil {
		return secrets.Credentials{}, fmt.Errorf("secret %q: %w", ref, secrets.ErrNotFound)
	}
	return d.Next.Resolve(ctx, ref)
}

// Port returns the server's port as a string.
func (s *Server) Port() string { return strconv.Itoa(s.Addr.Port) }

type literal struct{ *bytes.Reader }

func (l literal) Size() int64 { return l.Reader.Size() }

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
