package preprocess

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message/textproto"
	"github.com/gabriel-vasile/mimetype"

	"mailconnector/shared/iocount"
	"mailconnector/shared/job"
	"mailconnector/shared/message"
)

// sniffBytes is how much of an attachment is looked at to detect its type.
const sniffBytes = 3072

// maxSafeName is the longest SafeName in bytes.
const maxSafeName = 200

// Reasons for dropping an attachment.
const (
	reasonMismatch = "content does not match declared type"
	reasonEmpty    = "empty"
)

// policy is the attachment policy of a job, with defaults applied.
type policy struct {
	maxSize   int64
	block     map[string]bool // lower-case extensions with the dot
	allow     map[string]bool
	dropEmpty bool
	checkType bool
	// dropMismatched drops any clear content mismatch, not only
	// executables; dropInvalidNames drops invalid file names.
	dropMismatched   bool
	dropInvalidNames bool
}

func newPolicy(j *job.Job) *policy {
	p := &policy{maxSize: job.DefaultAttachmentMaxSize, dropEmpty: true, checkType: true}
	if j == nil {
		return p
	}
	a := j.Attachments
	p.checkType = a.ContentChecked()
	p.dropMismatched, p.dropInvalidNames = a.DropMismatched, a.DropInvalidNames
	if a.MaxSize > 0 {
		p.maxSize = int64(a.MaxSize)
	}
	if a.DropEmpty != nil {
		p.dropEmpty = *a.DropEmpty
	}
	p.block = extSet(a.BlockExtensions)
	p.allow = extSet(a.AllowExtensions)
	return p
}

func extSet(exts []string) map[string]bool {
	if len(exts) == 0 {
		return nil
	}
	m := make(map[string]bool, len(exts))
	for _, e := range exts {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "" {
			continue
		}
		if !strings.HasPrefix(e, ".") {
			e = "." + e
		}
		m[e] = true
	}
	return m
}

// extensionReason says why the extension of safeName is not acceptable,
// or "".
func (p *policy) extensionReason(safeName string) string {
	ext := strings.ToLower(path.Ext(safeName))
	if p.block[ext] && ext != "" {
		return fmt.Sprintf("extension %s is blocked", ext)
	}
	if p.allow != nil && !p.allow[ext] {
		if ext == "" {
			return "no extension: not allowed"
		}
		return fmt.Sprintf("extension %s is not allowed", ext)
	}
	return ""
}

