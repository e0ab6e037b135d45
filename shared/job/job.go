// Package job describes the connector's jobs: one job is one mailbox and
// what to do with its mail. Jobs are declared in a YAML jobs file; Load
// reads and validates it, failing with the job id and the field path of the
// first problems it finds. The package knows no AWS and no mail protocol.
package job

import (
	"fmt"
	"strings"
)

// File is the jobs file.
type File struct {
	// Defaults are taken by every job that does not say otherwise.
	Defaults *Defaults `yaml:"defaults" json:"defaults,omitempty"`
	Jobs     []Job     `yaml:"jobs" json:"jobs"`
}

// Job finds returns the job with the given id.
func (f *File) Job(id string) (*Job, bool) {
	for i := range f.Jobs {
		if f.Jobs[i].ID == id {
			return &f.Jobs[i], true
		}
	}
	return nil, false
}

// Job is one mailbox and what to do with its mail.
type Job struct {
	ID            string        `yaml:"id" json:"id"`
	Name          string        `yaml:"name" json:"name"`
	Enabled       *bool         `yaml:"enabled" json:"enabled"`
	Server        Server        `yaml:"server" json:"server"`
	Schedule      Schedule      `yaml:"schedule" json:"schedule"`
	Incoming      Incoming      `yaml:"incoming" json:"incoming"`
	Preprocessing Preprocessing `yaml:"preprocessing" json:"preprocessing"`
	Processing    Processing    `yaml:"processing" json:"processing"`
	Attachments   Attachments   `yaml:"attachments" json:"attachments"`
	Notifications Notifications `yaml:"notifications" json:"notifications"`
	Limits        Limits        `yaml:"limits" json:"limits"`
	Push          Push          `yaml:"push" json:"push"`
	Debug         Debug         `yaml:"debug" json:"debug,omitzero"`
	Retention     Retention     `yaml:"retention" json:"retention,omitzero"`
}

// Push makes a Graph job fetch as soon as mail arrives: the connector
// subscribes to change notifications on the job's folder, and each
// notification starts a fetch. The job's schedule stays as the safety net
// and may then run less often.
type Push struct {
	// Enabled subscribes the job (graph only). Default false.
	Enabled bool `yaml:"enabled" json:"enabled"`
}

// IsEnabled reports whether the job runs on its schedule (default true).
func (j *Job) IsEnabled() bool { return j.Enabled == nil || *j.Enabled }

// Protocol is the mailbox protocol.
type Protocol string

// The mailbox protocols.
const (
	IMAP  Protocol = "imap"
	POP3  Protocol = "pop3"
	Graph Protocol = "graph"
	EWS   Protocol = "ews"
)

// Security is how the connection to the mail server is protected.
type Security string

// The connection security modes.
const (
	SecurityNone                Security = "none"                  // plain text
	SecuritySTARTTLSIfAvailable Security = "starttls-if-available" // STARTTLS when offered, plain otherwise
	SecuritySTARTTLS            Security = "starttls"              // STARTTLS required
	SecurityTLS                 Security = "tls"                   // implicit SSL/TLS
)

// AuthMethod is how the connector signs in.
type AuthMethod string

// The authentication methods.
const (
	AuthPassword AuthMethod = "password" // LOGIN / USER+PASS / SASL PLAIN
	AuthSPA      AuthMethod = "spa"      // NTLM
	AuthOAuth2   AuthMethod = "oauth2"   // XOAUTH2 / OAUTHBEARER, or a Graph token
)

