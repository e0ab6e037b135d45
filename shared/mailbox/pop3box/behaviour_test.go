package pop3box_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/mailboxtest"
	"mailconnector/shared/mailbox/pop3box"
	"mailconnector/shared/secrets"
)

// open opens a box on the server without TLS with USER/PASS.
func open(t *testing.T, user, password string, mod func(*job.Server)) *pop3box.Session {
	t.Helper()
	srv := job.Server{Protocol: job.POP3, Host: "127.0.0.1", Port: withoutTLS.Port("pop3"), Security: job.SecurityNone,
		Auth: job.Auth{Method: job.AuthPassword}, Timeout: job.Duration(5 * time.Second)}
	if mod != nil {
		mod(&srv)
	}
	s, err := pop3box.Open(context.Background(), pop3box.Config{Server: srv, Credentials: secrets.Credentials{Username: user, Password: password}})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestDispositionsPOP3CannotDo(t *testing.T) {
	user, pw := newUser(t, withoutTLS)
	withoutTLS.Deliver(user, "", mailboxtest.Message(user+"-1@x", 100))
	s := open(t, user, pw, nil)
	ctx := context.Background()
	sc, err := s.Scan(ctx, "")
	if err != nil || len(sc.Items) != 1 {
		t.Fatalf("scan: got %v %v, want 1 item", sc, err)
	}
	src := sc.Items[0].Source
	tests := []struct {
		name string
		d    mailbox.Disposition
		want error
	}{
		{"mark read", mailbox.Disposition{Source: src, Action: mailbox.MarkRead}, mailbox.ErrNotPossible},
		{"move", mailbox.Disposition{Source: src, Action: mailbox.Move, Folder: "Done"}, mailbox.ErrNotPossible},
		{"an IMAP source", mailbox.Disposition{Source: ledger.Source{Protocol: "imap", Folder: "INBOX", Validity: 1, UID: 1}, Action: mailbox.Delete}, mailbox.ErrStaleSource},
		{"an unknown UIDL", mailbox.Disposition{Source: ledger.Source{Protocol: "pop3", Folder: "INBOX", ID: "no-such-uidl"}, Action: mailbox.Delete}, mailbox.ErrGone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if errs := s.Dispose(ctx, []mailbox.Disposition{tt.d}); !errors.Is(errs[0], tt.want) {
				t.Errorf("got %v, want %v", errs[0], tt.want)
			}
		})
	}
	// An unknown UIDL fetches as a nil body; a known one after it still
	// comes in message order first.
	var order []string
	err = s.Fetch(ctx, []mailbox.Item{{Source: ledger.Source{Protocol: "pop3", Folder: "INBOX", ID: "no-such-uidl"}}, sc.Items[0]}, func(it mailbox.Item, r io.Reader) error {
		order = append(order, it.Source.ID)
		if (r == nil) != (it.Source.ID == "no-such-uidl") {
			t.Errorf("%s: got body %v, want a body only for the listed message", it.Source.ID, r != nil)
		}
		return nil
	})
	if err != nil || len(order) != 2 || order[0] != src.ID {
		t.Errorf("got order %v err %v, want the listed message first", order, err)
	}
}

func TestPreviewUsesTOP(t *testing.T) {
	user, pw := newUser(t, withoutTLS)
	raw := mailboxtest.Message(user+"-top@x", 5000)
	withoutTLS.Deliver(user, "", raw)
	s := open(t, user, pw, nil)
	ctx := context.Background()
	sc, err := s.Scan(ctx, "")
	if err != nil || len(sc.Items) != 1 {
		t.Fatalf("scan: got %v %v", sc, err)
	}
	var got []byte
	if err := s.Preview(ctx, sc.Items[0], 2, func(r io.Reader) error {
		got, err = io.ReadAll(r)
		return err
	}); err != nil {
		t.Fatalf("preview: %v", err)
	}
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !bytes.HasPrefix(got, head) || bytes.Count(got[len(head)+4:], []byte("\r\n")) != 2 {
		t.Errorf("got %q, want the header and 2 body lines", got)
	}
	// The session goes on: the whole message still fetches.
	var full []byte
	if err := s.Fetch(ctx, sc.Items, func(_ mailbox.Item, r io.Reader) error { full, err = io.ReadAll(r); return err }); err != nil || !bytes.Equal(full, raw) {
		t.Errorf("fetch after preview: got %d bytes %v, want %d", len(full), err, len(raw))
	}
}

