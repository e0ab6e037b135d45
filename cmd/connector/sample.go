package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"mailconnector/shared/iocount"
	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/pop3box"
	"mailconnector/shared/message"
	"mailconnector/shared/preprocess"
	"mailconnector/shared/rules"
)

// sampleOptions are the flags of `connector sample`.
type sampleOptions struct {
	newest bool   // the newest message of the folder, not the oldest
	id     string // one message by its source id (--uid)
	save   string // write the raw message to this file
	force  bool   // let save overwrite an existing file
	rules  bool   // add the processing statements' dry-run decision
	json   bool   // print JSON instead of "field: value" lines
}

func newSampleCmd(a *app) *cobra.Command {
	var o sampleOptions
	cmd := command("sample JOB [--newest | --uid ID] [--save FILE.eml [--force]] [--rules] [--json] [--jobs FILE] [--state DIR] [--aws]",
		"show one message of a job's folder (the oldest unless told) and what the statements would do with it; changes nothing", exactArgs(1),
		func(cmd *cobra.Command, args []string) error {
			switch {
			case o.newest && o.id != "":
				return &exitError{code: 2, msg: "connector sample: --newest and --uid both choose the message; give one of them\nusage: " + cmd.UseLine()}
			case o.force && o.save == "":
				return &exitError{code: 2, msg: "connector sample: --force only applies to --save FILE.eml\nusage: " + cmd.UseLine()}
			case cmd.Flags().Changed("uid") && strings.TrimSpace(o.id) == "":
				return &exitError{code: 2, msg: "connector sample: --uid needs the message's id\nusage: " + cmd.UseLine()}
			}
			return cmdSample(cmd.Context(), &a.common, args[0], o, a.stdout)
		})
	f := cmd.Flags()
	f.BoolVar(&o.newest, "newest", false, "the newest message of the folder instead of the oldest")
	f.StringVar(&o.id, "uid", "", "one message by its id in the mailbox: the IMAP UID, the POP3 UIDL, the Graph or EWS item id (as the id line shows it), or its ledger key")
	f.StringVar(&o.save, "save", "", "write the raw message to FILE.eml, byte for byte and whole (also over POP3, where the preview is cut), mode 0600")
	f.BoolVar(&o.force, "force", false, "let --save overwrite an existing file")
	f.BoolVar(&o.rules, "rules", false, "dry-run the job's processing statements on the message and show their decision")
	f.BoolVar(&o.json, "json", false, "print one JSON object")
	return cmd
}

// sample is one message of a job's folder as `connector sample` shows it.
type sample struct {
	item mailbox.Item
	// which says how it was chosen: "the oldest of 3 messages".
	which string
	m     *message.Message
	// whole is set when the message was read whole (--save, --rules);
	// previewer when the session could have cut it (POP3 TOP).
	whole, previewer bool
	saved            *savedRaw
	decision         *dryRun
}

// savedRaw is the raw message written by --save.
type savedRaw struct {
	File string `json:"file"`
	Size int64  `json:"size"`
}

// cmdSample shows one message of a job's folder: by default the oldest,
// previewed where the session can (POP3 TOP, samplePreviewLines body
// lines), else fetched whole. It changes nothing on the server or in the
// state: the fetch does not mark the message read, and the statements'
// decision is a dry run against the state opened read-only.
func cmdSample(ctx context.Context, c *common, id string, o sampleOptions, stdout io.Writer) error {
	var raw *rawFile
	if o.save != "" {
		// Before connecting: a file in the way is said at once.
		var err error
		if raw, err = createRawFile(o.save, o.force); err != nil {
			return err
		}
		defer raw.discard()
	}
	j, sess, done, err := openJob(ctx, c, id)
	if err != nil {
		return err
	}
	folder := sess.Info().Folder
	s, err := takeSample(ctx, j, sess, o, raw)
	// The session and the state close before the statements' lookup
	// opens the state again, read-only.
	done()
	if err != nil {
		return err
	}
	if s == nil {
		if raw != nil {
			return &exitError{code: 1, msg: fmt.Sprintf("job %s: the folder %s is empty; nothing saved to %s", j.ID, folder, o.save)}
		}
		fmt.Fprintf(stdout, "job %s: the folder %s is empty\n", j.ID, folder)
		return nil
	}
	if o.rules {
		lookup, closeLookup, err := c.dryRunLookup(ctx)
		if err != nil {
			return err
		}
		d, err := dryRunDecide(ctx, lookup, j, s.m)
		closeLookup()
		if err != nil {
			return fmt.Errorf("job %s: %w", j.ID, err)
		}
		s.decision = &d
	}
	if o.json {
		return writeSampleJSON(stdout, s)
	}
	_, err = io.WriteString(stdout, sampleText(j, folder, s))
	return err
}

