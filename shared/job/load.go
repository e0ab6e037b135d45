package job

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"mailconnector/shared/lazyre"
)

// Defaults applied by Load where the jobs file is silent.
const (
	DefaultFolder             = "INBOX"
	DefaultErrorFolder        = "Connector Errors"
	DefaultEvery              = 5 * time.Minute
	DefaultTimeout            = 30 * time.Second
	DefaultMaxMessagesPerRun  = 1000
	DefaultMaxMessageSize     = 50 << 20
	DefaultBatchSize          = 100
	DefaultMaxRunTime         = 10 * time.Minute
	DefaultAttachmentMaxSize  = 25 << 20
	DefaultConnectionFailures = 5
	DefaultRequestToken       = "[REQ-{number}]"
	DefaultNoticeDomain       = "mail-connector.invalid"
)

// DefaultSenderNoticesPerAddressPerHour and DefaultSenderNoticesPerHour
// bound the notices to senders: one an hour to an address, twenty an hour
// from a job.
const (
	DefaultSenderNoticesPerAddressPerHour = 1
	DefaultSenderNoticesPerHour           = 20
)

// BuiltinPreprocessRules are the names of the built-in preprocessing rules,
// in their default order.
// The order matters: client-specific rules cut at the markup or header
// block their client writes; the language-generic reply-headers rule cuts
// at header blocks and attributions any client writes; inline-replies keeps
// interleaved answers with their context; the signature rules and finally
// quoted-lines remove what is left. shared/preprocess implements each name.
var BuiltinPreprocessRules = []string{
	"outlook", "gmail", "apple", "thunderbird", "yahoo", "protonmail", "zoho",
	"reply-headers", "inline-replies", "android", "mobile-signatures",
	"signature-delimiter", "quoted-lines",
}

// LoadFile reads and validates a jobs file.
func LoadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read jobs file: %w", err)
	}
	f, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if st, err := os.Stat(path); err == nil {
		// A trace switched on without debug.until was switched on when
		// the file was last written.
		f.stampTrace(st.ModTime())
	}
	return f, nil
}

// Parse decodes a jobs file, applies defaults and validates every job.
// Unknown keys are errors, so a typo never silently turns a feature off.
func Parse(b []byte) (*File, error) {
	doc, err := parseNode(b)
	if err != nil {
		return nil, fmt.Errorf("decode jobs file: %w", err)
	}
	if ks := unknownKeys(doc, reflect.TypeFor[File](), ""); len(ks) > 0 {
		return nil, ks
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var f File
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("jobs file is empty")
		}
		return nil, fmt.Errorf("decode jobs file: %w", err)
	}
	zeros := append(explicitZeros(doc), defaultZeros(doc)...)
	if err := f.Validate(); err != nil {
		var es Errors
		if errors.As(err, &es) {
			return nil, append(zeros, es...)
		}
		return nil, err
	}
	if len(zeros) > 0 {
		return nil, zeros
	}
	return &f, nil
}