// Server is the mail server of a job.
type Server struct {
	Protocol Protocol `yaml:"protocol" json:"protocol"`
	Host     string   `yaml:"host" json:"host"`
	Port     int      `yaml:"port" json:"port"`
	Security Security `yaml:"security" json:"security"`
	// RejectInvalidCertificates refuses expired, self-signed, unknown-authority
	// or wrong-host certificates. Default true.
	RejectInvalidCertificates *bool `yaml:"rejectInvalidCertificates" json:"rejectInvalidCertificates"`
	// CAFile is a PEM bundle of extra certificate authorities to trust.
	CAFile string `yaml:"caFile" json:"caFile,omitempty"`
	// Folder to fetch from; default INBOX. Either "/" or "." may separate
	// levels ("INBOX/Support", "INBOX.Support"): the adapter maps them to the
	// server's own hierarchy delimiter.
	Folder string `yaml:"folder" json:"folder"`
	Auth   Auth   `yaml:"auth" json:"auth"`
	// Mailbox is, for graph, the user id or address (user principal name)
	// of the mailbox to read. Required for graph.
	Mailbox string `yaml:"mailbox" json:"mailbox,omitempty"`
	// Cloud is, for graph, the Microsoft cloud the tenant lives in: global
	// (default), usgov (GCC High), usgovdod (DoD) or china (21Vianet).
	Cloud string `yaml:"cloud" json:"cloud,omitempty"`
	// For graph, host and port (optional) reach Graph through a proxy at
	// https://host:port/v1.0; security none is accepted for a loopback
	// host only.
	//
	// Endpoint overrides, for graph, the Graph service root of the cloud
	// (https://graph.microsoft.com/v1.0), e.g. for a proxy. Plain http is
	// accepted for loopback addresses only.
	Endpoint string `yaml:"endpoint" json:"endpoint,omitempty"`
	// Timeout for connecting and for each command. Default 30s.
	Timeout Duration `yaml:"timeout" json:"timeout"`
	// Proxy is the HTTP CONNECT (http://host:port) or SOCKS5
	// (socks5://host:port) proxy every connection of the job goes through,
	// "direct" for none; default the jobs file's defaults.proxy.
	Proxy string `yaml:"proxy" json:"proxy,omitempty"`
	// ProxySecret names the secret with the proxy's username and password.
	ProxySecret string `yaml:"proxySecret" json:"proxySecret,omitempty"`
	// NoProxy lists the hosts reached directly: a name, a domain
	// (".example.com" and its subdomains), an IP address or a CIDR range.
	NoProxy []string `yaml:"noProxy" json:"noProxy,omitempty"`
	// MinTLS is the oldest TLS version accepted (imap, pop3, ews): "1.0",
	// "1.1", "1.2" (default) or "1.3". Below 1.2 only for old servers:
	// Test Connection warns.
	MinTLS string `yaml:"minTLS" json:"minTLS,omitempty"`
	// EWS says, for ews, where Exchange Web Services is and which mailbox
	// to read.
	EWS *EWSSettings `yaml:"ews" json:"ews,omitempty"`
}

// VerifyCertificates reports whether invalid certificates are refused.
func (s *Server) VerifyCertificates() bool {
	return s.RejectInvalidCertificates == nil || *s.RejectInvalidCertificates
}

// Auth is how the connector signs in to the server.
type Auth struct {
	Method AuthMethod `yaml:"method" json:"method"`
	// Secret names the credentials: locally the environment variable
	// CONNECTOR_SECRET_<REF> or the state directory's secrets.yaml, on AWS a
	// Secrets Manager secret. The jobs file never holds a password.
	Secret string `yaml:"secret" json:"secret"`
	// Mechanism chooses among the SASL mechanisms of Method: for password
	// "login" (default) or "plain".
	Mechanism string `yaml:"mechanism" json:"mechanism,omitempty"`
}

