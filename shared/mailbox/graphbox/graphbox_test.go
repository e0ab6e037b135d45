package graphbox_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/graphbox"
	"mailconnector/shared/mailbox/mailauth"
	"mailconnector/shared/mailbox/mailboxtest"
	"mailconnector/shared/secrets"
	"mailconnector/shared/testkit/graphtest"
)

const (
	tenant = "contoso"
	client = "connector-app"
)

var userSeq atomic.Int64

// harness runs the mailbox suite against graphtest: each box is a new
// mailbox on its own server, signed in with client credentials (the
// suite's password is the client secret).
type harness struct{}

func (harness) Name() string { return "graph" }

// Capabilities: Graph marks read, deletes (to Deleted Items) and moves;
// its cursor is a delta link per round; folders have no UIDVALIDITY and
// there is nothing to purge; it moves mail back by internetMessageId.
func (harness) Capabilities() mailboxtest.Caps {
	return mailboxtest.Caps{MarkRead: true, Delete: true, Move: true, Cursor: true, Folders: true, RoundCursor: true, Restore: true, DisposeBetweenFetches: true}
}

type box struct {
	srv    *graphtest.Server
	user   string
	secret string
}

func (harness) New(t *testing.T) mailboxtest.Box {
	srv := graphtest.Start(t)
	n := userSeq.Add(1)
	b := &box{srv: srv, user: fmt.Sprintf("support%d@contoso.example", n), secret: fmt.Sprintf("secret-%d-%d", time.Now().UnixNano(), n)}
	srv.AddMailbox(b.user)
	srv.AddApp(tenant, client, b.secret)
	tokenURLs.Store(b.user, srv.TokenURL(tenant))
	return b
}

func (b *box) Server() job.Server {
	host, port := hostPort(b.srv.URL())
	return job.Server{Protocol: job.Graph, Host: host, Port: port, Security: job.SecurityNone, Mailbox: b.user,
		Auth: job.Auth{Method: job.AuthOAuth2, Secret: "graph-test"}, Timeout: job.Duration(10 * time.Second)}
}

func hostPort(u string) (string, int) {
	hp := strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://")
	hp, _, _ = strings.Cut(hp, "/")
	h, p, _ := net.SplitHostPort(hp)
	n, _ := strconv.Atoi(p)
	return h, n
}

func (b *box) Credentials() secrets.Credentials {
	return secrets.Credentials{Username: b.user, Password: b.secret}
}

func (b *box) Deliver(t testing.TB, folder string, raw []byte) {
	if folder == "" {
		folder = "Inbox"
	}
	b.srv.Deliver(b.user, folder, raw)
}

// State maps Graph's folders to the suite's names: "Inbox/…" is
// "INBOX/…", and Deleted Items holds what DELETE removed, the suite's
// "flagged deleted, not yet expunged".
func (b *box) State(t testing.TB) []mailboxtest.MessageState {
	var out []mailboxtest.MessageState
	for _, m := range b.srv.Messages(b.user) {
		st := mailboxtest.MessageState{MessageID: strings.Trim(m.InternetMessageID, "<>"), Folder: m.Folder, Seen: m.IsRead}
		if rest, ok := strings.CutPrefix(m.Folder, "Inbox"); ok {
			st.Folder = "INBOX" + rest
		}
		if m.Folder == "Deleted Items" {
			st.Folder, st.Deleted = "INBOX", true
		}
		out = append(out, st)
	}
	return out
}

func (b *box) ResetValidity(t testing.TB) { t.Fatal("graph folders have no UIDVALIDITY") }

// Open signs in with client credentials at the token endpoint of the
// server the job points at; a TLS server (the certificate cases) gets a
// token issued directly, since the token endpoint is not what is tested.
func (harness) Open(ctx context.Context, srv job.Server, creds secrets.Credentials) (mailbox.Session, error) {
	tokenURL, _ := tokenURLs.Load(creds.Username)
	c := secrets.Credentials{ClientID: client, ClientSecret: creds.Password, TokenURL: tokenURL.(string)}
	if tok, ok := tlsTokens.Load(srv.Port); ok && srv.Security == job.SecurityTLS {
		c = secrets.Credentials{AccessToken: tok.(string)}
	}
	ts, err := mailauth.NewTokenSource(graphbox.Credentials(srv, c), nil)
	if err != nil {
		return nil, err
	}
	s, err := graphbox.Open(ctx, graphbox.Config{Server: srv, TokenSource: ts})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// tokenURLs holds each box's token endpoint, by user: a job's Graph host
// and its sign-in host are not the same.
var tokenURLs sync.Map

// tlsTokens holds, per port of a TLS server, the token Open uses there.
var tlsTokens sync.Map

func (harness) TLS(t *testing.T, b mailboxtest.Box) (job.Server, string, bool) {
	srv, ca := graphtest.StartTLS(t)
	user := b.(*box).user
	srv.AddMailbox(user)
	tok := srv.IssueAccessToken(tenant, client, "", time.Hour)
	host, port := hostPort(srv.URL())
	tlsTokens.Store(port, tok)
	return job.Server{Protocol: job.Graph, Host: host, Port: port, Security: job.SecurityTLS, Mailbox: user,
		Auth: job.Auth{Method: job.AuthOAuth2, Secret: "graph-test"}, Timeout: job.Duration(10 * time.Second)}, ca, true
}

// NoTLS: Graph has no STARTTLS to refuse.
func (harness) NoTLS(t *testing.T) (job.Server, bool) { return job.Server{}, false }

func TestConformance(t *testing.T) {
	mailboxtest.Run(t, harness{})
}
