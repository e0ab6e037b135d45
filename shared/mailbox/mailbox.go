// Package mailbox defines what the connector needs from a mail server,
// whatever its protocol: list the messages after a cursor, stream their raw
// MIME, and tell the server what became of each one. The imap, pop3, graph
// and ews adapters implement Session and pass the conformance suite in
// mailboxtest.
package mailbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"mailconnector/shared/ledger"
)

// Session is one open connection to a mailbox folder.
type Session interface {
	// Info describes the server and the open folder.
	Info() Info
	// Scan lists the messages after cursor ("" lists all), oldest first.
	// If the cursor no longer applies (IMAP UIDVALIDITY changed), Scan lists
	// every message and sets Reset; the ledger keeps them from being
	// processed twice.
	Scan(ctx context.Context, cursor string) (*Scan, error)
	// Fetch streams the raw MIME of items, in order, to fn without changing
	// any flag. Each body must be read within fn. A message that no longer
	// exists is passed with a nil body and ErrGone from Err.
	Fetch(ctx context.Context, items []Item, fn func(Item, io.Reader) error) error
	// Dispose applies dispositions and returns one error (or nil) for each.
	Dispose(ctx context.Context, ds []Disposition) []error
	// Close ends the session; for POP3, cleanly (QUIT commits deletions).
	Close() error
}

// Purger is a Session that can permanently remove messages flagged deleted
// (IMAP EXPUNGE / UID EXPUNGE).
type Purger interface {
	Session
	Purge(ctx context.Context) error
}

// Committer is a Session whose dispositions take effect only when it
// commits them (POP3: DELE marks, QUIT deletes, RFC 1939 section 6).
// Commit makes them take effect and leaves the session open for more
// work; an error means none of them took effect, so the caller must not
// record them as done.
type Committer interface {
	Session
	Commit(ctx context.Context) error
}

// Flagless is a Session whose server keeps no per-message state (POP3
// has no flags, RFC 1939): a message can only be kept or deleted, never
// marked read, and only the ledger remembers which messages were taken.
// A stage asks for this capability rather than for a protocol.
type Flagless interface {
	Session
	KeepsNoFlags()
}

// Folders is a Session on a server with folders, so a message can be
// moved (Disposition Move): IMAP, Graph, EWS.
type Folders interface {
	Session
	HasFolders()
}

// Interleaver is a Session on which dispositions may be applied between
// the fetches of one scan's items: the items still to fetch are named by
// identities that disposing of other messages leaves alone (IMAP UIDs,
// Graph's immutable ids), and disposing takes effect without ending the
// session. The fetch stage then tells the mailbox what became of the
// messages processed while it was still fetching, batch by batch, rather
// than all at once at the end of the run. POP3 (whose deletions take
// effect at QUIT) is not one.
type Interleaver interface {
	Session
	DisposesBetweenFetches()
}

// Restorer is a Session on a server with folders that can bring
// messages back from another folder into the open one: SupportCenter
// Plus's "Move mails to inbox" for the error folder. The messages are
// found by Message-ID, since moving them gave them new identities.
type Restorer interface {
	Folders
	// Restore moves every message of folder (as written in the jobs file)
	// whose Message-ID, without angle brackets, is ids[i] into the open
	// folder, and returns one error (or nil) for each id: ErrGone when
	// folder holds no such message (or does not exist).
	Restore(ctx context.Context, folder string, ids []string) []error
}

// FillErrors sets every nil error of errs to err and returns errs: the
// answer of a Restore for the ids it has not answered yet, once the rest
// cannot go on.
func FillErrors(errs []error, err error) []error {
	for i := range errs {
		if errs[i] == nil {
			errs[i] = err
		}
	}
	return errs
}

// DeletedLister is a Purger that can list every message of the open folder
// flagged deleted, whichever session flagged it, and purge the ones named
// (IMAP: UID SEARCH DELETED, RFC 3501 section 6.4.4, and UID EXPUNGE, RFC
// 4315 section 2.1). It lets a later session purge what a session that
// ended before its purge had flagged.
type DeletedLister interface {
	Purger
	// FlaggedDeleted lists the messages flagged deleted in the folder.
	FlaggedDeleted(ctx context.Context) ([]ledger.Source, error)
	// PurgeSources removes srcs (those still flagged deleted) together with
	// what this session flagged. A server that cannot expunge by identity
	// removes every message flagged deleted, as Purge does.
	PurgeSources(ctx context.Context, srcs []ledger.Source) error
}