// attachment streams one non-body part through a SHA-256 hasher to the
// blob store and records it, kept or dropped, in the message.
func (p *processor) attachment(h textproto.Header, ct, disp, filename string, r io.Reader, partPath string) error {
	index := len(p.msg.Attachments)
	if index >= p.limits.attachments {
		// Past limits.maxAttachments: neither stored nor listed; the raw
		// message keeps it, and run counts it for a warning.
		p.notStored++
		if _, err := io.Copy(io.Discard, r); err != nil {
			return p.fatalOr(fmt.Errorf("preprocess: read %s: %w", partName(partPath), err))
		}
		return nil
	}
	a := message.Attachment{
		Filename:    displayName(filename),
		ContentType: ct,
		Inline:      disp == "inline" || (disp == "" && h.Has("Content-Id")),
		ContentID:   strings.Trim(strings.TrimSpace(h.Get("Content-Id")), "<>"),
	}

	hasher := sha256.New()
	cr := &iocount.Reader{R: io.TeeReader(r, hasher)}
	peekSize := sniffBytes
	if ct == "message/rfc822" || isReportPart(ct) {
		peekSize = 64 << 10
	}
	br := bufio.NewReaderSize(cr, peekSize)
	head, err := br.Peek(peekSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return p.fatalOr(fmt.Errorf("preprocess: read %s: %w", partName(partPath), err))
	}
	p.keepReportPart(ct, head)
	sniffed := mimetype.Detect(head)
	if ct == "application/octet-stream" && sniffed.String() != "application/octet-stream" {
		a.ContentType, _, _ = strings.Cut(sniffed.String(), ";")
	}

	name := filename
	if strings.TrimSpace(name) == "" && ct == "message/rfc822" {
		if s := innerSubject(head); s != "" {
			name = s + ".eml"
		}
	}
	a.SafeName = SafeName(name, defaultName(ct, sniffed))
	if ct == "message/rfc822" && !strings.EqualFold(path.Ext(a.SafeName), ".eml") {
		a.SafeName = SafeName(a.SafeName+".eml", "message.eml")
	}

	switch {
	case p.policy.dropInvalidNames && invalidName(filename) != "":
		a.Dropped = "invalid file name: " + invalidName(filename)
	case p.policy.extensionReason(a.SafeName) != "":
		a.Dropped = p.policy.extensionReason(a.SafeName)
	case p.policy.checkType && mismatch(ct, a.SafeName, sniffed):
		a.Dropped = reasonMismatch
	case len(head) == 0 && p.policy.dropEmpty:
		a.Dropped = reasonEmpty
	}
	if a.Dropped == "" && len(head) > 0 && ct != "message/rfc822" && !isReportPart(ct) {
		if what := contentMismatch(ct, a.SafeName, sniffed, head); what != "" {
			if p.policy.dropMismatched {
				a.Dropped = reasonMismatch + " (" + what + ")"
			} else {
				p.warn("%s: %q %s", partName(partPath), a.SafeName, what)
			}
		}
	}

	if a.Dropped == "" && p.opts.Blobs != nil {
		key := p.opts.KeyPrefix + strconv.Itoa(index) + "-" + keySegment(a.SafeName)
		lr := &maxReader{r: br, max: p.policy.maxSize}
		_, err := p.opts.Blobs.Put(p.ctx, key, lr)
		switch {
		case p.limitErr != nil:
			_ = p.opts.Blobs.Delete(p.ctx, key)
			return p.limitErr
		case p.in.err != nil:
			return p.fatal()
		case lr.exceeded:
			a.Dropped = fmt.Sprintf("larger than %d bytes", p.policy.maxSize)
			if err := p.opts.Blobs.Delete(p.ctx, key); err != nil {
				return p.storeFailed(fmt.Errorf("preprocess: delete too large attachment %s: %w", key, err))
			}
		case err != nil:
			return p.storeFailed(fmt.Errorf("preprocess: store attachment %s: %w", key, err))
		default:
			a.BlobKey = key
		}
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return p.fatalOr(fmt.Errorf("preprocess: read %s: %w", partName(partPath), err))
	}
	a.Size = cr.N
	a.SHA256 = hex.EncodeToString(hasher.Sum(nil))
	if a.Dropped == "" && a.Size > p.policy.maxSize {
		a.Dropped = fmt.Sprintf("larger than %d bytes", p.policy.maxSize)
	}
	if a.Dropped == "" && a.Size == 0 && p.policy.dropEmpty {
		a.Dropped = reasonEmpty
	}
	if a.Dropped != "" && a.BlobKey != "" {
		if err := p.opts.Blobs.Delete(p.ctx, a.BlobKey); err != nil {
			return p.storeFailed(fmt.Errorf("preprocess: delete dropped attachment %s: %w", a.BlobKey, err))
		}
		a.BlobKey = ""
	}
	p.msg.Attachments = append(p.msg.Attachments, a)
	return nil
}

func (p *processor) storeFailed(err error) error {
	if p.storeErr == nil {
		p.storeErr = err
	}
	if ctxErr := p.ctx.Err(); ctxErr != nil {
		return fmt.Errorf("preprocess: %w", ctxErr)
	}
	return p.storeErr
}

// maxReader fails once more than max bytes were read, so the blob store
// never keeps an oversized object.
type maxReader struct {
	r        io.Reader
	max, n   int64
	exceeded bool
}

var errTooLarge = errors.New("attachment larger than the maximum size")

func (m *maxReader) Read(b []byte) (int, error) {
	if m.exceeded {
		return 0, errTooLarge
	}
	n, err := m.r.Read(b)
	m.n += int64(n)
	if m.n > m.max {
		m.exceeded = true
		return 0, errTooLarge
	}
	return n, err
}

// dangerous are sniffed types that run code; an attachment whose content
// is one of them while its declared type or extension says otherwise is
// dropped.
var dangerous = []string{
	"application/vnd.microsoft.portable-executable",
	"application/x-msdownload",
	"application/x-dosexec",
	"application/x-elf",
	"application/x-executable",
	"application/x-mach-binary",
	"application/x-ms-shortcut",
	"application/x-msi",
	"text/x-shellscript",
}

func isDangerous(m *mimetype.MIME) bool {
	for ; m != nil; m = m.Parent() {
		for _, d := range dangerous {
			if m.Is(d) {
				return true
			}
		}
	}
	return false
}

// mismatch reports whether the content is executable while the declared
// type or the file extension claim something harmless.
func mismatch(declared, safeName string, sniffed *mimetype.MIME) bool {
	if !isDangerous(sniffed) {
		return false
	}
	if declared != "application/octet-stream" && !isDangerous(mimetype.Lookup(declared)) && !strings.Contains(declared, "executable") && !strings.Contains(declared, "msdownload") {
		return true
	}
	if ext := strings.ToLower(path.Ext(safeName)); ext != "" {
		if t := mime.TypeByExtension(ext); t != "" {
			t, _, _ = strings.Cut(t, ";")
			if !isDangerous(mimetype.Lookup(t)) && t != "application/octet-stream" &&
				!strings.Contains(t, "executable") && !strings.Contains(t, "msdownload") {
				return true
			}
		}
	}
	return false
}

