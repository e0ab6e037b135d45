package job

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testPEM returns a self-signed CA certificate and its private key, PEM.
func testPEM(tb testing.TB) (cert, key []byte) {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		tb.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// TestCAFileMustHoldPEMCertificates: caFile is read at load, and anything
// but PEM certificates is refused, naming the field.
func TestCAFileMustHoldPEMCertificates(t *testing.T) {
	cert, key := testPEM(t)
	tests := []struct {
		name    string
		content []byte
		want    string // "" means it loads
	}{
		{"one certificate", cert, ""},
		{"a bundle of two", append(append([]byte("# our CAs\n"), cert...), cert...), ""},
		{"text", []byte("hello, not a certificate\n"), "server.caFile: " + "%s contains no PEM certificate"},
		{"empty", nil, "server.caFile: %s contains no PEM certificate"},
		{"a private key", key, "server.caFile: %s holds a private key"},
		{"a certificate with its key", append(append([]byte{}, cert...), key...), "server.caFile: %s holds a private key"},
		{"a broken certificate", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), "server.caFile: %s: certificate 1 cannot be parsed"},
		{"another PEM block", []byte("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"), "server.caFile: %s holds a X509 CRL block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca := filepath.Join(t.TempDir(), "ca.pem")
			if err := os.WriteFile(ca, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Parse([]byte("jobs:\n  - id: a\n    server: {protocol: imap, host: h, security: tls, caFile: " + ca + ", auth: {secret: s}}\n"))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("got %v, want it to load", err)
				}
				return
			}
			want := strings.Replace(tt.want, "%s", `"`+ca+`"`, 1)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("got %v, want an error containing %q", err, want)
			}
			if strings.Contains(err.Error(), "AAAA") || strings.Contains(err.Error(), "PRIVATE KEY-----") {
				t.Errorf("got %q, want no file content in the error", err)
			}
		})
	}
}
