package mailconn_test

import (
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox/mailconn"
)

// oldTLSServer serves TLS on 127.0.0.1 speaking versions min to max only,
// like a server too old for TLS 1.2. Go's TLS server speaks 1.0 and 1.1
// when its MinVersion says so (GODEBUG tls10server only changes the
// default), and so does its client.
func oldTLSServer(t *testing.T, min, max uint16) (addr, caFile string) {
	t.Helper()
	now := time.Now()
	ln, caFile := serveTLS(t, []string{"localhost"}, now.Add(-time.Hour), now.Add(time.Hour), &tls.Config{MinVersion: min, MaxVersion: max})
	return ln.Addr().String(), caFile
}

func TestMinTLS(t *testing.T) {
	tests := []struct {
		name     string
		server   uint16 // the newest version the server speaks
		minTLS   string
		want     uint16 // negotiated; 0: refused
		wantFail string
	}{
		{"default refuses TLS 1.1", tls.VersionTLS11, "", 0, "protocol version"},
		{"default refuses TLS 1.0", tls.VersionTLS10, "", 0, "protocol version"},
		{"1.1 reaches a TLS 1.1 server", tls.VersionTLS11, "1.1", tls.VersionTLS11, ""},
		{"1.1 refuses TLS 1.0", tls.VersionTLS10, "1.1", 0, "protocol version"},
		{"1.0 reaches a TLS 1.0 server", tls.VersionTLS10, "1.0", tls.VersionTLS10, ""},
		{"1.0 takes TLS 1.2 when offered", tls.VersionTLS12, "1.0", tls.VersionTLS12, ""},
		{"1.3 refuses TLS 1.2", tls.VersionTLS12, "1.3", 0, "protocol version"},
		{"default takes TLS 1.3", tls.VersionTLS13, "", tls.VersionTLS13, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, ca := oldTLSServer(t, tls.VersionTLS10, tt.server)
			conf, err := mailconn.TLSConfig(job.Server{Host: "localhost", CAFile: ca, MinTLS: tt.minTLS})
			if err != nil {
				t.Fatal(err)
			}
			raw, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			c := tls.Client(raw, conf)
			defer c.Close()
			err = c.Handshake()
			if tt.want == 0 {
				if err == nil {
					t.Fatalf("got TLS %s, want the handshake refused", tls.VersionName(c.ConnectionState().Version))
				}
				if !strings.Contains(err.Error(), tt.wantFail) {
					t.Errorf("got %v, want it to say %q", err, tt.wantFail)
				}
				return
			}
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			if got := c.ConnectionState().Version; got != tt.want {
				t.Errorf("got %s, want %s", tls.VersionName(got), tls.VersionName(tt.want))
			}
		})
	}
}
