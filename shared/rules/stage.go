package rules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strings"
	"time"

	"mailconnector/shared/blob"
	"mailconnector/shared/event"
	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/message"
	"mailconnector/shared/notify"
	"mailconnector/shared/permanent"
	"mailconnector/shared/preprocess"
	"mailconnector/shared/request"
	"mailconnector/shared/store"
)

// Store is what the rules stage reads and writes.
type Store interface {
	store.Ledger
	store.Requests
	store.Quotas // limits on notices to senders
	store.Outbox // events not yet published
}

// Jobs finds a job's configuration.
type Jobs interface {
	Job(id string) (*job.Job, bool)
}

// StageOptions configure a Stage. Store, Blobs and Jobs are required.
type StageOptions struct {
	Store     Store
	Blobs     blob.Store
	Jobs      Jobs
	Publisher event.Publisher // nil: events are only logged
	// Notifier sends the notices a job asks for once a message has its
	// outcome: dropped attachments (attachments.notifyOnDrop) and a
	// rejected message (notifications.notifySenderOnReject). nil: none.
	Notifier notify.Notifier
	Logger   *slog.Logger
	Now      func() time.Time
	// MaxReplyAttempts bounds how often a reply waits for the message it
	// answers: once the reply's ledger Attempts reach it (preprocessing
	// counts one, each wait of this stage one more, and on AWS the queue
	// handler one per retry), the reply is decided without its original.
	// Default 3, which stays below the queues' receive limits (local 3,
	// AWS 5) so a waiting reply never lands in a dead-letter queue.
	MaxReplyAttempts int
}

// SentNotifier is a Notifier that reports the Message-ID a notice went
// out under, when its transport assigns its own (SES does). The stage
// indexes that ID to the request, so a reply to the notice threads.
type SentNotifier interface {
	NotifySent(ctx context.Context, n notify.Notice) (messageID string, err error)
}

// Stage is the rules stage: it turns one preprocessed message into its outcome.
type Stage struct {
	o      StageOptions
	engine *Engine
	box    outbox
}

// NewStage returns a Stage.
func NewStage(o StageOptions) *Stage {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxReplyAttempts == 0 {
		o.MaxReplyAttempts = 3
	}
	return &Stage{o: o, engine: &Engine{Lookup: o.Store, Now: o.Now}}
}

// PermanentError is an error that retrying cannot fix: the queue consumer
// acknowledges the message and the ledger records the failure.
type PermanentError = permanent.Error