// takeSample picks the message and reads it; nil when the folder is
// empty (and no id was asked for). With raw, the message is fetched whole
// and written to it as it streams.
func takeSample(ctx context.Context, j *job.Job, sess mailbox.Session, o sampleOptions, raw *rawFile) (*sample, error) {
	scan, err := sess.Scan(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("job %s: list messages: %w", j.ID, err)
	}
	s := &sample{}
	items := scan.Items
	switch {
	case o.id != "":
		want := strings.TrimSpace(o.id)
		found := false
		for _, it := range items {
			if sourceID(it.Source) == want || it.Source.Key() == want {
				s.item, found = it, true
				break
			}
		}
		if !found {
			info := sess.Info()
			return nil, &exitError{code: 1, msg: fmt.Sprintf("job %s: no message with %s %q in the folder %s (%s)", j.ID, idName(info.Protocol), want, info.Folder, countMessages(len(items)))}
		}
		s.which = fmt.Sprintf("the message with %s %s", idName(s.item.Source.Protocol), want)
	case len(items) == 0:
		return nil, nil
	case len(items) == 1:
		s.item, s.which = items[0], "the only message"
	case o.newest:
		s.item = items[len(items)-1]
		s.which = "the newest of " + countMessages(len(items))
	default:
		s.item = items[0]
		s.which = "the oldest of " + countMessages(len(items))
	}
	// read preprocesses a body and reads it to the end, through raw when
	// saving: the file holds the whole message, also what preprocessing
	// left unread, and also a message it could not read (that file is
	// the one to look at).
	var perr error
	var n int64
	read := func(body io.Reader) error {
		cr := &iocount.Reader{R: body}
		var r io.Reader = cr
		if raw != nil {
			r = io.TeeReader(cr, raw)
		}
		s.m, perr = preprocess.Process(ctx, r, &preprocess.Options{Job: j})
		_, err := io.Copy(io.Discard, r)
		n = cr.N
		return err
	}
	// Where the session previews (POP3 TOP), the header and the first
	// lines are enough for a look, and a large message is not downloaded
	// whole. Saving it or deciding on it takes all of it: TOP with every
	// line, which unlike RETR does not count as retrieving the message
	// (Dovecot, for one, marks a retrieved message seen).
	s.whole = raw != nil || o.rules
	lines := samplePreviewLines
	if s.whole {
		lines = math.MaxInt32
	}
	p, preview := sess.(mailbox.Previewer)
	if preview {
		err = p.Preview(ctx, s.item, lines, read)
		var pe *pop3box.Error
		if errors.As(err, &pe) {
			// TOP is optional (RFC 1939 section 7), and refused before
			// any byte of the message: retrieve it.
			preview = false
			raw.reset()
		} else if err != nil {
			return nil, fmt.Errorf("job %s: preview %s: %w", j.ID, s.item.Source, err)
		}
	}
	if !preview {
		err = sess.Fetch(ctx, []mailbox.Item{s.item}, func(it mailbox.Item, body io.Reader) error {
			if body == nil {
				return fmt.Errorf("message %s vanished", it.Source)
			}
			return read(body)
		})
		if err != nil {
			return nil, fmt.Errorf("job %s: fetch %s: %w", j.ID, s.item.Source, err)
		}
	}
	if raw != nil {
		if err := raw.keep(); err != nil {
			return nil, err
		}
		s.saved = &savedRaw{File: raw.path, Size: raw.n}
	}
	if perr != nil {
		if raw != nil {
			return nil, fmt.Errorf("job %s: preprocess %s (saved whole to %s): %w", j.ID, s.item.Source, raw.path, perr)
		}
		return nil, fmt.Errorf("job %s: preprocess %s: %w", j.ID, s.item.Source, perr)
	}
	switch {
	case !preview || n >= s.item.Size:
	case s.whole:
		s.m.Warnings = append(s.m.Warnings, fmt.Sprintf("the server sent %d of the %d bytes it lists for the message (POP3 TOP)", n, s.item.Size))
	default:
		s.m.Warnings = append(s.m.Warnings, fmt.Sprintf("preview: the header and the first %d lines of the body (POP3 TOP); the text and attachments after them are not shown (--save or --rules retrieve it whole)", samplePreviewLines))
	}
	s.previewer = preview
	return s, nil
}

