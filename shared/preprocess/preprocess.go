// Package preprocess turns one raw MIME message into a normalized
// message.Message: decoded headers, the text and sanitized HTML bodies, the
// visible new text (quoted history and signatures removed by the
// heuristics of package visible, in the order of the job's preprocessing
// rules), the class of auto-generated mail, and attachments streamed to a
// blob store. HTML bodies are parsed, rendered as text and sanitized by
// package htmltext.
//
// Charsets are decoded with go-message/charset and golang.org/x/text; a
// missing, unknown or wrong label is detected from the bytes (charsets.go).
// Header fields may hold RFC 2047 encoded words, malformed ones included,
// and raw 8-bit text. winmail.dat (TNEF) parts are unwrapped into their
// body and attachments (package tnef). DropNotices builds the notices of a
// job's attachments.notifyOnDrop for the rules stage to send.
//
// The message is read once, as a stream: attachments go straight from the
// MIME decoder through a SHA-256 hasher into the blob store and are never
// held whole in memory. Text and HTML bodies are read into memory up to
// MaxBodyBytes each.
//
// Preprocessing never fails on a badly formed message: unknown charsets,
// broken parts, malformed headers and even bytes that are not MIME at all
// end as warnings in Message.Warnings. Process returns an error only when
// reading the message or writing to the blob store fails, when the
// context ends, or when the message is over a hard limit of its job
// (*LimitError: MIME parts, header block size, decoded size; parsing stops
// there). Softer limits end as warnings: multiparts nested deeper than
// limits.maxDepth are kept whole as an attachment, attachments past
// limits.maxAttachments are not stored, a header field longer than 64 KB
// is cut.
package preprocess

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/textproto"

	"mailconnector/shared/blob"
	"mailconnector/shared/controlchar"
	"mailconnector/shared/freelist"
	"mailconnector/shared/job"
	"mailconnector/shared/message"
)

// MaxBodyBytes caps the text body and the HTML body each; a longer body is
// truncated with a warning.
const MaxBodyBytes = 4 << 20

// Options configure Process. A nil *Options means defaults.
type Options struct {
	// Job supplies the preprocessing rules, the attachment policy and the
	// limits. Nil means defaults: every built-in visible-text heuristic in order,
	// attachments up to job.DefaultAttachmentMaxSize, empty ones dropped.
	Job *job.Job
	// Blobs receives the kept attachments. Nil: attachments are measured
	// and hashed, then discarded.
	Blobs blob.Store
	// KeyPrefix starts the blob key of every attachment, e.g.
	// "att/<job>/<key>/". The key is KeyPrefix + index + "-" + SafeName
	// (bytes outside [A-Za-z0-9._-] percent-encoded).
	KeyPrefix string
}

// Process reads one raw MIME message from r and returns it normalized. Kept
// attachments are stored in opts.Blobs. The error is non-nil only for a
// failing reader or blob store, or when ctx ends; a malformed message still
// yields a Message, with warnings. A message over a hard limit yields a
// *LimitError, and the attachments already stored are deleted.
func Process(ctx context.Context, r io.Reader, opts *Options) (*message.Message, error) {
	if opts == nil {
		opts = &Options{}
	}
	p := &processor{
		ctx:    ctx,
		opts:   opts,
		policy: newPolicy(opts.Job),
		msg:    &message.Message{Attachments: []message.Attachment{}},
	}
	if opts.Job != nil {
		p.msg.JobID = opts.Job.ID
	}
	p.limits = newLimits(opts.Job)
	p.in = &inputReader{ctx: ctx, r: r, recording: true}
	if err := p.run(); err != nil {
		if p.limitErr != nil {
			p.dropStored()
		}
		return nil, err
	}
	return p.msg, nil
}

// processor holds the state of one Process call.
type processor struct {
	ctx    context.Context
	opts   *Options
	policy *policy
	in     *inputReader
	msg    *message.Message

	plain      []string // text/plain body parts, decoded
	html       []string // text/html body parts, decoded
	tnefPlain  []string // bodies found in TNEF parts
	tnefHTML   []string
	plainBytes int    // raw bytes read into plain
	htmlBytes  int    // raw bytes read into html
	reportType string // report-type of a multipart/report, lower case
	report     reportParts
	tree       bodyNode  // the multipart structure of the body parts
	cur        *bodyNode // the multipart being walked
	storeErr   error     // first blob store error

	limits    limits
	limitErr  *LimitError // the first hard limit the message went over
	parts     int         // MIME entities seen
	decoded   int64       // decoded bytes of all leaves
	notStored int         // attachments past limits.maxAttachments
}

