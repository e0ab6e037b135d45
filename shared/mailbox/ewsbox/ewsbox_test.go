package ewsbox_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/ewsbox"
	"mailconnector/shared/mailbox/mailboxtest"
	"mailconnector/shared/secrets"
	"mailconnector/shared/testkit/ewstest"
)

var userSeq atomic.Int64

// harness runs the mailbox suite against ewstest: each box is a new
// mailbox on its own server, signed in with Basic authentication.
type harness struct{}

func (harness) Name() string { return "ews" }

// Capabilities: EWS marks read, deletes (to Deleted Items) and moves; its
// cursor is a sync state per round; there is no UIDVALIDITY and nothing
// flagged deleted to purge; it moves mail back by InternetMessageId.
func (harness) Capabilities() mailboxtest.Caps {
	return mailboxtest.Caps{MarkRead: true, Delete: true, Move: true, Cursor: true, Folders: true, RoundCursor: true, Restore: true}
}

type box struct {
	srv            *ewstest.Server
	user, password string
}

func newBox(t testing.TB) *box {
	srv := ewstest.Start(t)
	n := userSeq.Add(1)
	b := &box{srv: srv, user: fmt.Sprintf("support%d@contoso.example", n), password: fmt.Sprintf("pw-%d-%d", time.Now().UnixNano(), n)}
	srv.AddUser(b.user, b.password, b.user)
	return b
}

func (harness) New(t *testing.T) mailboxtest.Box { return newBox(t) }

func hostPort(u string) (string, int) {
	hp := strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://")
	h, p, _ := net.SplitHostPort(hp)
	n, _ := strconv.Atoi(p)
	return h, n
}

func (b *box) Server() job.Server {
	host, port := hostPort(b.srv.URL())
	return job.Server{Protocol: job.EWS, Host: host, Port: port, Security: job.SecurityNone, Timeout: job.Duration(10 * time.Second)}
}

func (b *box) Credentials() secrets.Credentials {
	return secrets.Credentials{Username: b.user, Password: b.password}
}

// folderName maps the suite's "INBOX/…" to Exchange's "Inbox/…".
func folderName(f string) string {
	if f == "" {
		return "Inbox"
	}
	if rest, ok := strings.CutPrefix(f, "INBOX"); ok {
		return "Inbox" + rest
	}
	return f
}

func (b *box) Deliver(t testing.TB, folder string, raw []byte) {
	b.srv.Deliver(b.user, folderName(folder), raw)
}

// State maps Exchange's folders to the suite's names; Deleted Items
// holds what DeleteItem moved there, the suite's "flagged deleted".
func (b *box) State(t testing.TB) []mailboxtest.MessageState {
	var out []mailboxtest.MessageState
	for _, m := range b.srv.Messages(b.user) {
		st := mailboxtest.MessageState{MessageID: m.MessageID, Folder: m.Folder, Seen: m.Read}
		if rest, ok := strings.CutPrefix(m.Folder, "Inbox"); ok {
			st.Folder = "INBOX" + rest
		}
		if m.Deleted {
			st.Folder, st.Deleted = "INBOX", true
		}
		out = append(out, st)
	}
	return out
}

func (b *box) ResetValidity(t testing.TB) { t.Fatal("EWS folders have no UIDVALIDITY") }

func (harness) Open(ctx context.Context, srv job.Server, creds secrets.Credentials) (mailbox.Session, error) {
	return ewsbox.Open(ctx, ewsbox.Config{Server: srv, Auth: ewsbox.AuthBasic, Username: creds.Username, Password: creds.Password})
}

func (harness) TLS(t *testing.T, mb mailboxtest.Box) (job.Server, string, bool) {
	b := mb.(*box)
	srv, ca := ewstest.StartTLS(t)
	srv.AddUser(b.user, b.password, b.user)
	host, port := hostPort(srv.TLSURL())
	return job.Server{Protocol: job.EWS, Host: host, Port: port, Security: job.SecurityTLS, Timeout: job.Duration(10 * time.Second)}, ca, true
}

// NoTLS: EWS has no STARTTLS to refuse.
func (harness) NoTLS(t *testing.T) (job.Server, bool) { return job.Server{}, false }

func TestConformance(t *testing.T) {
	mailboxtest.Run(t, harness{})
}
