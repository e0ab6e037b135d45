package mailconn_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/mailconn"
	"mailconnector/shared/testkit/dovecottest"
)

// tlsServer serves TLS on 127.0.0.1 with a certificate for names, valid
// from notBefore to notAfter, signed by a new CA whose PEM file it returns.
func tlsServer(t *testing.T, names []string, notBefore, notAfter time.Time) (port int, caFile string) {
	t.Helper()
	ln, caFile := serveTLS(t, names, notBefore, notAfter, &tls.Config{})
	return ln.Addr().(*net.TCPAddr).Port, caFile
}

// serveTLS listens on 127.0.0.1 with cfg and a certificate for names,
// valid from notBefore to notAfter, signed by a new CA whose PEM file it
// returns; each connection that completes the handshake is greeted as an
// IMAP server greets, then closed.
func serveTLS(t *testing.T, names []string, notBefore, notAfter time.Time, cfg *tls.Config) (net.Listener, string) {
	t.Helper()
	certs, err := dovecottest.MakeCerts(names, nil, notBefore, notAfter)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, certs.CA, 0o600); err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certs.Cert, certs.Key)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Certificates = []tls.Certificate{pair}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, ln, func(c net.Conn) {
		if c.(*tls.Conn).Handshake() == nil {
			c.Write([]byte("* OK ready\r\n"))
		}
		c.Close()
	})
	return ln, caFile
}

func TestCertificateFailuresSayWhy(t *testing.T) {
	now := time.Now()
	valid, validCA := tlsServer(t, []string{"mail.example.test"}, now.Add(-time.Hour), now.Add(time.Hour))
	expired, expiredCA := tlsServer(t, []string{"mail.example.test"}, now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	no := false
	tests := []struct {
		name   string
		port   int
		srv    job.Server
		step   mailbox.Step
		saying string
	}{
		{"trusted", valid, job.Server{Host: "mail.example.test", CAFile: validCA}, "", ""},
		{"unknown authority", valid, job.Server{Host: "mail.example.test"}, mailbox.StepCertificate, "unknown authority"},
		{"wrong host", valid, job.Server{Host: "other.example.test", CAFile: validCA}, mailbox.StepCertificate, "not valid for host other.example.test"},
		{"expired", expired, job.Server{Host: "mail.example.test", CAFile: expiredCA}, mailbox.StepCertificate, "expired"},
		{"expired but verification off", expired, job.Server{Host: "mail.example.test", RejectInvalidCertificates: &no}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf, err := mailconn.TLSConfig(tt.srv)
			if err != nil {
				t.Fatal(err)
			}
			if conf.MinVersion != tls.VersionTLS12 {
				t.Errorf("got minimum version %x, want TLS 1.2", conf.MinVersion)
			}
			raw, err := mailconn.Dial(context.Background(), nil, "127.0.0.1", tt.port, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			err = tls.Client(raw, conf).HandshakeContext(context.Background())
			if tt.step == "" {
				if err != nil {
					t.Fatalf("handshake: got %v, want success", err)
				}
				return
			}
			step, described := mailconn.TLSFailure(err)
			if step != tt.step || !strings.Contains(described.Error(), tt.saying) {
				t.Errorf("got %s %v, want %s saying %q", step, described, tt.step, tt.saying)
			}
		})
	}
}

func TestDialNamesTheStep(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	tests := []struct {
		name string
		host string
		port int
		want mailbox.Step
	}{
		{"dns", "no-such-host.invalid", 110, mailbox.StepDNS},
		{"tcp", "127.0.0.1", port, mailbox.StepTCP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mailconn.Dial(context.Background(), nil, tt.host, tt.port, 2*time.Second)
			var ce *mailbox.ConnectError
			if !errors.As(err, &ce) || ce.Step != tt.want {
				t.Errorf("got %v, want step %s", err, tt.want)
			}
		})
	}
	if _, err := mailconn.TLSConfig(job.Server{CAFile: "/no/such/file.pem"}); err == nil {
		t.Errorf("a missing caFile: got nil error, want one")
	}
}