// fatal returns the error that must end Process: an input read error, the
// context's error, or a blob store error.
func (p *processor) fatal() error {
	if p.limitErr != nil {
		return p.limitErr
	}
	if p.in.err != nil {
		return fmt.Errorf("preprocess: read message: %w", p.in.err)
	}
	if p.storeErr != nil {
		return p.storeErr
	}
	return nil
}

func (p *processor) warn(format string, args ...any) {
	w := fmt.Sprintf(format, args...)
	for _, have := range p.msg.Warnings {
		if have == w {
			return
		}
	}
	p.msg.Warnings = append(p.msg.Warnings, w)
}

// headReaders read a message's header block (64 KB each), kept for the
// next message; the body then starts with what one has buffered.
var headReaders = freelist.New(8, func() *bufio.Reader { return bufio.NewReaderSize(nil, 64<<10) })

func (p *processor) run() error {
	br := headReaders.Get()
	br.Reset(p.in)
	defer func() {
		br.Reset(nil)
		headReaders.Put(br)
	}()
	block, cut, err := p.readHeaderBlock(br)
	if ferr := p.fatal(); ferr != nil {
		return ferr
	}
	var h textproto.Header
	if err == nil {
		h, err = textproto.ReadHeader(bufio.NewReader(bytes.NewReader(block)))
	}
	if err != nil || !looksLikeMessage(h) {
		return p.notMIME(err)
	}
	p.in.stopRecording()
	// The header reader was limited; the body is not. Bytes already
	// buffered in br come first (read from br itself, which refills
	// nothing while it has them).
	body := io.MultiReader(io.LimitReader(br, int64(br.Buffered())), p.in)

	for _, name := range cut {
		p.warn("%s: longer than %d bytes: cut", name, maxFieldBytes)
	}
	p.headers(h)
	if err := p.entity(h, body, "", 0); err != nil {
		return err
	}
	if p.notStored > 0 {
		p.warn("%d attachments past limits.maxAttachments (%d) not stored: the raw message keeps them", p.notStored, p.limits.attachments)
	}
	// Count the epilogue and anything a broken multipart left unread
	// (body's WriteTo hidden, so that io.Discard's pooled buffer reads
	// it: the multi-reader's allocates 32 KB each time).
	if _, err := io.Copy(io.Discard, struct{ io.Reader }{body}); err != nil || p.fatal() != nil {
		if ferr := p.fatal(); ferr != nil {
			return ferr
		}
	}
	p.msg.Size = p.in.n
	for i := range p.msg.Attachments {
		// File names come from header parameters: control-free like
		// every header-derived field.
		p.msg.Attachments[i].Filename = controlchar.Strip(p.msg.Attachments[i].Filename)
	}
	p.bodies()
	p.msg.AutoGenerated, p.msg.Bounce = classify(h, p.msg, p.reportType, &p.report)
	return nil
}

// notMIME handles input whose header cannot be read: the raw bytes become
// the text.
func (p *processor) notMIME(herr error) error {
	raw := p.in.recorded()
	p.in.stopRecording()
	rest, err := io.ReadAll(io.LimitReader(p.in, int64(MaxBodyBytes-len(raw)+1)))
	if err != nil {
		return fmt.Errorf("preprocess: read message: %w", err)
	}
	raw = append(raw, rest...)
	if len(raw) > MaxBodyBytes {
		raw = raw[:MaxBodyBytes]
		p.warn("text longer than %d bytes: truncated", MaxBodyBytes)
	}
	if _, err := io.Copy(io.Discard, p.in); err != nil {
		return fmt.Errorf("preprocess: read message: %w", err)
	}
	if herr != nil {
		p.warn("not a MIME message (no readable header): kept the raw bytes as text")
	} else {
		p.warn("not a MIME message (no known header fields): kept the raw bytes as text")
	}
	p.msg.Size = p.in.n
	text := string(raw)
	if !utf8.ValidString(text) {
		text = decodeFallback(raw)
	}
	p.plain = []string{text}
	p.bodies()
	return nil
}