// Handle decides and stores the outcome of the message p points to. It is
// idempotent: a message that already has an outcome is left alone, and the
// outcome is stored in one transaction with the request it makes.
func (s *Stage) Handle(ctx context.Context, p ledger.Pointer) error {
	log := s.o.Logger.With("job", p.JobID, "ledgerKey", p.Key)
	s.publishPending(ctx, log)
	for attempt := 0; ; attempt++ {
		e, err := s.o.Store.Entry(ctx, p.JobID, p.Key)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return &PermanentError{Err: fmt.Errorf("job %s: message %s: not in the ledger", p.JobID, p.Key)}
			}
			return fmt.Errorf("job %s: message %s: read ledger: %w", p.JobID, p.Key, err)
		}
		if e.State.Final() {
			return nil
		}
		if e.State != ledger.Preprocessed {
			return fmt.Errorf("job %s: message %s: not preprocessed yet (state %s)", p.JobID, p.Key, e.State)
		}
		j, ok := s.o.Jobs.Job(p.JobID)
		if !ok {
			return s.fail(ctx, e, "the job is no longer in the jobs file")
		}
		m, err := s.load(ctx, e)
		if err != nil {
			return fmt.Errorf("job %s: message %s: %w", p.JobID, p.Key, err)
		}
		if err := s.waitForOriginal(ctx, e, m); err != nil {
			var w *WaitingError
			if errors.As(err, &w) && w.Ready && depth(ctx) < 4 {
				// The original is preprocessed and waits in this queue,
				// maybe behind this reply: decide it first. Its own
				// delivery later finds it done.
				if herr := s.Handle(deeper(ctx), ledger.Pointer{JobID: p.JobID, Key: w.Original}); herr != nil {
					s.noteWait(ctx, e, err)
					return err
				}
				continue
			}
			// Still being preprocessed: usually a moment away.
			if !s.pause(ctx, 100*time.Millisecond) || attempt > 10 {
				s.noteWait(ctx, e, err)
				return err
			}
			continue
		}
		d, made, err := s.madeAlready(ctx, m)
		if err != nil {
			return fmt.Errorf("job %s: message %s: %w", p.JobID, p.Key, err)
		}
		if made != "" {
			e.RequestID = made
		} else if d, err = s.engine.Decide(ctx, j, m); err != nil {
			return fmt.Errorf("job %s: message %s: decide: %w", p.JobID, p.Key, err)
		}
		out, err := s.commit(ctx, j, e, m, d)
		switch {
		case err == nil:
			log.Debug("message processed", "action", d.Action, "statement", d.Statement, "request", out.Entry.RequestID, "reason", d.Reason)
			s.publish(ctx, j, out.Entry, m, d, out, log)
			s.notices(ctx, j, m, d, out, log)
			return nil
		case errors.Is(err, store.ErrFinal):
			return nil // another delivery of the same pointer got there first
		case errors.Is(err, store.ErrConflict) && attempt < 40:
			continue
		default:
			return fmt.Errorf("job %s: message %s: store outcome: %w", p.JobID, p.Key, err)
		}
	}
}

// madeAlready finds the request that m's own Message-ID already made or
// joined (an earlier copy of the same message, retried or moved back): m
// then makes no second one, and the decision says so.
func (s *Stage) madeAlready(ctx context.Context, m *message.Message) (Decision, string, error) {
	if m.MessageID == "" {
		return Decision{}, "", nil
	}
	r, err := s.o.Store.RequestByMessageID(ctx, m.MessageID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Decision{}, "", nil
	case err != nil:
		return Decision{}, "", fmt.Errorf("look up message id %q: %w", m.MessageID, err)
	}
	reason := fmt.Sprintf("already made request %d (same Message-ID): no second request", r.Number)
	return Decision{Action: Ignore, Reason: reason, Why: []string{reason}}, r.ID, nil
}

type depthKey struct{}

// depth counts originals handled inline ahead of their replies.
func depth(ctx context.Context) int {
	n, _ := ctx.Value(depthKey{}).(int)
	return n
}

func deeper(ctx context.Context) context.Context {
	return context.WithValue(ctx, depthKey{}, depth(ctx)+1)
}