// sourceID is the id --uid takes: the IMAP UID, else the POP3 UIDL or
// the Graph or EWS item id.
func sourceID(src ledger.Source) string {
	if src.Protocol == "imap" {
		return strconv.FormatUint(uint64(src.UID), 10)
	}
	return src.ID
}

// countMessages counts messages in words: "1 message", "3 messages".
func countMessages(n int) string {
	if n == 1 {
		return "1 message"
	}
	return strconv.Itoa(n) + " messages"
}

// idName names the id --uid takes for a protocol.
func idName(protocol string) string {
	switch protocol {
	case "imap":
		return "UID"
	case "pop3":
		return "UIDL"
	}
	return "item id"
}

// samplePreviewLines is how many body lines `connector sample` reads when
// the session can preview (POP3 TOP).
const samplePreviewLines = 200

// sampleJSON is the JSON of `connector sample --json`. Fields may be
// added; none will be removed or change meaning.
type sampleJSON struct {
	Source        string               `json:"source"`
	Size          int64                `json:"size"`
	Subject       string               `json:"subject"`
	From          string               `json:"from"`
	To            []message.Address    `json:"to,omitempty"`
	Date          string               `json:"date"`
	MessageID     string               `json:"messageId"`
	InReplyTo     []string             `json:"inReplyTo,omitempty"`
	AutoGenerated string               `json:"autoGenerated"`
	Text          string               `json:"text"`
	Attachments   []message.Attachment `json:"attachments"`
	Warnings      []string             `json:"warnings,omitempty"`
	// ID is what --uid takes to show this message again.
	ID string `json:"id"`
	// Saved is the file --save wrote.
	Saved *savedRaw `json:"saved,omitempty"`
	// Decision is the statements' dry run (--rules), as `rules test`
	// prints it.
	Decision *dryRun `json:"decision,omitempty"`
}