// Schedule says when a job fetches. Either Expression, or the structured
// fields; with neither, every 5 minutes.
type Schedule struct {
	// Expression is an EventBridge Scheduler expression: rate(5 minutes),
	// cron(0/10 8-17 ? * MON-FRI *) or at(2026-12-01T08:00:00).
	Expression string `yaml:"expression" json:"expression,omitempty"`
	// Occurrence: daily (default), weekly, monthly or yearly.
	Occurrence string `yaml:"occurrence" json:"occurrence,omitempty"`
	// Days of the week for weekly: mon, tue, wed, thu, fri, sat, sun.
	Days []string `yaml:"days" json:"days,omitempty"`
	// DayOfMonth for monthly and yearly (1-31).
	DayOfMonth int `yaml:"dayOfMonth" json:"dayOfMonth,omitempty"`
	// Month for yearly (1-12).
	Month int `yaml:"month" json:"month,omitempty"`
	// At runs once a day at this time (HH:MM); excludes Every.
	At string `yaml:"at" json:"at,omitempty"`
	// Every runs every N minutes or hours ("5m", "2h"), optionally only
	// between From and To (HH:MM, From inclusive, To inclusive).
	Every Duration `yaml:"every" json:"every,omitempty"`
	From  string   `yaml:"from" json:"from,omitempty"`
	To    string   `yaml:"to" json:"to,omitempty"`
	// TimeZone is an IANA name; default UTC.
	TimeZone string `yaml:"timeZone" json:"timeZone,omitempty"`
	// StartDate and EndDate (YYYY-MM-DD, inclusive) bound the schedule.
	StartDate string `yaml:"startDate" json:"startDate,omitempty"`
	EndDate   string `yaml:"endDate" json:"endDate,omitempty"`
	// IdleEvery polls a quiet mailbox less often (idle.go): once the
	// job's runs have found nothing for IdleAfter (default 1h), a
	// scheduled run less than IdleEvery after the last poll ends at once,
	// until a run finds mail. 0: every scheduled run polls.
	IdleEvery Duration `yaml:"idleEvery" json:"idleEvery,omitempty"`
	IdleAfter Duration `yaml:"idleAfter" json:"idleAfter,omitempty"`
}

// SourceAction is what the connector does to a source message once its
// outcome is known.
type SourceAction string

// The dispositions.
const (
	MarkRead SourceAction = "markRead" // set \Seen (POP3: delete, unless keepOnServer)
	Delete   SourceAction = "delete"   // flag deleted (IMAP: expunged by purge) or delete
	Move     SourceAction = "move"     // move to a folder
	Leave    SourceAction = "leave"    // change nothing on the server
)

// Incoming is what happens to a source message after processing.
type Incoming struct {
	// OnSuccess: markRead (default), delete or move.
	OnSuccess SourceAction `yaml:"onSuccess" json:"onSuccess"`
	// MoveTo is the folder for OnSuccess move.
	MoveTo string `yaml:"moveTo" json:"moveTo,omitempty"`
	// Purge expunges messages flagged deleted at the end of each session.
	Purge bool `yaml:"purge" json:"purge"`
	// KeepOnServer (POP3 only) leaves processed mail on the server; the
	// ledger keeps it from being fetched twice.
	KeepOnServer bool `yaml:"keepOnServer" json:"keepOnServer"`
	// OnError says what happens to a message that failed or was rejected.
	OnError OnError `yaml:"onError" json:"onError"`
}

// OnError handles messages that could not be processed.
type OnError struct {
	// Action: move (default, to Folder), markRead, delete or leave
	// (the POP3 default: POP3 has no error folder). A message whose raw
	// copy is not stored is never deleted.
	Action SourceAction `yaml:"action" json:"action"`
	// Folder is the error folder, created if missing. Default "Connector Errors".
	Folder string `yaml:"folder" json:"folder"`
	// StopAfter stops a run after this many failed messages (0: never).
	StopAfter int `yaml:"stopAfter" json:"stopAfter"`
}

// Preprocessing lists the ordered preprocessing rules.
type Preprocessing struct {
	// Rules run in order. With none, every built-in rule runs in its
	// default order.
	Rules []PreprocessRule `yaml:"rules" json:"rules,omitempty"`
}