// pause waits d unless ctx ends first.
func (s *Stage) pause(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// WaitingError says a reply arrived before the message it answers, which
// is still in the pipeline: the reply comes back later (its queue's
// visibility timeout) so that it lands on the original's request instead of
// opening a request of its own.
type WaitingError struct {
	MessageID, Original string
	// Ready is true when the original is preprocessed (on the rules queue).
	Ready bool
}

func (e *WaitingError) Error() string {
	return fmt.Sprintf("waiting for the message it answers (%s, ledger key %s) to be processed", e.MessageID, e.Original)
}

// MaxReplyWait bounds how long a reply waits for its original: an original
// stuck longer than this (it will fail and land in the error folder) no
// longer holds the reply back.
const MaxReplyWait = 10 * time.Minute

// waitForOriginal returns a *WaitingError when m answers a message of the
// same job that has no outcome yet and is not already threaded.
func (s *Stage) waitForOriginal(ctx context.Context, e ledger.Entry, m *message.Message) error {
	if e.Attempts >= s.o.MaxReplyAttempts {
		return nil // waited enough: decide without the original
	}
	refs := append(append([]string{}, m.InReplyTo...), m.References...)
	for _, id := range refs {
		if id == "" || id == m.MessageID {
			continue
		}
		if _, err := s.o.Store.RequestByMessageID(ctx, id); err == nil {
			return nil // already threaded: nothing to wait for
		}
		orig, err := s.o.Store.EntryByMessageID(ctx, e.JobID, id)
		if err != nil || orig.Key == e.Key || orig.State.Final() {
			continue
		}
		if s.o.Now().Sub(orig.UpdatedAt) < MaxReplyWait {
			return &WaitingError{MessageID: id, Original: orig.Key, Ready: orig.State == ledger.Preprocessed}
		}
	}
	return nil
}

// noteWait counts a wait on the reply's ledger entry, so that
// MaxReplyAttempts bounds the waiting whoever redelivers the reply. Best
// effort: a conflict means the entry moved on.
func (s *Stage) noteWait(ctx context.Context, e ledger.Entry, cause error) {
	e.Attempts++
	e.Reason = "rules: " + cause.Error()
	// Counted even when ctx ended (a deadline is what ends most waits).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, _ = s.o.Store.Update(ctx, e)
}

// Fail records a failure for a message that could not be processed (its
// queue gave up on it). A message with an outcome is left alone.
func Fail(ctx context.Context, st store.Ledger, now time.Time, p ledger.Pointer, reason string) error {
	for attempt := 0; attempt < 4; attempt++ {
		e, err := st.Entry(ctx, p.JobID, p.Key)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return fmt.Errorf("job %s: message %s: read ledger: %w", p.JobID, p.Key, err)
		}
		if e.State.Final() {
			return nil
		}
		e.State, e.Reason, e.UpdatedAt = ledger.Failed, reason, now
		_, err = st.Update(ctx, e)
		if err == nil || errors.Is(err, store.ErrFinal) {
			return nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("job %s: message %s: record failure: %w", p.JobID, p.Key, err)
		}
	}
	return fmt.Errorf("job %s: message %s: record failure: %w", p.JobID, p.Key, store.ErrConflict)
}

func (s *Stage) fail(ctx context.Context, e ledger.Entry, reason string) error {
	return Fail(ctx, s.o.Store, s.o.Now(), ledger.Pointer{JobID: e.JobID, Key: e.Key}, reason)
}

func (s *Stage) load(ctx context.Context, e ledger.Entry) (*message.Message, error) {
	key := e.NormKey
	if key == "" {
		key = ledger.NormKey(e.JobID, e.Key)
	}
	rc, err := s.o.Blobs.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("read normalized message: %w", err)
	}
	defer rc.Close()
	var m message.Message
	if err := json.NewDecoder(rc).Decode(&m); err != nil {
		return nil, fmt.Errorf("decode normalized message: %w", err)
	}
	return &m, nil
}