// looksLikeMessage reports whether a header that parsed has at least one
// field a message or MIME entity has; a "header" of random key: value
// lines is treated as garbage.
func looksLikeMessage(h textproto.Header) bool {
	for _, k := range []string{
		"From", "To", "Cc", "Subject", "Date", "Message-Id", "Mime-Version",
		"Content-Type", "Received", "Return-Path", "Sender", "Reply-To",
		"Delivered-To", "In-Reply-To", "References", "X-Mailer",
	} {
		if h.Has(k) {
			return true
		}
	}
	return false
}

// inputReader counts the bytes of the message, remembers the first read
// error, checks the context and, while recording, keeps a copy of what was
// read so garbage input can be returned as text.
type inputReader struct {
	ctx       context.Context
	r         io.Reader
	n         int64
	err       error
	recording bool
	rec       bytes.Buffer
}

func (r *inputReader) Read(b []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if err := r.ctx.Err(); err != nil {
		r.err = err
		return 0, err
	}
	n, err := r.r.Read(b)
	r.n += int64(n)
	if r.recording && r.rec.Len() < MaxBodyBytes {
		r.rec.Write(b[:n])
	}
	if err != nil && !errors.Is(err, io.EOF) {
		r.err = err
	}
	return n, err
}

func (r *inputReader) recorded() []byte { return bytes.Clone(r.rec.Bytes()) }

func (r *inputReader) stopRecording() {
	r.recording = false
	r.rec = bytes.Buffer{}
}

// entity processes one MIME entity (the message or a part) whose header
// has been read; body is its raw, still transfer-encoded body. path names
// the part in warnings ("" for the message, "1.2" for a part).
func (p *processor) entity(h textproto.Header, body io.Reader, path string, depth int) error {
	if err := p.countPart(); err != nil {
		return err
	}
	ct, params := contentType(h)
	if strings.HasPrefix(ct, "multipart/") && depth >= p.limits.depth {
		p.warn("%s: multipart nested deeper than limits.maxDepth (%d): kept as one attachment, the text inside not read", partName(path), p.limits.depth)
	}
	if strings.HasPrefix(ct, "multipart/") && depth < p.limits.depth {
		boundary := params["boundary"]
		if boundary == "" {
			p.warn("%s: %s without boundary: read as text", partName(path), ct)
			return p.bodyLeaf(h, "text/plain", params, body, path)
		}
		if ct == "multipart/report" {
			p.reportType = strings.ToLower(params["report-type"])
		}
		parent := p.node()
		n := &bodyNode{kind: ct}
		parent.children = append(parent.children, n)
		p.cur = n
		err := p.multipart(body, boundary, path, depth)
		p.cur = parent
		return err
	}
	return p.bodyLeaf(h, ct, params, body, path)
}

// bodyLeaf processes a leaf entity and records the text parts it added
// in the body tree.
func (p *processor) bodyLeaf(h textproto.Header, ct string, params map[string]string, body io.Reader, path string) error {
	plain, html := len(p.plain), len(p.html)
	err := p.leaf(h, ct, params, body, path)
	p.addBodyParts(plain, html)
	return err
}

// multipart walks the parts of a multipart body (RFC 2046 section 5.1).
func (p *processor) multipart(body io.Reader, boundary, path string, depth int) error {
	mr := textproto.NewMultipartReader(body, boundary)
	for i := 1; ; i++ {
		part, err := mr.NextPart()
		if ferr := p.fatal(); ferr != nil {
			return ferr
		}
		if errors.Is(err, io.EOF) {
			if i == 1 {
				p.warn("%s: multipart without parts", partName(path))
			}
			return nil
		}
		if err != nil {
			if strings.Contains(err.Error(), "EOF") {
				p.warn("%s: multipart ends without closing boundary", partName(path))
			} else {
				p.warn("%s: broken multipart: %v", partName(path), err)
			}
			return nil
		}
		sub := fmt.Sprint(i)
		if path != "" {
			sub = path + "." + sub
		}
		if err := p.checkPartHeader(part.Header, sub); err != nil {
			return err
		}
		if err := p.entity(part.Header, part, sub, depth+1); err != nil {
			return err
		}
	}
}

func partName(path string) string {
	if path == "" {
		return "message"
	}
	return "part " + path
}