// PreprocessRule is one preprocessing step: a built-in rule by name, or a
// custom rule (regexRemove or cutBelow).
type PreprocessRule struct {
	Builtin string `yaml:"builtin" json:"builtin,omitempty"`
	Enabled *bool  `yaml:"enabled" json:"enabled,omitempty"`
	// RegexRemove deletes every match of this RE2 expression from the text.
	RegexRemove string `yaml:"regexRemove" json:"regexRemove,omitempty"`
	// CutBelow removes the line matching this RE2 expression and everything below it.
	CutBelow string `yaml:"cutBelow" json:"cutBelow,omitempty"`
}

// IsEnabled reports whether the rule runs (default true).
func (r *PreprocessRule) IsEnabled() bool { return r.Enabled == nil || *r.Enabled }

// Processing holds the ordered processing statements and who may open
// requests.
type Processing struct {
	Statements []Statement `yaml:"statements" json:"statements,omitempty"`
	// AllowNewRequestsFrom, when not empty, lets only these addresses and
	// *@domain patterns create requests; anyone may still add a
	// conversation to a request they are part of.
	AllowNewRequestsFrom []string `yaml:"allowNewRequestsFrom" json:"allowNewRequestsFrom,omitempty"`
	// RequestToken is the subject token that carries a request number;
	// {number} stands for it. Default "[REQ-{number}]".
	RequestToken string `yaml:"requestToken" json:"requestToken,omitempty"`
	// SubjectWindow threads a message without a token or references to
	// the newest request from the same sender with the same subject
	// (ignoring Re:/Fwd: prefixes) opened within this long; 0 turns it off.
	SubjectWindow Duration `yaml:"subjectWindow" json:"subjectWindow,omitempty"`
	// ReopenClosed reopens a closed request when a reply arrives.
	ReopenClosed bool `yaml:"reopenClosed" json:"reopenClosed,omitempty"`
	// OnMerged is what a reply to a merged request does: "follow" (default)
	// adds it to the request it was merged into, "create" opens a new one.
	// A reply to a deleted request always opens a new one.
	OnMerged string `yaml:"onMerged" json:"onMerged,omitempty"`
	// MaxNewRequestsPerSenderPerHour caps how many requests one sender can
	// open in an hour (0, the default: no cap). More are rejected with the
	// reason. Each new request then looks at the job's newest requests.
	MaxNewRequestsPerSenderPerHour int `yaml:"maxNewRequestsPerSenderPerHour" json:"maxNewRequestsPerSenderPerHour,omitempty"`
	// NoticeMessageIDDomain is the right-hand side of the Message-IDs of
	// the notices the connector sends (<notice.HASH@DOMAIN>). They are
	// indexed to their request, so a reply to a notice threads, and an
	// auto-reply or bounce that refers to one is known as a notice of ours
	// coming back. Default "mail-connector.invalid"; set your own domain.
	NoticeMessageIDDomain string `yaml:"noticeMessageIdDomain" json:"noticeMessageIdDomain,omitempty"`
	// TrustedAuthServIDs are the authserv-ids (RFC 8601 section 2.5) of
	// the mail servers whose Authentication-Results headers the spf, dkim
	// and dmarc conditions believe. Empty: only the topmost
	// Authentication-Results header, the one the receiving server added.
	TrustedAuthServIDs []string `yaml:"trustedAuthServIds" json:"trustedAuthServIds,omitempty"`
}

// Statement is one processing statement: when its condition matches, its
// action runs. The first matching statement wins unless Continue is set.
type Statement struct {
	Name     string            `yaml:"name" json:"name"`
	When     *Condition        `yaml:"when" json:"when,omitempty"`
	Action   string            `yaml:"action" json:"action"` // create, update, ignore, reject, stop
	Set      map[string]string `yaml:"set" json:"set,omitempty"`
	Reason   string            `yaml:"reason" json:"reason,omitempty"`
	Continue bool              `yaml:"continue" json:"continue,omitempty"`
	// Reopen, for update (and a create that threads to a request), says
	// whether a closed request is reopened; default processing.reopenClosed.
	Reopen *bool `yaml:"reopen" json:"reopen,omitempty"`
}