func (s *Stage) commit(ctx context.Context, j *job.Job, e ledger.Entry, m *message.Message, d Decision) (store.Outcome, error) {
	now := s.o.Now()
	e.UpdatedAt = now
	// A retry's note (waiting for the original) is no outcome; the
	// warnings are usually recorded by preprocessing already.
	e.Reason = ""
	for _, w := range m.Warnings {
		if !slices.Contains(e.Warnings, w) {
			e.Warnings = append(e.Warnings, w)
		}
	}
	o := store.Outcome{}
	conv := func(reqID string) *request.Conversation {
		text, cutText := request.Cut(m.VisibleText, request.MaxBodyBytes)
		html, cutHTML := request.Cut(m.HTML, request.MaxHTMLBytes)
		if cutHTML {
			html = "" // a cut HTML body would not render; the whole one is in the blob store
		}
		return &request.Conversation{
			ID: ledger.ConversationID(e.JobID, e.Key), RequestID: reqID, JobID: e.JobID,
			From: m.From, Subject: m.Subject, Text: text, HTML: html,
			Attachments: m.Attachments, MessageID: m.MessageID, SourceKey: e.Key,
			NormKey: e.NormKey, Truncated: cutText || cutHTML,
			Warnings: m.Warnings, CreatedAt: now,
		}
	}
	switch d.Action {
	case Create:
		r := NewRequest(j, m, d)
		r.SourceKey, r.CreatedAt, r.UpdatedAt = e.Key, now, now
		o.NewRequest = &r
		o.Conversation = conv("")
		e.State = ledger.Processed
	case Update:
		r, err := s.o.Store.Request(ctx, d.RequestID)
		if err != nil {
			return o, fmt.Errorf("read request %s: %w", d.RequestID, err)
		}
		r.UpdatedAt = now
		r.Participants = addParticipants(r.Participants, m)
		if r.Status == request.Closed && d.Reopen {
			r.Status = request.Open
		}
		o.UpdateRequest = &r
		o.Conversation = conv(r.ID)
		e.State, e.RequestID = ledger.Processed, r.ID
	case Ignore:
		e.State, e.Reason = ledger.Processed, d.Reason
	case Reject:
		e.State, e.Reason = ledger.Rejected, d.Reason
	default:
		return o, fmt.Errorf("unknown action %q", d.Action)
	}
	if o.Conversation != nil {
		e.Conversation = o.Conversation.ID
		if m.MessageID != "" {
			o.MessageIDs = []string{m.MessageID}
		}
		// The notices about this message go out under IDs known now, so
		// a reply to one threads even if the stage stops right after.
		for _, kind := range noticeKinds(j, m, d) {
			o.MessageIDs = append(o.MessageIDs, NoticeMessageID(j, o.Conversation.ID, kind))
		}
	}
	e.Action = d.Action
	e.Decided(d.Statement, d.Why)
	o.Entry = e
	if s.o.Publisher != nil {
		// The event goes to the outbox with the outcome (outbox.go).
		o.Event = func(out store.Outcome) ([]byte, error) {
			return json.Marshal(Event(j, out.Entry, m, d, out, out.Entry.UpdatedAt))
		}
		o.EventClaimedUntil = now.Add(OutboxClaim)
	}
	return s.o.Store.Commit(ctx, o)
}

// NewRequest is the request a Create decision makes of m (without its
// number, ID, source key and times, which the store and the stage set):
// the subject, the visible text, the sender, and the statements' fields.
func NewRequest(j *job.Job, m *message.Message, d Decision) request.Request {
	desc, _ := request.Cut(m.VisibleText, request.MaxBodyBytes)
	r := request.Request{
		JobID: j.ID, Title: m.Subject, Description: desc, Requester: m.From,
		Status: request.Open, MessageID: m.MessageID,
	}
	if strings.TrimSpace(r.Title) == "" {
		r.Title = "(no subject)"
	}
	r.Participants = addParticipants(nil, m)
	for k, v := range d.Fields {
		switch k {
		case "title":
			if strings.TrimSpace(v) != "" {
				r.Title = v
			}
		case "description":
			r.Description, _ = request.Cut(v, request.MaxBodyBytes)
		case "requester":
			r.Requester = parseRequester(v, m)
			r.Participants = addAddress(r.Participants, r.Requester.Address)
		case "priority":
			r.Priority = v
		case "category":
			r.Category = v
		case "queue":
			r.Queue = v
		case "assignee":
			r.Assignee = v
		case "status":
			r.Status = request.Status(v)
		default:
			if name, ok := strings.CutPrefix(k, "custom."); ok {
				if r.Custom == nil {
					r.Custom = map[string]string{}
				}
				r.Custom[name] = v
			}
		}
	}
	return r
}

// parseRequester reads a requester template's result: "Name <addr>" or an
// address; the sender's display name stays when the address is the
// sender's.
func parseRequester(v string, m *message.Message) message.Address {
	v = strings.TrimSpace(v)
	a := message.Address{Address: v}
	if pa, err := mail.ParseAddress(v); err == nil {
		a = message.Address{Name: pa.Name, Address: pa.Address}
	}
	if a.Name == "" && strings.EqualFold(a.Address, m.From.Address) {
		a.Name = m.From.Name
	}
	return a
}