// Previewer is a Session that can read a message's header and its first
// lines without retrieving it whole (POP3 TOP, RFC 1939 section 7), for a
// quick look such as `connector sample`. The body passed to fn is the
// header, the blank line and at most lines lines of the body.
type Previewer interface {
	Session
	Preview(ctx context.Context, item Item, lines int, fn func(io.Reader) error) error
}

// ErrNotPossible means the protocol cannot do what a disposition asks
// (POP3 has no flags and no folders: it can only delete or keep).
var ErrNotPossible = errors.New("mailbox: the protocol cannot do this")

// Info describes a mailbox session.
type Info struct {
	Protocol string `json:"protocol"`
	Server   string `json:"server"`   // host:port
	Security string `json:"security"` // what was negotiated: none, starttls, tls
	// Auth is how the session signed in: LOGIN, USER/PASS, or SASL and
	// the mechanism (SASL PLAIN, SASL NTLM, SASL XOAUTH2, SASL OAUTHBEARER).
	Auth         string   `json:"auth,omitempty"`
	Capabilities []string `json:"capabilities"` // as the server announced them
	Folder       string   `json:"folder"`       // the server's name for the folder
	Delimiter    string   `json:"delimiter,omitempty"`
	Messages     int      `json:"messages"` // in the folder
	Unseen       int      `json:"unseen"`   // -1 when unknown
	Validity     uint32   `json:"validity,omitempty"`
	Notes        []string `json:"notes,omitempty"` // e.g. STARTTLS not offered, fell back to plain
}

// Clone returns a copy of i that shares no slice with it, for a session
// to hand out while it goes on appending to its own.
func (i Info) Clone() Info {
	i.Capabilities = append([]string(nil), i.Capabilities...)
	i.Notes = append([]string(nil), i.Notes...)
	return i
}

// Scan is the result of Session.Scan.
type Scan struct {
	Items []Item
	// Cursor is the cursor after every item (also when Items is empty).
	Cursor string
	// Reset is true when the given cursor no longer applied.
	Reset bool
}

// Item is one message found by Scan.
type Item struct {
	Source ledger.Source
	Size   int64
	// Cursor is the cursor to store once this item and all before it are
	// safely recorded.
	Cursor string
}

// Action is what to do with a source message.
type Action string

// The actions.
const (
	MarkRead Action = "markRead"
	Delete   Action = "delete" // IMAP: flag \Deleted (Purge expunges); others: delete
	Move     Action = "move"   // to Folder, created if missing
)

// Disposition is one action on one source message.
type Disposition struct {
	Source ledger.Source
	Action Action
	Folder string // for Move: as written in the jobs file ("/" or "." separated)
}

// ErrGone means the message is no longer in the mailbox.
var ErrGone = errors.New("mailbox: message no longer exists")

// ErrStaleSource means the source identity belongs to an earlier
// UIDVALIDITY (or folder), so the server can no longer address it.
var ErrStaleSource = errors.New("mailbox: source identity is stale")

// Step names the stage of connecting where a connection failed.
type Step string

// The connection steps, in the order they happen.
const (
	StepProxy       Step = "proxy" // the proxy's TCP connection and its CONNECT or SOCKS5 handshake
	StepDNS         Step = "DNS"
	StepTCP         Step = "TCP"
	StepTLS         Step = "TLS"
	StepCertificate Step = "certificate"
	StepSTARTTLS    Step = "STARTTLS"
	StepAuth        Step = "authentication"
	StepFolder      Step = "folder"
	StepProtocol    Step = "protocol"
)

// ConnectError is a failure to open a session, naming the step that failed.
type ConnectError struct {
	Step   Step
	Server string // host:port
	Err    error
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("%s failed for %s: %v", e.Step, e.Server, e.Err)
}

func (e *ConnectError) Unwrap() error { return e.Err }

// ErrThrottled means the server kept refusing requests for load (Graph 429
// or 503) for longer than the session may wait. The run stops cleanly: what
// it recorded stays recorded and the next run resumes.
var ErrThrottled = errors.New("mailbox: the server is throttling requests")

// SplitFolderPath splits a job's folder path, "Inbox/Support", into its
// levels, for the adapters whose servers name folders level by level
// (Graph, EWS). "." separates levels only in the IMAP-style
// "INBOX.Support", since those servers' folder names may contain dots.
// An empty path is the inbox.
func SplitFolderPath(path string) []string {
	path = strings.Trim(path, "/")
	if path == "" {
		path = "Inbox"
	}
	if !strings.Contains(path, "/") {
		if first, rest, ok := strings.Cut(path, "."); ok && strings.EqualFold(first, "inbox") {
			return append([]string{first}, strings.Split(rest, ".")...)
		}
	}
	return strings.Split(path, "/")
}
