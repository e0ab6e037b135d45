package job_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/job"
)

const proxyJobs = `
defaults:
  proxy: http://proxy.example.com:3128
  proxySecret: corp-proxy
  noProxy: [.internal.example.com, 10.0.0.0/8]
jobs:
  - id: default
    server: {protocol: imap, host: mail.example.com, security: tls, auth: {secret: s}}
  - id: own
    server: {protocol: pop3, host: mail.example.com, security: tls, auth: {secret: s}, proxy: "socks5://127.0.0.1:1080"}
  - id: direct
    server: {protocol: imap, host: mail.example.com, security: tls, auth: {secret: s}, proxy: direct}
`

func TestProxyDefaults(t *testing.T) {
	f, err := job.Parse([]byte(proxyJobs))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, id, proxy, secret string
		noProxy                 int
	}{
		{"the default", "default", "http://proxy.example.com:3128", "corp-proxy", 2},
		{"its own", "own", "socks5://127.0.0.1:1080", "", 0},
		{"direct", "direct", "direct", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, _ := f.Job(tt.id)
			if s := j.Server; s.Proxy != tt.proxy || s.ProxySecret != tt.secret || len(s.NoProxy) != tt.noProxy {
				t.Errorf("got proxy %q secret %q noProxy %v, want %q %q and %d entries", s.Proxy, s.ProxySecret, s.NoProxy, tt.proxy, tt.secret, tt.noProxy)
			}
		})
	}
}

func TestProxyErrors(t *testing.T) {
	tests := []struct {
		name, server, want string
	}{
		{"no scheme", `proxy: "proxy.example.com:3128"`, "server.proxy"},
		{"https", `proxy: "https://proxy.example.com:3128"`, "not http (HTTP CONNECT) or socks5"},
		{"password in the URL", `proxy: "http://u:Secret-In-Url@proxy.example.com:3128"`, "name a secret in server.proxySecret"},
		{"no port", `proxy: "http://proxy.example.com"`, "name the proxy's port"},
		{"secret without proxy", `proxySecret: corp`, "server.proxySecret: only with server.proxy"},
		{"bad noProxy", `noProxy: ["http://x"]`, "server.noProxy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := "jobs:\n  - id: j\n    server: {protocol: imap, host: mail.example.com, security: tls, auth: {secret: s}, " + tt.server + "}\n"
			_, err := job.Parse([]byte(doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error with %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "Secret-In-Url") {
				t.Errorf("the error repeats the password: %v", err)
			}
		})
	}
}

// TestTraceSwitchesOff: a trace without until ends 24 hours after the
// jobs file was written; one with until ends then.
func TestTraceSwitchesOff(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobs.yaml")
	doc := `jobs:
  - id: stamped
    server: {protocol: imap, host: mail.example.com, security: tls, auth: {secret: s}}
    debug: {trace: true}
  - id: until
    server: {protocol: imap, host: mail.example.com, security: tls, auth: {secret: s}}
    debug: {trace: true, until: 2026-01-02T03:04:05Z}
`
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	written := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	if err := os.Chtimes(path, written, written); err != nil {
		t.Fatal(err)
	}
	f, err := job.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	stamped, _ := f.Job("stamped")
	if want := written.Add(24 * time.Hour); !stamped.Debug.Until.Equal(want) {
		t.Errorf("got until %v, want %v", stamped.Debug.Until, want)
	}
	if !stamped.Debug.Tracing(written.Add(23*time.Hour)) || stamped.Debug.Tracing(written.Add(25*time.Hour)) {
		t.Errorf("the trace is not on for 24 hours after the file was written")
	}
	until, _ := f.Job("until")
	if want := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC); !until.Debug.Until.Equal(want) {
		t.Errorf("got until %v, want %v", until.Debug.Until, want)
	}
}