// Condition is a test on a message: a leaf (Field, Op, Value or Values) or
// a combination (All, Any, Not).
type Condition struct {
	Field  string      `yaml:"field" json:"field,omitempty"`
	Op     string      `yaml:"op" json:"op,omitempty"`
	Value  string      `yaml:"value" json:"value,omitempty"`
	Values []string    `yaml:"values" json:"values,omitempty"`
	All    []Condition `yaml:"all" json:"all,omitempty"`
	Any    []Condition `yaml:"any" json:"any,omitempty"`
	Not    *Condition  `yaml:"not" json:"not,omitempty"`
}

// Attachments is the attachment policy of a job.
type Attachments struct {
	// MaxSize drops larger attachments (default 25MB; 0 in the file keeps the default).
	MaxSize Size `yaml:"maxSize" json:"maxSize"`
	// BlockExtensions drops attachments with these extensions.
	BlockExtensions []string `yaml:"blockExtensions" json:"blockExtensions,omitempty"`
	// AllowExtensions, when not empty, keeps only these extensions.
	AllowExtensions []string `yaml:"allowExtensions" json:"allowExtensions,omitempty"`
	// DropEmpty drops zero-byte attachments (default true).
	DropEmpty *bool `yaml:"dropEmpty" json:"dropEmpty,omitempty"`
	// CheckContent drops an attachment whose content (by its magic bytes)
	// is executable while its declared type or extension claim otherwise
	// (default true). Other mismatches are kept with a warning.
	CheckContent *bool `yaml:"checkContent" json:"checkContent,omitempty"`
	// DropMismatched drops every attachment whose content (magic bytes)
	// clearly differs from its declared type or its extension, binary
	// content declared text/* included, not only executables. Default
	// false: such an attachment is kept with a warning.
	DropMismatched bool `yaml:"dropMismatched" json:"dropMismatched,omitempty"`
	// DropInvalidNames drops an attachment whose file name is invalid
	// (control or format characters, a path, characters Windows forbids,
	// a reserved device name, a leading or trailing dot or space, more
	// than 255 bytes, bytes that are not UTF-8) instead of storing it
	// under a cleaned name. Default false.
	DropInvalidNames bool `yaml:"dropInvalidNames" json:"dropInvalidNames,omitempty"`
	// NotifyOnDrop says who hears that attachments were dropped. The
	// notice is sent by the rules stage; never to the sender of
	// auto-generated mail (auto-replies, bounces, lists), to avoid loops.
	NotifyOnDrop NotifyOnDrop `yaml:"notifyOnDrop" json:"notifyOnDrop"`
}

// NotifyOnDrop chooses the recipients of the dropped-attachment notice.
type NotifyOnDrop struct {
	// Sender tells the sender which attachments were not accepted and why.
	Sender bool `yaml:"sender" json:"sender"`
	// Admins tells the job's notifications.admins.
	Admins bool `yaml:"admins" json:"admins"`
}

// ContentChecked reports whether attachment contents are checked against
// their declared type (default true).
func (a *Attachments) ContentChecked() bool { return a.CheckContent == nil || *a.CheckContent }

// Notifications says who hears about trouble.
type Notifications struct {
	// Admins receive alerts.
	Admins []string `yaml:"admins" json:"admins,omitempty"`
	// ConnectionFailures alerts after this many consecutive failed runs (default 5).
	ConnectionFailures int `yaml:"connectionFailures" json:"connectionFailures"`
	// NotifySenderOnReject sends the sender a notice when their message is rejected.
	NotifySenderOnReject bool `yaml:"notifySenderOnReject" json:"notifySenderOnReject"`
	// NotifyUnauthenticatedSenders lets notices to a sender (a rejection,
	// dropped attachments) go out even when the sender's domain did not
	// pass DMARC or aligned SPF in a trusted Authentication-Results
	// header. Off by default: a forged From would get the notice
	// (backscatter).
	NotifyUnauthenticatedSenders bool `yaml:"notifyUnauthenticatedSenders" json:"notifyUnauthenticatedSenders,omitempty"`
	// SenderNoticesPerAddressPerHour caps the notices one address gets
	// from the job in an hour (default 1).
	SenderNoticesPerAddressPerHour int `yaml:"senderNoticesPerAddressPerHour" json:"senderNoticesPerAddressPerHour"`
	// SenderNoticesPerHour caps the notices to senders the job sends in
	// an hour (default 20).
	SenderNoticesPerHour int `yaml:"senderNoticesPerHour" json:"senderNoticesPerHour"`
	// ErrorFolderNotice tells the administrators of each mail moved to
	// the error folder, with the reason and its ledger key (default true).
	ErrorFolderNotice *bool `yaml:"errorFolderNotice" json:"errorFolderNotice,omitempty"`
}