func addAddress(list []string, addr string) []string {
	addr = strings.ToLower(strings.TrimSpace(addr))
	if addr == "" {
		return list
	}
	for _, a := range list {
		if a == addr {
			return list
		}
	}
	return append(list, addr)
}

func addParticipants(list []string, m *message.Message) []string {
	seen := map[string]bool{}
	for _, a := range list {
		seen[a] = true
	}
	add := func(a message.Address) {
		addr := strings.ToLower(a.Address)
		if addr != "" && !seen[addr] {
			seen[addr] = true
			list = append(list, addr)
		}
	}
	add(m.From)
	for _, a := range m.To {
		add(a)
	}
	for _, a := range m.Cc {
		add(a)
	}
	return list
}

// noticeKinds are the notices the stage sends about a message that made a
// request or a conversation: one Message-ID each.
func noticeKinds(j *job.Job, m *message.Message, d Decision) []string {
	var kinds []string
	for _, n := range preprocess.DropNotices(j, m) {
		if n.Admin {
			kinds = append(kinds, "drop-admins")
		} else {
			kinds = append(kinds, "drop-sender")
		}
	}
	return kinds
}

// notices sends what the job asks for, after the outcome is stored: a
// retry finds the outcome and sends nothing again (a crash right here
// loses a notice rather than sending it twice). Notices to the sender
// pass senderNoticeAllowed: no backscatter to a forged From, no loop with
// an autoresponder, and hourly limits.
// A notice about a request carries its token in the subject and a
// Message-ID indexed to it, so a reply to the notice lands on the request.
func (s *Stage) notices(ctx context.Context, j *job.Job, m *message.Message, d Decision, o store.Outcome, log *slog.Logger) {
	if s.o.Notifier == nil {
		return
	}
	var req *request.Request
	switch {
	case o.NewRequest != nil:
		req = o.NewRequest
	case o.UpdateRequest != nil:
		req = o.UpdateRequest
	}
	var out []notify.Notice
	for _, n := range preprocess.DropNotices(j, m) {
		kind, id := notify.Sender, "drop-sender"
		if n.Admin {
			kind, id = "notice", "drop-admins"
		} else if !s.senderNoticeAllowed(ctx, j, m, m.From.Address, log) {
			continue
		}
		no := notify.Notice{Kind: kind, JobID: j.ID, To: n.To, Subject: n.Subject, Body: n.Text, InReplyTo: m.MessageID}
		if req != nil && o.Conversation != nil {
			no.Subject = withToken(j, no.Subject, req.Number)
			no.MessageID = NoticeMessageID(j, o.Conversation.ID, id)
		}
		out = append(out, no)
	}
	if d.Action == Reject && j.Notifications.NotifySenderOnReject && m.From.Address != "" &&
		s.senderNoticeAllowed(ctx, j, m, m.From.Address, log) {
		subject := preprocess.NoticeSubject(m.Subject)
		out = append(out, notify.Notice{Kind: notify.Sender, JobID: j.ID, To: []string{m.From.Address},
			Subject:   "Your message was not accepted: " + subject,
			Body:      fmt.Sprintf("Your message \"%s\" could not be accepted by the helpdesk.\n\nReason: %s\n", subject, preprocess.NoticeText(d.Reason, 500)),
			InReplyTo: m.MessageID})
	}
	for _, n := range out {
		sent, err := s.notify(ctx, n)
		if err != nil {
			log.Error("send notice", "kind", n.Kind, "err", err)
			continue
		}
		if req != nil && sent != "" && sent != n.MessageID {
			if err := s.o.Store.IndexMessageID(ctx, sent, req.ID); err != nil {
				log.Warn("index the Message-ID of a notice", "kind", n.Kind, "err", err)
			}
		}
	}
}