// otherType returns the sniffed type when it clearly differs from the
// declared one (neither is a kind of the other), else "". Generic and
// text types are never reported: they are what sniffing falls back to.
func otherType(declared string, sniffed *mimetype.MIME) string {
	switch {
	case declared == "" || declared == "application/octet-stream" || strings.HasPrefix(declared, "text/") ||
		strings.HasPrefix(declared, "message/") || strings.HasPrefix(declared, "multipart/"):
		return ""
	case sniffed.Is("application/octet-stream") || sniffed.Is("text/plain"):
		return ""
	}
	d := mimetype.Lookup(declared)
	if d == nil {
		return "" // a type the sniffer does not know: no opinion
	}
	for m := sniffed; m != nil; m = m.Parent() {
		if m.Is(declared) {
			return ""
		}
	}
	for m := d; m != nil; m = m.Parent() {
		if sniffed.Is(m.String()) {
			return ""
		}
	}
	t, _, _ := strings.Cut(sniffed.String(), ";")
	return t
}

// defaultName is the name of an attachment the sender did not name.
func defaultName(ct string, sniffed *mimetype.MIME) string {
	switch ct {
	case "message/rfc822":
		return "message.eml"
	case "message/delivery-status":
		return "delivery-status.txt"
	case "text/rfc822-headers":
		return "rfc822-headers.txt"
	case "message/disposition-notification":
		return "disposition-notification.txt"
	}
	if ext := sniffed.Extension(); ext != "" && sniffed.String() != "application/octet-stream" {
		return "attachment" + ext
	}
	if exts, _ := mime.ExtensionsByType(ct); len(exts) > 0 {
		return "attachment" + exts[0]
	}
	return "attachment.bin"
}

// innerSubject reads the Subject of an attached message from its first
// bytes.
func innerSubject(head []byte) string {
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(head)))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(collapseSpace(decodeWords(h.Get("Subject"))))
}

// reservedNames are file names Windows reserves, with or without extension.
var reservedNames = map[string]bool{
	"con": true, "prn": true, "aux": true, "nul": true,
	"com1": true, "com2": true, "com3": true, "com4": true, "com5": true,
	"com6": true, "com7": true, "com8": true, "com9": true,
	"lpt1": true, "lpt2": true, "lpt3": true, "lpt4": true, "lpt5": true,
	"lpt6": true, "lpt7": true, "lpt8": true, "lpt9": true,
}

// SafeName turns a sender-chosen file name into one that is safe to store
// and serve: no directories or path separators, no control or
// bidirectional-override characters, no characters Windows forbids, no
// leading dots, no ".." , no reserved device names (CON, NUL, COM1...),
// at most 200 bytes with the extension kept. A name that is empty once
// cleaned becomes fallback (itself cleaned), or "attachment" + its
// extension when only an extension is left.
func SafeName(name, fallback string) string {
	// Keep only the last path element, whatever the separator.
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case r == utf8.RuneError, unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			// control characters and format characters such as U+202E
			// (right-to-left override) that disguise extensions
			continue
		case strings.ContainsRune(`<>:"|?*`, r):
			b.WriteByte('_')
		case unicode.IsSpace(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	name = collapseSpace(b.String())
	for strings.Contains(name, "..") {
		name = strings.ReplaceAll(name, "..", ".")
	}
	name = strings.TrimLeft(name, ". ")
	name = strings.TrimRight(name, ". ")

	base, ext := splitExt(name)
	if reservedNames[strings.ToLower(strings.TrimSpace(base))] {
		base = "_" + base
	}
	if base == "" && ext == "" {
		if fallback == "" {
			return "attachment"
		}
		return SafeName(fallback, "")
	}
	if base == "" {
		base = "attachment"
	}
	if len(ext) > 20 {
		// Not a real extension: keep it as part of the name.
		base, ext = base+ext, ""
	}
	if len(base)+len(ext) > maxSafeName {
		base = truncateUTF8(base, maxSafeName-len(ext))
		base = strings.TrimRight(base, ". ")
	}
	return base + ext
}

// splitExt splits name into base and extension (with the dot).
func splitExt(name string) (string, string) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 {
		return name, ""
	}
	return name[:i], name[i:]
}

// truncateUTF8 cuts s to at most n bytes without splitting a rune.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// displayName cleans a file name for display: control characters become
// spaces, format characters (such as U+202E, which can disguise an
// extension) are dropped, runs of space collapse.
func displayName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r):
			return ' '
		case unicode.Is(unicode.Cf, r), r == utf8.RuneError:
			return -1
		}
		return r
	}, s)
	return collapseSpace(s)
}

// keySegment escapes a SafeName for a blob key, which allows printable
// ASCII only: bytes outside [A-Za-z0-9._-] become %XX.
func keySegment(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
