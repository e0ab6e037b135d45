// Package ewstest is an Exchange Web Services server for tests, written
// from the public EWS SOAP reference:
//
//   - FindItem, paged with IndexedPageItemView, restricted only by
//     IsEqualTo on message:InternetMessageId (any other Restriction
//     answers ErrorInvalidRestriction):
//     https://learn.microsoft.com/exchange/client-developer/web-service-reference/finditem-operation
//     https://learn.microsoft.com/exchange/client-developer/web-service-reference/restriction
//   - SyncFolderItems and its sync state, ErrorInvalidSyncStateData:
//     https://learn.microsoft.com/exchange/client-developer/web-service-reference/syncfolderitemsresponsemessage
//     https://learn.microsoft.com/exchange/client-developer/exchange-web-services/handling-synchronization-related-errors-in-ews-in-exchange
//   - GetItem with MimeContent (base64):
//     https://learn.microsoft.com/exchange/client-developer/web-service-reference/getitem-operation-email-message
//   - ErrorServerBusy with BackOffMilliseconds:
//     https://learn.microsoft.com/exchange/client-developer/exchange-web-services/ews-throttling-in-exchange
//   - ServerVersionInfo:
//     https://learn.microsoft.com/exchange/client-developer/web-service-reference/serverversioninfo
//   - ExchangeImpersonation:
//     https://learn.microsoft.com/exchange/client-developer/web-service-reference/exchangeimpersonation
//   - POX Autodiscover:
//     https://learn.microsoft.com/exchange/client-developer/web-service-reference/pox-autodiscover-response-for-exchange
//   - SOAP Autodiscover, GetUserSettings:
//     https://learn.microsoft.com/exchange/client-developer/web-service-reference/getusersettings-operation-soap
//
// It keeps mailboxes in memory and serves /EWS/Exchange.asmx and
// /autodiscover/autodiscover.xml on a plain and, on demand, a TLS listener
// on 127.0.0.1 with ports chosen at run time. It accepts Basic, NTLM and
// Bearer authentication. NTLM is checked as a message exchange only: the
// negotiate message, a challenge, and an authenticate message naming a
// known user (the NTLMv2 response is not verified, which would need MD4);
// a wrong password is tested with Basic.
//
// What it simplifies: SyncFolderItems reports only Create changes; item
// ids change when an item changes folder (as in Exchange); delegate access
// is checked per mailbox (full access), not per folder.
package ewstest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Version is what the server announces in ServerVersionInfo.
const (
	MajorVersion = 15
	MinorVersion = 2
	BuildNumber  = 1544
	Version      = "V2017_07_11"
)

// Server is one EWS server with its accounts and mailboxes.
type Server struct {
	t     testing.TB
	plain *httptest.Server
	tls   *httptest.Server
	ca    string

	mu       sync.Mutex
	accounts map[string]*account // by sign-in name, lower case
	boxes    map[string]*box     // by SMTP address, lower case
	tokens   map[string]string   // bearer token -> sign-in name
	ntlm     map[string][]byte   // remote address -> challenge sent
	busy     int
	backoff  time.Duration
	seq      int
	// noSOAP and noPOX turn an Autodiscover service off (404).
	noSOAP, noPOX bool

	requests atomic.Int64
	ops      sync.Map // operation name -> *atomic.Int64
}

type account struct {
	name, password, address string
	impersonate             bool
	delegate                map[string]bool // mailboxes it has full access to, lower case
}

type box struct {
	address string
	folders map[string]*folder
	items   map[string]*item
	gen     int // bumped by ExpireSyncState
}

type folder struct {
	id, name, parent, distinguished string
}

type item struct {
	id, folder string
	mime       []byte
	read       bool
	received   time.Time
	seq        int // when it entered its folder
	messageID  string
}

// Start starts a server with a plain listener; it stops with the test.
func Start(t testing.TB) *Server {
	s := &Server{t: t, accounts: map[string]*account{}, boxes: map[string]*box{}, tokens: map[string]string{}, ntlm: map[string][]byte{}}
	s.plain = httptest.NewServer(s)
	t.Cleanup(s.plain.Close)
	return s
}

// StartTLS starts a server with a TLS listener as well, and returns the
// path of a PEM file holding the certificate that signs it.
func StartTLS(t testing.TB) (*Server, string) {
	s := Start(t)
	s.tls = httptest.NewTLSServer(s)
	t.Cleanup(s.tls.Close)
	s.ca = filepath.Join(t.TempDir(), "ews-ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.tls.Certificate().Raw})
	if err := os.WriteFile(s.ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return s, s.ca
}

// URL is the plain listener's base URL (http://127.0.0.1:port).
func (s *Server) URL() string { return s.plain.URL }

// TLSURL is the TLS listener's base URL; empty without StartTLS.
func (s *Server) TLSURL() string {
	if s.tls == nil {
		return ""
	}
	return s.tls.URL
}

// CertPool trusts the TLS listener's certificate.
func (s *Server) CertPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.tls.Certificate())
	return p
}

// TLSConfig is a client configuration that trusts the TLS listener.
func (s *Server) TLSConfig() *tls.Config { return &tls.Config{RootCAs: s.CertPool()} }