func writeSampleJSON(w io.Writer, s *sample) error {
	m := s.m
	out := sampleJSON{
		Source: s.item.Source.String(), Size: s.item.Size, Subject: m.Subject, From: m.From.String(), To: m.To,
		Date: m.Date.Format("2006-01-02 15:04:05 -0700"), MessageID: m.MessageID, InReplyTo: m.InReplyTo,
		AutoGenerated: m.AutoGenerated, Text: m.VisibleText, Attachments: m.Attachments, Warnings: m.Warnings,
		ID: sourceID(s.item.Source), Saved: s.saved, Decision: s.decision,
	}
	if out.Attachments == nil {
		out.Attachments = []message.Attachment{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// sampleText is the readable form: one aligned "field: value" line each.
func sampleText(j *job.Job, folder string, s *sample) string {
	var w strings.Builder
	field := func(name, format string, args ...any) {
		if name != "" {
			name += ":"
		}
		fmt.Fprintf(&w, "  %-13s %s\n", name, shown(fmt.Sprintf(format, args...)))
	}
	list := func(name string, lines []string) {
		for i, l := range lines {
			if i > 0 {
				name = ""
			}
			field(name, "- %s", l)
		}
	}
	m := s.m
	fmt.Fprintf(&w, "job %s: %s in %s\n", j.ID, s.which, shown(folder))
	field("id", "%s (for --uid)", sourceID(s.item.Source))
	field("source", "%s", s.item.Source)
	field("size", "%s", size(s.item.Size))
	field("from", "%s", orDash(m.From.String()))
	var to []string
	for _, a := range m.To {
		to = append(to, a.String())
	}
	field("to", "%s", orDash(strings.Join(to, ", ")))
	field("subject", "%s", orDash(m.Subject))
	if m.Date.IsZero() {
		field("date", "-")
	} else {
		field("date", "%s", m.Date.Format("2006-01-02 15:04:05 -0700"))
	}
	field("message-id", "%s", orDash(m.MessageID))
	if len(m.InReplyTo) > 0 {
		field("in-reply-to", "%s", strings.Join(m.InReplyTo, " "))
	}
	class := m.AutoGenerated
	if class == "" {
		class = "written by a person"
	}
	field("class", "%s", class)
	kept, dropped := 0, 0
	for _, a := range m.Attachments {
		if a.Dropped != "" {
			dropped++
		} else {
			kept++
		}
	}
	if len(m.Attachments) > 0 {
		field("attachments", "%d kept, %d dropped", kept, dropped)
	}
	// The head of the visible text and each attachment, as
	// `messages show` prints them.
	writeNormalized(m, func(name, format string, args ...any) {
		if name == "attachments" && len(m.Attachments) > 0 {
			name = ""
		}
		field(name, format, args...)
	})
	list("warnings", m.Warnings)
	if s.saved != nil {
		how := "the whole message"
		if s.previewer {
			how += fmt.Sprintf(", not cut after %d lines as the preview is", samplePreviewLines)
		}
		field("saved", "%s (%s, %s)", s.saved.File, size(s.saved.Size), how)
	}
	if d := s.decision; d != nil {
		by := "the job's defaults"
		if d.Statement != "" {
			by = fmt.Sprintf("statement %q", d.Statement)
		}
		field("decision", "%s by %s", d.Action, by)
		if d.Reason != "" {
			field("reason", "%s", d.Reason)
		}
		if r := d.Request; r != nil {
			reopen := ""
			if r.Reopen {
				reopen = ", reopens it"
			}
			field("request", "#%d %s (%s), threaded by %s%s", r.Number, truncate(r.Title, 80), r.Status, r.ThreadedBy, reopen)
		}
		if d.Action == rules.Create {
			names := make([]string, 0, len(d.Fields))
			for k := range d.Fields {
				names = append(names, k)
			}
			sort.Strings(names)
			var fields []string
			for _, k := range names {
				fields = append(fields, k+": "+truncate(d.Fields[k], 80))
			}
			list("fields", fields)
		}
		list("why", d.Why)
	}
	return w.String()
}

// rawFile is the raw message being saved, created 0600 (mail is personal
// data). Without force it is the target itself, created exclusively, so
// an existing file is never touched; with force a temporary file beside
// it replaces the target once whole. Either way an unfinished save
// leaves nothing behind.
type rawFile struct {
	f     *os.File
	path  string
	force bool
	n     int64
	kept  bool
}

func createRawFile(path string, force bool) (*rawFile, error) {
	var f *os.File
	var err error
	if force {
		// CreateTemp makes the file 0600.
		f, err = os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	} else {
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	}
	if errors.Is(err, fs.ErrExist) {
		return nil, &exitError{code: 1, msg: fmt.Sprintf("connector sample: %s exists; --force overwrites it", path)}
	}
	if err != nil {
		return nil, &exitError{code: 1, msg: fmt.Sprintf("connector sample: save the message: %v", err)}
	}
	return &rawFile{f: f, path: path, force: force}, nil
}

func (r *rawFile) Write(p []byte) (int, error) {
	n, err := r.f.Write(p)
	r.n += int64(n)
	return n, err
}

// keep finishes the file and puts it in place.
func (r *rawFile) keep() error {
	err := r.f.Sync()
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	if err == nil && r.force {
		err = os.Rename(r.f.Name(), r.path)
	}
	if err != nil {
		return fmt.Errorf("save the message to %s: %w", r.path, err)
	}
	r.kept = true
	return nil
}

// reset empties the file for a second attempt; on nil it does nothing.
func (r *rawFile) reset() {
	if r == nil {
		return
	}
	r.f.Truncate(0)
	r.f.Seek(0, io.SeekStart)
	r.n = 0
}

// discard removes an unfinished file; after keep it does nothing.
func (r *rawFile) discard() {
	if r.kept {
		return
	}
	r.f.Close()
	os.Remove(r.f.Name())
}
