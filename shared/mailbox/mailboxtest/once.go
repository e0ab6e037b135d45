package mailboxtest

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
)

// OpenOne delivers one message to a fresh box of h, opens a session in
// security mode sec, and checks what every mode must give: Info names the
// security negotiated ("none" for the starttls-if-available fallback,
// with a note, and only then), and the message scans and fetches whole.
// It returns Info for the caller's own checks.
func OpenOne(t *testing.T, h Harness, sec job.Security) mailbox.Info {
	t.Helper()
	b := h.New(t)
	raw := Message(b.Credentials().Username+"@combo", 300)
	b.Deliver(t, "", raw)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := h.Open(ctx, b.Server(), b.Credentials())
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer s.Close()
	info := s.Info()
	want := map[job.Security]string{job.SecurityNone: "none", job.SecuritySTARTTLSIfAvailable: "none", job.SecuritySTARTTLS: "starttls", job.SecurityTLS: "tls"}[sec]
	if info.Security != want {
		t.Errorf("got security %q, want %q", info.Security, want)
	}
	if gotNote := len(info.Notes) > 0; gotNote != (sec == job.SecuritySTARTTLSIfAvailable) {
		t.Errorf("got notes %q, want a note only for the starttls-if-available fallback", info.Notes)
	}
	sc, err := s.Scan(ctx, "")
	if err != nil || len(sc.Items) != 1 {
		t.Fatalf("scan: got %v %v, want 1 item", sc, err)
	}
	var got []byte
	if err := s.Fetch(ctx, sc.Items, func(_ mailbox.Item, r io.Reader) error {
		got, err = io.ReadAll(r)
		return err
	}); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	if !bytes.Equal(got, raw) {
		t.Errorf("fetch: got %d bytes, want the %d delivered", len(got), len(raw))
	}
	return info
}
