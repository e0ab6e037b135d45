package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mailconnector/shared/job"
)

// privateCAJobs writes a CA certificate (with mode) and a jobs file of one
// job that names it, and returns the CA file, the loaded jobs file, and
// jobs.json with the CA files as lambdaJobsFile makes them.
func privateCAJobs(tb testing.TB, mode os.FileMode) (ca string, f *job.File, js []byte, cas map[string]string) {
	tb.Helper()
	dir := tb.TempDir()
	ca = filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, testCAPEM(tb), mode); err != nil {
		tb.Fatal(err)
	}
	jobs := filepath.Join(dir, "jobs.yaml")
	if err := os.WriteFile(jobs, []byte("jobs:\n  - id: private-ca\n    server: {protocol: imap, host: imap.internal, security: tls, caFile: "+ca+", auth: {secret: mail/ca}}\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	f, err := job.LoadFile(jobs)
	if err != nil {
		tb.Fatal(err)
	}
	js, cas, err = lambdaJobsFile(f)
	if err != nil {
		tb.Fatal(err)
	}
	return ca, f, js, cas
}

// firstCAFile is the caFile of the first job in jobs.json.
func firstCAFile(tb testing.TB, jobsJSON []byte) string {
	tb.Helper()
	var doc struct {
		Jobs []struct {
			Server struct {
				CAFile string `json:"caFile"`
			} `json:"server"`
		} `json:"jobs"`
	}
	if err := json.Unmarshal(jobsJSON, &doc); err != nil {
		tb.Fatal(err)
	}
	return doc.Jobs[0].Server.CAFile
}

// testCAPEM is a self-signed CA certificate, PEM.
func testCAPEM(tb testing.TB) []byte {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Private CA"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// TestCAFileOnlyForTheFunctionsThatUseIt: a job's caFile is packaged
// (mode 0644) with fetch, the one function that connects to IMAP and POP3
// servers, and with no other; the others' jobs.json has no caFile and
// still loads.
func TestCAFileOnlyForTheFunctionsThatUseIt(t *testing.T) {
	_, f, js, cas := privateCAJobs(t, 0o600)
	cfg := Config{StagingDir: t.TempDir(), BuildDir: fakeBuild(t, t.TempDir())}
	tests := []struct {
		name   string
		fn     string
		wantCA string // caFile in jobs.json; "" means no CA file staged
	}{
		{"fetch", fnFetch, "/var/task/ca/private-ca.pem"},
		{"preprocess", fnPreprocess, ""},
		{"rules", fnRules, ""},
		{"deadletter", fnDeadletter, ""},
		{"webhook", fnWebhook, ""},
		{"renew", fnRenew, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			staged, _, err := stageFunction(cfg, tt.fn, js, cas)
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(staged, jobsAssetName))
			if err != nil {
				t.Fatal(err)
			}
			if ca := firstCAFile(t, b); ca != tt.wantCA {
				t.Errorf("caFile in jobs.json: got %q, want %q", ca, tt.wantCA)
			}
			if tt.wantCA == "" {
				// Without a CA file, the function loads its jobs.json as is.
				got, err := job.Parse(b)
				if err != nil {
					t.Fatalf("jobs.json of %s does not load: %v", tt.fn, err)
				}
				if d := cmp.Diff(f.Jobs[0].Server.Host, got.Jobs[0].Server.Host); d != "" {
					t.Errorf("jobs.json of %s differs: %s", tt.fn, d)
				}
			}
			st, err := os.Stat(filepath.Join(staged, "ca", "private-ca.pem"))
			switch {
			case tt.wantCA == "" && !errors.Is(err, fs.ErrNotExist):
				t.Errorf("CA file staged for %s: got %v, want none", tt.fn, err)
			case tt.wantCA != "" && err != nil:
				t.Errorf("CA file for %s: got %v, want it staged", tt.fn, err)
			case tt.wantCA != "" && st.Mode().Perm() != 0o644:
				t.Errorf("CA file mode: got %v, want 0644", st.Mode().Perm())
			}
		})
	}
}