// NoticeOnErrorFolder reports whether the administrators hear of each
// mail moved to the error folder (notifications.errorFolderNotice,
// default true).
func (n Notifications) NoticeOnErrorFolder() bool {
	return n.ErrorFolderNotice == nil || *n.ErrorFolderNotice
}

// Limits bound the work of one run.
type Limits struct {
	// MaxMessagesPerRun (default 1000); the rest waits for the next run.
	MaxMessagesPerRun int `yaml:"maxMessagesPerRun" json:"maxMessagesPerRun"`
	// MaxMessageSize: larger messages are not fetched and are moved to the
	// error folder (default 50MB).
	MaxMessageSize Size `yaml:"maxMessageSize" json:"maxMessageSize"`
	// BatchSize is how many messages one FETCH asks for (default 100).
	BatchSize int `yaml:"batchSize" json:"batchSize"`
	// MaxRunTime stops a run after this long (default 10m); the rest
	// continues in a follow-up run.
	MaxRunTime Duration `yaml:"maxRunTime" json:"maxRunTime"`

	// MaxParts: a message with more MIME parts fails (default 1000).
	MaxParts int `yaml:"maxParts" json:"maxParts"`
	// MaxDepth: multiparts nested deeper are kept as one attachment, with
	// a warning (default 50).
	MaxDepth int `yaml:"maxDepth" json:"maxDepth"`
	// MaxAttachments: attachments past this many are not stored, with a
	// warning; the raw message keeps them (default 100).
	MaxAttachments int `yaml:"maxAttachments" json:"maxAttachments"`
	// MaxHeaderSize: a message whose header block is larger fails
	// (default 512KB).
	MaxHeaderSize Size `yaml:"maxHeaderSize" json:"maxHeaderSize"`
	// MaxDecodedSize: a message whose parts decode to more fails
	// (default 100MB).
	MaxDecodedSize Size `yaml:"maxDecodedSize" json:"maxDecodedSize"`
}

// FieldError is a validation problem in the jobs file.
type FieldError struct {
	Job   string // job id, or "" for the file
	Index int    // position of the job in the file; fileLevel for a key outside jobs
	Field string // field path, e.g. server.port
	Msg   string
}

// fileLevel is the FieldError.Index of a key outside jobs (defaults.…).
const fileLevel = -1

func (e *FieldError) Error() string {
	if e.Index == fileLevel {
		return fmt.Sprintf("%s: %s", e.Field, e.Msg)
	}
	if e.Job == "" {
		return fmt.Sprintf("jobs[%d].%s: %s", e.Index, e.Field, e.Msg)
	}
	return fmt.Sprintf("job %q: %s: %s", e.Job, e.Field, e.Msg)
}

// Errors is every validation problem of a jobs file.
type Errors []*FieldError

func (es Errors) Error() string { return listProblems(es) }

// listProblems writes the problems of a jobs file, one a line.
func listProblems[E error](es []E) string {
	var b strings.Builder
	b.WriteString("invalid jobs file:")
	for _, e := range es {
		b.WriteString("\n  ")
		b.WriteString(e.Error())
	}
	return b.String()
}