// validJobID reports whether id is 1–63 lower-case letters, digits and
// hyphens, not starting with a hyphen. (A loop rather than a regular
// expression: compiling a bounded repetition builds one copy of its
// class per bound, and the jobs file is checked at every process start.)
func validJobID(id string) bool {
	if len(id) == 0 || len(id) > 63 || id[0] == '-' {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Validate applies defaults and checks every job, returning Errors with the
// job id and field path of each problem.
func (f *File) Validate() error {
	var errs Errors
	if len(f.Jobs) == 0 {
		errs = append(errs, &FieldError{Index: 0, Field: "jobs", Msg: "at least one job is required"})
		return errs
	}
	seen := map[string]bool{}
	f.applyNetworkDefaults()
	f.applyRetentionDefaults()
	errs = append(errs, f.checkDefaultRetention()...)
	for i := range f.Jobs {
		j := &f.Jobs[i]
		add := func(field, format string, args ...any) {
			errs = append(errs, &FieldError{Job: j.ID, Index: i, Field: field, Msg: fmt.Sprintf(format, args...)})
		}
		switch {
		case j.ID == "":
			add("id", "required")
		case !validJobID(j.ID):
			add("id", "%q must be 1-63 lower-case letters, digits or hyphens, starting with a letter or digit", j.ID)
		case seen[j.ID]:
			add("id", "duplicate job id")
		}
		seen[j.ID] = true
		j.applyDefaults()
		j.validate(add)
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func (j *Job) applyDefaults() {
	orDefault(&j.Name, j.ID)
	s := &j.Server
	orDefault(&s.Folder, DefaultFolder)
	orDefault(&s.Timeout, Duration(DefaultTimeout))
	orDefault(&s.Auth.Method, AuthPassword)
	if s.Protocol == Graph {
		orDefault(&s.Cloud, CloudGlobal)
		orDefault(&s.Security, SecurityTLS)
	}
	if s.Protocol == EWS {
		orDefault(&s.Security, SecurityTLS)
	}
	if s.Protocol != EWS || s.Host != "" {
		// An ews job without a host takes its URL from server.ews.
		orDefault(&s.Port, DefaultPort(s.Protocol, s.Security))
	}
	if j.Schedule.Expression == "" && j.Schedule.Every == 0 && j.Schedule.At == "" {
		j.Schedule.Every = Duration(DefaultEvery)
	}
	if j.Schedule.Occurrence == "" && j.Schedule.Expression == "" {
		j.Schedule.Occurrence = "daily"
	}
	in := &j.Incoming
	orDefault(&in.OnSuccess, MarkRead)
	if in.OnError.Action == "" {
		in.OnError.Action = Move
		if s.Protocol == POP3 {
			// POP3 has no folders: a failed or rejected message stays on
			// the server (its UIDL in the ledger keeps it from being
			// fetched again) unless the job says delete.
			in.OnError.Action = Leave
		}
	}
	orDefault(&in.OnError.Folder, DefaultErrorFolder)
	orDefault(&j.Processing.RequestToken, DefaultRequestToken)
	orDefault(&j.Processing.OnMerged, "follow")
	orDefault(&j.Processing.NoticeMessageIDDomain, DefaultNoticeDomain)

	orDefault(&j.Attachments.MaxSize, DefaultAttachmentMaxSize)
	if j.Attachments.DropEmpty == nil {
		t := true
		j.Attachments.DropEmpty = &t
	}
	orDefault(&j.Notifications.ConnectionFailures, DefaultConnectionFailures)
	orDefault(&j.Notifications.SenderNoticesPerAddressPerHour, DefaultSenderNoticesPerAddressPerHour)
	orDefault(&j.Notifications.SenderNoticesPerHour, DefaultSenderNoticesPerHour)
	l := &j.Limits
	orDefault(&l.MaxMessagesPerRun, DefaultMaxMessagesPerRun)
	orDefault(&l.MaxMessageSize, DefaultMaxMessageSize)
	orDefault(&l.BatchSize, DefaultBatchSize)
	orDefault(&l.MaxRunTime, Duration(DefaultMaxRunTime))
	l.applyMessageDefaults()
}

// orDefault sets *v to def when it is zero (left out of the jobs file).
func orDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// DefaultPort is the well-known port of a protocol and security mode.
func DefaultPort(p Protocol, sec Security) int {
	switch p {
	case IMAP:
		if sec == SecurityTLS {
			return 993
		}
		return 143
	case POP3:
		if sec == SecurityTLS {
			return 995
		}
		return 110
	case Graph, EWS:
		return 443
	}
	return 0
}

// The Microsoft clouds a graph job can name in server.cloud.
const (
	CloudGlobal   = "global"
	CloudUSGov    = "usgov"
	CloudUSGovDoD = "usgovdod"
	CloudChina    = "china"
)

func (j *Job) validateGraph(add func(field, format string, args ...any)) {
	s := &j.Server
	if strings.TrimSpace(s.Mailbox) == "" {
		add("server.mailbox", "required for graph: the user id or address of the mailbox")
	} else if strings.ContainsAny(s.Mailbox, " /?#") {
		add("server.mailbox", "%q is not a user id or address", s.Mailbox)
	}
	switch s.Cloud {
	case CloudGlobal, CloudUSGov, CloudUSGovDoD, CloudChina:
	default:
		add("server.cloud", "%q is not one of global, usgov, usgovdod, china", s.Cloud)
	}
	if s.Endpoint != "" {
		u, err := url.Parse(s.Endpoint)
		switch {
		case err != nil || u.Host == "":
			add("server.endpoint", "%q is not a URL", s.Endpoint)
		case u.Scheme == "https":
		case u.Scheme == "http" && isLoopback(u.Hostname()):
		default:
			add("server.endpoint", "%q: use https (plain http only for loopback addresses)", s.Endpoint)
		}
	}
	if s.Auth.Method != AuthOAuth2 {
		add("server.auth.method", "graph signs in with oauth2 only, not %q", s.Auth.Method)
	}
	switch {
	case s.Security == SecurityTLS:
	case s.Security == SecurityNone && s.Host != "" && isLoopback(s.Host):
		// A local proxy or test server.
	default:
		add("server.security", "graph uses tls (none only for a loopback server.host), not %q", s.Security)
	}
	if s.Host != "" && strings.ContainsAny(s.Host, " /") {
		add("server.host", "%q is not a host name or address", s.Host)
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validSecretName reports whether name is 1–512 ASCII letters, digits
// and /_+=.@- (a loop, as validJobID).
func validSecretName(name string) bool {
	if len(name) == 0 || len(name) > 512 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("/_+=.@-", c) >= 0) {
			return false
		}
	}
	return true
}

func (j *Job) validate(add func(field, format string, args ...any)) {
	s := &j.Server
	switch s.Protocol {
	case IMAP, POP3, Graph, EWS:
	case "":
		add("server.protocol", "required: one of imap, pop3, graph, ews")
	default:
		if strings.EqualFold(string(s.Protocol), "mapi") {
			add("server.protocol", "MAPI over HTTP is not supported: it is Outlook's own RPC protocol; Exchange Online and Exchange 2013 and later also serve EWS, Graph and IMAP (see the README, section \"MAPI\")")
		} else {
			add("server.protocol", "%q is not one of imap, pop3, graph, ews", s.Protocol)
		}
	}
	switch s.Protocol {
	case IMAP, POP3:
		if s.Host == "" {
			add("server.host", "required")
		} else if strings.ContainsAny(s.Host, " /") {
			add("server.host", "%q is not a host name or address", s.Host)
		}
		switch s.Security {
		case SecurityNone, SecuritySTARTTLSIfAvailable, SecuritySTARTTLS, SecurityTLS:
		case "":
			add("server.security", "required: one of none, starttls-if-available, starttls, tls")
		default:
			add("server.security", "%q is not one of none, starttls-if-available, starttls, tls", s.Security)
		}
	}
	validateMinTLS(s, add)
	j.validateNetwork(add)
	if s.Protocol == EWS {
		j.validateEWS(add)
	} else if s.EWS != nil {
		add("server.ews", "only for protocol ews")
	}
	if s.Protocol == Graph {
		j.validateGraph(add)
	} else {
		if s.Mailbox != "" {
			add("server.mailbox", "only for protocol graph")
		}
		if s.Cloud != "" {
			add("server.cloud", "only for protocol graph")
		}
		if s.Endpoint != "" {
			add("server.endpoint", "only for protocol graph")
		}
		if j.Push.Enabled {
			add("push.enabled", "only for protocol graph: other protocols are polled on the schedule")
		}
	}
	if strings.TrimSpace(s.Folder) != s.Folder || strings.ContainsAny(s.Folder, "*%\r\n") {
		add("server.folder", "%q is not a folder name", s.Folder)
	}
	if s.CAFile != "" {
		if msg := checkCAFile(s.CAFile); msg != "" {
			add("server.caFile", "%s", msg)
		}
	}
	switch s.Auth.Method {
	case AuthPassword:
		switch strings.ToLower(s.Auth.Mechanism) {
		case "", "login", "plain":
		default:
			add("server.auth.mechanism", "%q is not one of login, plain", s.Auth.Mechanism)
		}
	case AuthSPA:
		switch strings.ToLower(s.Auth.Mechanism) {
		case "", "ntlm":
		default:
			add("server.auth.mechanism", "%q is not ntlm (the one mechanism of spa)", s.Auth.Mechanism)
		}
	case AuthOAuth2:
		switch strings.ToLower(s.Auth.Mechanism) {
		case "", "xoauth2", "oauthbearer":
		default:
			add("server.auth.mechanism", "%q is not one of xoauth2, oauthbearer", s.Auth.Mechanism)
		}
	default:
		add("server.auth.method", "%q is not one of password, spa, oauth2", s.Auth.Method)
	}
	if s.Protocol == POP3 && s.Folder != "" && !strings.EqualFold(s.Folder, DefaultFolder) {
		add("server.folder", "POP3 has one mailbox, the inbox: leave folder empty (or INBOX), not %q", s.Folder)
	}
	if s.Protocol == POP3 && j.Incoming.OnSuccess == Move {
		add("incoming.onSuccess", "POP3 has no folders to move mail to: use markRead (delete once processed), delete or leave")
	}
	if s.Protocol == POP3 && j.Incoming.OnError.Action == Move {
		add("incoming.onError.action", "POP3 has no folders to move failed mail to: use leave (the default: keep it on the server) or delete (once its outcome is recorded)")
	}
	if s.Protocol != POP3 && j.Incoming.KeepOnServer {
		add("incoming.keepOnServer", "only for POP3 (other protocols keep mail unless onSuccess is delete)")
	}
	if s.Auth.Secret == "" {
		add("server.auth.secret", "required: the name of the secret that holds the credentials")
	} else if !validSecretName(s.Auth.Secret) {
		add("server.auth.secret", "%q is not a secret name (letters, digits and /_+=.@-)", s.Auth.Secret)
	}

	if err := j.Schedule.Validate(); err != nil {
		add("schedule."+err.Field, "%s", err.Msg)
	}

	in := &j.Incoming
	switch in.OnSuccess {
	case MarkRead, Delete, Leave:
	case Move:
		if in.MoveTo == "" {
			add("incoming.moveTo", "required when onSuccess is move")
		}
	default:
		add("incoming.onSuccess", "%q is not one of markRead, delete, move, leave", in.OnSuccess)
	}
	switch in.OnError.Action {
	case Move, MarkRead, Delete, Leave:
	default:
		add("incoming.onError.action", "%q is not one of move, markRead, delete, leave", in.OnError.Action)
	}
	checkFolder("incoming.moveTo", in.MoveTo, add)
	checkFolder("incoming.onError.folder", in.OnError.Folder, add)

	for i, r := range j.Preprocessing.Rules {
		field := fmt.Sprintf("preprocessing.rules[%d]", i)
		n := 0
		if r.Builtin != "" {
			n++
			if !contains(BuiltinPreprocessRules, r.Builtin) {
				add(field+".builtin", "%q is not a built-in rule (%s)", r.Builtin, strings.Join(BuiltinPreprocessRules, ", "))
			}
		}
		if r.RegexRemove != "" {
			n++
			if _, err := regexp.Compile(r.RegexRemove); err != nil {
				add(field+".regexRemove", "%v", err)
			}
		}
		if r.CutBelow != "" {
			n++
			if _, err := regexp.Compile(r.CutBelow); err != nil {
				add(field+".cutBelow", "%v", err)
			}
		}
		if n != 1 {
			add(field, "set exactly one of builtin, regexRemove, cutBelow")
		}
	}

	p := &j.Processing
	names := map[string]int{}
	for i, st := range p.Statements {
		field := fmt.Sprintf("processing.statements[%d]", i)
		switch st.Action {
		case "create", "update", "ignore", "reject", "stop":
		default:
			add(field+".action", "%q is not one of create, update, ignore, reject, stop", st.Action)
		}
		if st.Name != "" {
			if k, dup := names[st.Name]; dup {
				add(field+".name", "%q is also the name of statements[%d]; names must be unique (the dry run and the events name the statement)", st.Name, k)
			} else {
				names[st.Name] = i
			}
		}
		if st.When != nil {
			validateCondition(field+".when", st.When, add)
		}
		for k := range st.Set {
			if !contains(RequestFields, k) && !strings.HasPrefix(k, "custom.") {
				add(field+".set."+k, "not a request field (%s, or custom.NAME)", strings.Join(RequestFields, ", "))
			} else if name, ok := strings.CutPrefix(k, "custom."); ok && name == "" {
				add(field+".set."+k, "custom. needs a field name, e.g. custom.contract")
			}
			if err := validTemplate(st.Set[k]); err != "" {
				add(field+".set."+k, "%s", err)
			}
		}
		if len(st.Set) > 0 && (st.Action == "ignore" || st.Action == "reject" || st.Action == "update") {
			add(field+".set", "sets request fields, but %s makes no request (set applies to create, and to stop and continue ahead of one)", st.Action)
		}
		if st.Reason != "" && st.Action != "reject" && st.Action != "ignore" {
			add(field+".reason", "applies to reject and ignore only")
		}
		if st.Continue && st.Action == "stop" {
			add(field+".continue", "stop ends the evaluation; continue cannot go on")
		}
		if st.Reopen != nil && st.Action != "update" && st.Action != "create" {
			add(field+".reopen", "applies to update and create only")
		}
	}
	for i, a := range p.AllowNewRequestsFrom {
		if !validAddressPattern(a) {
			add(fmt.Sprintf("processing.allowNewRequestsFrom[%d]", i), "%q is not an address or *@domain", a)
		}
	}
	switch p.OnMerged {
	case "follow", "create":
	default:
		add("processing.onMerged", "%q is not one of follow, create", p.OnMerged)
	}
	if !strings.Contains(p.RequestToken, "{number}") {
		add("processing.requestToken", "%q must contain {number}", p.RequestToken)
	} else if strings.Count(p.RequestToken, "{number}") > 1 {
		add("processing.requestToken", "%q must contain {number} once", p.RequestToken)
	}
	if !domainPattern.MatchString(p.NoticeMessageIDDomain) {
		add("processing.noticeMessageIdDomain", "%q is not a domain name", p.NoticeMessageIDDomain)
	}
	for i, id := range p.TrustedAuthServIDs {
		if id == "" || strings.ContainsAny(id, " ;\t") {
			add(fmt.Sprintf("processing.trustedAuthServIds[%d]", i), "%q is not an authserv-id (a host name such as mx.example.com)", id)
		}
	}

	a := &j.Attachments
	if len(a.AllowExtensions) > 0 && len(a.BlockExtensions) > 0 {
		add("attachments", "set allowExtensions or blockExtensions, not both")
	}
	for _, list := range []struct {
		name string
		exts []string
	}{{"allowExtensions", a.AllowExtensions}, {"blockExtensions", a.BlockExtensions}} {
		for i, e := range list.exts {
			e = strings.TrimPrefix(strings.TrimSpace(e), ".")
			if e == "" || strings.ContainsAny(e, "./\\ *?") {
				add(fmt.Sprintf("attachments.%s[%d]", list.name, i), "%q is not a file extension (such as pdf or .pdf)", list.exts[i])
			}
		}
	}
	if a.NotifyOnDrop.Admins && len(j.Notifications.Admins) == 0 {
		add("attachments.notifyOnDrop.admins", "needs notifications.admins")
	}
	for i, addr := range j.Notifications.Admins {
		if _, err := mail.ParseAddress(addr); err != nil {
			add(fmt.Sprintf("notifications.admins[%d]", i), "%q is not an address", addr)
		}
	}
	j.checkFields(add)
}

// RequestFields are the request fields a statement may set.
var RequestFields = []string{"title", "description", "requester", "priority", "category", "queue", "assignee", "status"}

// ConditionFields are the message fields a condition may test.
var ConditionFields = []string{"from", "to", "cc", "replyTo", "recipients", "subject", "text", "header", "attachmentName", "attachmentType", "autoGenerated", "size", "spf", "dkim", "dmarc", "from.nameLooksLikeAddress", "suspicious", "bounce.reason", "bounce.recipient", "bounce.status"}

// AddressFields are the ConditionFields that hold addresses; each takes a
// part after a dot: from.address, from.name, from.domain.
var AddressFields = []string{"from", "to", "cc", "replyTo", "recipients"}

// AddressParts are the parts of an address field a condition may test.
var AddressParts = []string{"address", "name", "domain"}

// ConditionOps are the condition operators.
var ConditionOps = []string{"equals", "contains", "startsWith", "endsWith", "regex", "in", "greaterThan", "lessThan"}

// TemplateNames are the placeholders a request field template may use,
// besides {{header:NAME}}.
var TemplateNames = []string{"subject", "from", "from.name", "from.domain", "to", "cc", "replyTo", "text", "messageId", "date"}

var domainPattern = lazyre.New(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$`)

var placeholder = lazyre.New(`\{\{\s*([^{}]*?)\s*\}\}`)

// validTemplate returns "" or what is wrong with a field template.
func validTemplate(t string) string {
	for _, m := range placeholder.FindAllStringSubmatch(t, -1) {
		name := m[1]
		if h, ok := strings.CutPrefix(name, "header:"); ok {
			if h == "" {
				return "{{header:}} needs a header name, e.g. {{header:X-Customer}}"
			}
			continue
		}
		if !contains(TemplateNames, name) {
			return fmt.Sprintf("{{%s}} is not one of {{%s}} or {{header:NAME}}", name, strings.Join(TemplateNames, "}}, {{"))
		}
	}
	return ""
}

func validateCondition(field string, c *Condition, add func(field, format string, args ...any)) {
	kinds := 0
	if c.Field != "" {
		kinds++
		name := c.Field
		if h, ok := strings.CutPrefix(name, "header:"); ok {
			name = "header"
			if h == "" {
				add(field+".field", "header: needs a header name, e.g. header:X-Priority")
			}
		} else if base, part, ok := strings.Cut(name, "."); ok && !contains(ConditionFields, name) {
			name = base
			if !contains(AddressFields, base) || !contains(AddressParts, part) {
				add(field+".field", "%q: only %s take a part (.address, .name, .domain)", c.Field, strings.Join(AddressFields, ", "))
			}
		}
		if !contains(ConditionFields, name) {
			add(field+".field", "%q is not one of %s (or header:NAME; FIELD.address, .name, .domain for addresses)", c.Field, strings.Join(ConditionFields, ", "))
		}
		if !contains(ConditionOps, c.Op) {
			add(field+".op", "%q is not one of %s", c.Op, strings.Join(ConditionOps, ", "))
		}
		switch c.Op {
		case "regex":
			if _, err := regexp.Compile(c.Value); err != nil {
				add(field+".value", "%v", err)
			}
		case "in":
			if len(c.Values) == 0 {
				add(field+".values", "required with op in")
			}
			if c.Value != "" {
				add(field+".value", "op in takes values: [...], not value")
			}
		case "greaterThan", "lessThan":
			v := c.Value
			if c.Field == "size" {
				if _, err := ParseSize(v); err != nil {
					add(field+".value", "%q is not a size (bytes, or 10KB, 25MB)", v)
				}
			} else if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
				add(field+".value", "%q is not a number", v)
			}
		}
		if c.Op != "in" && len(c.Values) > 0 {
			add(field+".values", "applies to op in only (use value)")
		}
	}
	if len(c.All) > 0 {
		kinds++
		for i := range c.All {
			validateCondition(fmt.Sprintf("%s.all[%d]", field, i), &c.All[i], add)
		}
	}
	if len(c.Any) > 0 {
		kinds++
		for i := range c.Any {
			validateCondition(fmt.Sprintf("%s.any[%d]", field, i), &c.Any[i], add)
		}
	}
	if c.Not != nil {
		kinds++
		validateCondition(field+".not", c.Not, add)
	}
	if kinds != 1 {
		add(field, "set exactly one of field, all, any, not")
	}
}

func validAddressPattern(a string) bool {
	if d, ok := strings.CutPrefix(a, "*@"); ok {
		return d != "" && !strings.ContainsAny(d, "@ ")
	}
	_, err := mail.ParseAddress(a)
	return err == nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