func TestCursorOfADeletedMessageListsEverything(t *testing.T) {
	user, pw := newUser(t, withoutTLS)
	for i := 0; i < 3; i++ {
		withoutTLS.Deliver(user, "", mailboxtest.Message(user+"-"+string(rune('a'+i))+"@x", 100))
	}
	ctx := context.Background()
	s := open(t, user, pw, nil)
	sc, _ := s.Scan(ctx, "")
	if errs := s.Dispose(ctx, []mailbox.Disposition{{Source: sc.Items[2].Source, Action: mailbox.Delete}}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := open(t, user, pw, nil)
	again, err := s2.Scan(ctx, sc.Cursor) // the cursor's message is gone
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Items) != 2 || again.Reset {
		t.Errorf("got %d items reset %v, want the 2 left and no reset (the ledger skips what it has)", len(again.Items), again.Reset)
	}
	if _, err := s2.Scan(ctx, "garbage"); err == nil {
		t.Errorf("scan from a malformed cursor: got nil error, want one")
	}
}

func TestConnectFailures(t *testing.T) {
	user, pw := newUser(t, withTLS)
	tests := []struct {
		name   string
		mod    func(*job.Server, *secrets.Credentials)
		step   mailbox.Step
		saying string
	}{
		{"folder other than INBOX", func(s *job.Server, _ *secrets.Credentials) { s.Folder = "INBOX/Support" }, mailbox.StepFolder, "POP3 has one mailbox"},
		{"unknown host", func(s *job.Server, _ *secrets.Credentials) { s.Host = "no-such-host.invalid" }, mailbox.StepDNS, "resolve"},
		{"implicit TLS on the plain port", func(s *job.Server, _ *secrets.Credentials) { s.Security = job.SecurityTLS }, mailbox.StepTLS, "TLS handshake"},
		{"plain text on the TLS port", func(s *job.Server, _ *secrets.Credentials) {
			s.Port = withTLS.Port("pop3s")
			s.Timeout = job.Duration(time.Second)
		}, mailbox.StepProtocol, "implicit TLS port"},
		{"wrong host name in the certificate", func(s *job.Server, _ *secrets.Credentials) {
			s.Security, s.Port, s.CAFile, s.Host = job.SecurityTLS, withTLS.Port("pop3s"), withTLS.CAFile(), "127.0.0.2"
		}, mailbox.StepCertificate, "not valid for host"},
		{"no secret username", func(_ *job.Server, c *secrets.Credentials) { c.Username = "" }, mailbox.StepAuth, "no username"},
		{"NTLM with a wrong password", func(s *job.Server, c *secrets.Credentials) {
			s.Auth = job.Auth{Method: job.AuthSPA}
			c.Password = "Wr0ng-Secret-Value-42"
		}, mailbox.StepAuth, "AUTH NTLM as"},
		{"a forged OAuth2 token", func(s *job.Server, c *secrets.Credentials) {
			s.Auth = job.Auth{Method: job.AuthOAuth2}
			*c = secrets.Credentials{Username: c.Username, AccessToken: "at-Forged-Token-Value-42"}
		}, mailbox.StepAuth, "the server refused the token"},
		{"a token endpoint that refuses", func(s *job.Server, c *secrets.Credentials) {
			s.Auth = job.Auth{Method: job.AuthOAuth2, Mechanism: "oauthbearer"}
			*c = secrets.Credentials{Username: c.Username, ClientID: "app-" + c.Username, ClientSecret: "Wr0ng-Secret-Value-42", TokenURL: oauth.TokenURL()}
		}, mailbox.StepAuth, "invalid_client"},
		{"an unknown mechanism", func(s *job.Server, _ *secrets.Credentials) {
			s.Auth = job.Auth{Method: job.AuthSPA, Mechanism: "kerberos"}
		}, mailbox.StepAuth, "not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := job.Server{Protocol: job.POP3, Host: "127.0.0.1", Port: withTLS.Port("pop3"), Security: job.SecurityNone,
				Auth: job.Auth{Method: job.AuthPassword}, Timeout: job.Duration(5 * time.Second)}
			creds := secrets.Credentials{Username: user, Password: pw}
			tt.mod(&srv, &creds)
			// 127.0.0.2 reaches the server, whose certificate names
			// only 127.0.0.1, ::1 and localhost.
			dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, strings.Replace(addr, "127.0.0.2:", "127.0.0.1:", 1))
			}
			s, err := pop3box.Open(context.Background(), pop3box.Config{Server: srv, Credentials: creds, Dialer: dial})
			if err == nil {
				s.Close()
				t.Fatalf("open: got a session, want step %s", tt.step)
			}
			t.Logf("%v", err)
			var ce *mailbox.ConnectError
			if !errors.As(err, &ce) || ce.Step != tt.step || !strings.Contains(err.Error(), tt.saying) {
				t.Fatalf("got %v, want step %s saying %q", err, tt.step, tt.saying)
			}
			if strings.Contains(err.Error(), "Wr0ng-Secret") || strings.Contains(err.Error(), "Forged-Token") || strings.Contains(err.Error(), pw) {
				t.Errorf("the error shows a secret: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("got a multi-line error %q, want one line", err)
			}
		})
	}
}