// notify sends n and returns the Message-ID it went out under.
func (s *Stage) notify(ctx context.Context, n notify.Notice) (string, error) {
	if sn, ok := s.o.Notifier.(SentNotifier); ok {
		return sn.NotifySent(ctx, n)
	}
	return n.MessageID, s.o.Notifier.Notify(ctx, n)
}

// withToken appends the request token to a subject that lacks it.
func withToken(j *job.Job, subject string, number int64) string {
	if number <= 0 || TokenPattern(j.Processing.RequestToken).MatchString(subject) {
		return subject
	}
	return subject + " " + Token(j.Processing.RequestToken, number)
}

func (s *Stage) publish(ctx context.Context, j *job.Job, e ledger.Entry, m *message.Message, d Decision, o store.Outcome, log *slog.Logger) {
	if s.o.Publisher == nil {
		return
	}
	ev := Event(j, e, m, d, o, e.UpdatedAt) // as stored in the outbox
	if err := s.o.Publisher.Publish(ctx, ev); err != nil {
		log.Warn("publish event; it stays in the outbox for a later attempt", "type", ev.Type, "err", err)
		return
	}
	if o.OutboxID != "" {
		if err := s.o.Store.DeleteOutbox(ctx, o.OutboxID); err != nil {
			log.Warn("clear a published event from the outbox", "type", ev.Type, "err", err)
		}
	}
}

// Event is the event published for a stored outcome (schema in
// events/README.md), cut to fit EventBridge (event.Fit).
func Event(j *job.Job, e ledger.Entry, m *message.Message, d Decision, o store.Outcome, now time.Time) event.Event {
	ev := event.Event{Time: now, JobID: j.ID, LedgerKey: e.Key, MessageID: m.MessageID,
		From: m.From.Address, Subject: m.Subject, Statement: d.Statement, Reason: d.Reason, NormKey: e.NormKey}
	var r *request.Request
	switch d.Action {
	case Create:
		ev.Type, r = event.RequestCreated, o.NewRequest
	case Update:
		ev.Type, r = event.ConversationAdded, o.UpdateRequest
		ev.ThreadedBy, ev.Reopened = d.ThreadedBy, d.Reopen
	case Reject:
		ev.Type = event.MessageRejected
	default:
		ev.Type = event.MessageIgnored
		if m.Bounce != nil && (m.AutoGenerated == message.Bounce || m.AutoGenerated == message.Feedback) {
			// The request whose mail bounced (Decide looked it up).
			ev.Type, ev.RequestID, ev.RequestNumber = event.BounceReceived, d.RequestID, d.RequestNumber
		}
	}
	if b := m.Bounce; b != nil {
		ev.Bounce = &event.Bounce{Class: m.AutoGenerated, Recipient: b.Recipient, Status: b.Status, Reason: b.Reason,
			Diagnostic: b.Diagnostic, OriginalMessageID: b.OriginalMessageID, FeedbackType: b.FeedbackType}
	}
	if r == nil {
		return event.Fit(ev)
	}
	ev.RequestID, ev.RequestNumber = r.ID, r.Number
	if o.Conversation != nil {
		ev.ConversationID = o.Conversation.ID
	}
	ev.Request = &event.Request{
		Title: r.Title, Status: string(r.Status), Requester: event.Address{Name: r.Requester.Name, Address: r.Requester.Address},
		Priority: r.Priority, Category: r.Category, Queue: r.Queue, Assignee: r.Assignee,
		Custom: r.Custom, Participants: r.Participants,
	}
	ev.Text, ev.TextTruncated = request.Cut(m.VisibleText, event.MaxText)
	for _, a := range m.Attachments {
		ev.Attachments = append(ev.Attachments, event.Attachment{Filename: a.Filename, ContentType: a.ContentType,
			Size: a.Size, BlobKey: a.BlobKey, SHA256: a.SHA256, Inline: a.Inline, Dropped: a.Dropped})
	}
	return event.Fit(ev)
}
