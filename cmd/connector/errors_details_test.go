package main

import (
	"archive/zip"
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestErrorFolderSealedExportedAndMovedBack: a mail the allow-list
// rejects goes to the error folder; the state directory then holds no
// readable copy of it (its body's canary is in no file), the key was made
// in secrets.yaml (0600), export writes it back decrypted, byte for byte,
// and after the allow-list is widened, errors move-back and one run make
// its request.
func TestErrorFolderSealedExportedAndMovedBack(t *testing.T) {
	dir := t.TempDir()
	const canary = "CANARY-error-mail-body-5d1e"
	raw := "Message-ID: <who@stranger.example>\r\nFrom: b@stranger.example\r\nTo: support@desk.example\r\nSubject: locked out\r\n\r\nhello " + canary + "\r\n"
	u := userWith(t, []byte(raw))
	jobs := writeJobs(t, plain, u, "    processing: {allowNewRequestsFrom: ['*@allowed.example']}\n")
	if _, errOut, err := cli(t, "run", "--once", "--jobs", jobs, "--state", dir); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut)
	} else if n := strings.Count(errOut, "kind=errorFolder"); n != 1 {
		t.Errorf("run: got %d error-folder notices in the log, want 1\n%s", n, errOut)
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(canary)) {
			t.Errorf("%s holds a readable copy of the error mail", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "secrets.yaml")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("secrets.yaml with the key: got %v (err %v), want mode 0600", fi, err)
	}

	zipPath := filepath.Join(t.TempDir(), "errors.zip")
	out, errOut, err := cli(t, "errors", "export", "support", "--jobs", jobs, "--state", dir, "--out", zipPath)
	if err != nil || !strings.Contains(out, "1 mails") {
		t.Fatalf("errors export: got %q, %v\n%s", out, err, errOut)
	}
	parts := readZip(t, zipPath)
	var eml, reason, headers string
	for name, body := range parts {
		switch filepath.Base(name) {
		case "message.eml":
			eml = body
		case "reason.txt":
			reason = body
		case "headers.txt":
			headers = body
		}
	}
	if eml != raw {
		t.Errorf("exported message.eml: got %q, want the delivered bytes", eml)
	}
	if !strings.Contains(reason, "rejected") || !strings.Contains(reason, "who@stranger.example") {
		t.Errorf("exported reason.txt: got %q, want the outcome and the Message-ID", reason)
	}
	if !strings.Contains(headers, "Subject: locked out") || strings.Contains(headers, canary) {
		t.Errorf("exported headers.txt: got %q, want the header only", headers)
	}

	widened := writeJobs(t, plain, u, "    processing: {allowNewRequestsFrom: ['*@allowed.example', '*@stranger.example']}\n")
	out, errOut, err = cli(t, "errors", "move-back", "support", "--jobs", widened, "--state", dir)
	if err != nil || !strings.Contains(out, "1 mails moved back") {
		t.Fatalf("errors move-back: got %q, %v\n%s", out, err, errOut)
	}
	if _, errOut, err := cli(t, "run", "--once", "--jobs", widened, "--state", dir); err != nil {
		t.Fatalf("run after the move back: %v\n%s", err, errOut)
	}
	out, errOut, err = cli(t, "requests", "--state", dir)
	if err != nil || !strings.Contains(out, "locked out") {
		t.Errorf("requests after the move back: got %q, %v\n%s; want the request of the mail moved back", out, err, errOut)
	}
}

func readZip(t *testing.T, path string) map[string]string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = string(b)
	}
	return out
}