// AddUser adds an account that signs in as name with password and owns
// the mailbox address (created with an Inbox and Deleted Items).
func (s *Server) AddUser(name, password, address string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts[strings.ToLower(name)] = &account{name: name, password: password, address: address}
	s.mailbox(address)
}

// AddMailbox adds a mailbox nobody signs in to (a shared mailbox).
func (s *Server) AddMailbox(address string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mailbox(address)
}

// AllowImpersonation lets the account act as any mailbox through
// ExchangeImpersonation (the ApplicationImpersonation role).
func (s *Server) AllowImpersonation(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts[strings.ToLower(name)].impersonate = true
}

// AllowDelegate gives the account full access to the mailbox address,
// which it reaches by naming it in a DistinguishedFolderId's Mailbox.
func (s *Server) AllowDelegate(name, address string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[strings.ToLower(name)]
	if a.delegate == nil {
		a.delegate = map[string]bool{}
	}
	a.delegate[strings.ToLower(address)] = true
}

// AddToken makes token a valid bearer token for the account name.
func (s *Server) AddToken(token, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = strings.ToLower(name)
}

// Busy makes the next n EWS requests fail with ErrorServerBusy asking
// the client to wait backoff.
func (s *Server) Busy(n int, backoff time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.busy, s.backoff = n, backoff
}

// ExpireSyncState makes every sync state issued so far for the mailbox
// invalid (ErrorInvalidSyncStateData).
func (s *Server) ExpireSyncState(address string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mailbox(address).gen++
}

// Requests is the number of EWS and Autodiscover requests served.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Count is the number of requests of one operation ("GetItem"), or
// carrying one authentication scheme ("auth basic", "auth ntlm", "auth
// bearer").
func (s *Server) Count(op string) int64 {
	if v, ok := s.ops.Load(op); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

func (s *Server) count(op string) {
	v, _ := s.ops.LoadOrStore(op, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

func (s *Server) mailbox(address string) *box {
	key := strings.ToLower(address)
	b := s.boxes[key]
	if b == nil {
		b = &box{address: address, folders: map[string]*folder{}, items: map[string]*item{}}
		s.boxes[key] = b
		root := s.newFolder(b, "", "", "msgfolderroot")
		s.newFolder(b, root.id, "Inbox", "inbox")
		s.newFolder(b, root.id, "Deleted Items", "deleteditems")
	}
	return b
}

func (s *Server) newID(kind string) string {
	s.seq++
	return fmt.Sprintf("AAMk%s%08d=", kind, s.seq)
}

func (s *Server) newFolder(b *box, parent, name, distinguished string) *folder {
	f := &folder{id: s.newID("F"), name: name, parent: parent, distinguished: distinguished}
	b.folders[f.id] = f
	return f
}

// path is the folder's display path below the root ("Inbox/Done").
func (b *box) path(f *folder) string {
	var parts []string
	for f != nil && f.distinguished != "msgfolderroot" {
		parts = append([]string{f.name}, parts...)
		f = b.folders[f.parent]
	}
	return strings.Join(parts, "/")
}

func (b *box) byPath(path string, create func(parent, name string) *folder) *folder {
	var cur *folder
	for _, f := range b.folders {
		if f.distinguished == "msgfolderroot" {
			cur = f
		}
	}
	for _, name := range strings.Split(path, "/") {
		var next *folder
		for _, f := range b.folders {
			if f.parent == cur.id && strings.EqualFold(f.name, name) {
				next = f
			}
		}
		if next == nil {
			if create == nil {
				return nil
			}
			next = create(cur.id, name)
		}
		cur = next
	}
	return cur
}

// Deliver puts raw into the folder at path ("Inbox", "Inbox/Support"),
// creating missing folders, and returns the item id.
func (s *Server) Deliver(address, path string, raw []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.mailbox(address)
	f := b.byPath(path, func(parent, name string) *folder { return s.newFolder(b, parent, name, "") })
	s.seq++
	it := &item{id: s.newID("I"), folder: f.id, mime: append([]byte(nil), raw...), received: time.Now(), seq: s.seq, messageID: messageID(raw)}
	b.items[it.id] = it
	return it.id
}

func messageID(raw []byte) string {
	for _, line := range strings.Split(string(raw), "\r\n") {
		if line == "" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Message-ID") {
			return strings.Trim(strings.TrimSpace(v), "<>")
		}
	}
	return ""
}

// Message is a message as the server holds it.
type Message struct {
	ID        string
	MessageID string // without angle brackets
	Folder    string // display path: "Inbox/Done", "Deleted Items"
	Read      bool
	Deleted   bool // in Deleted Items
}

// Messages lists every message of the mailbox, oldest first.
func (s *Server) Messages(address string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.mailbox(address)
	var out []Message
	for _, it := range b.sorted("") {
		f := b.folders[it.folder]
		out = append(out, Message{ID: it.id, MessageID: it.messageID, Folder: b.path(f), Read: it.read, Deleted: f.distinguished == "deleteditems"})
	}
	return out
}

// sorted lists the items of folder id ("" for all), oldest first.
func (b *box) sorted(folderID string) []*item {
	var out []*item
	for _, it := range b.items {
		if folderID == "" || it.folder == folderID {
			out = append(out, it)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}
