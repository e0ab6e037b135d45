package preprocess

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	pathpkg "path"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/textproto"
	htmlcharset "golang.org/x/net/html/charset"

	"mailconnector/shared/preprocess/tnef"
)

// contentType returns the lower-case media type and parameters of an
// entity. A missing or unreadable Content-Type is text/plain (RFC 2045
// section 5.2). Parameters are RFC 2231-decoded (also in charsets Go's mime
// package does not decode) and RFC 2047-decoded.
func contentType(h textproto.Header) (string, map[string]string) {
	v := h.Get("Content-Type")
	if strings.TrimSpace(v) == "" {
		return "text/plain", map[string]string{}
	}
	t, params := parseParams(v)
	if !strings.Contains(t, "/") {
		return "text/plain", params
	}
	return t, params
}

// disposition returns the lower-case Content-Disposition type (RFC 2183)
// and its parameters.
func disposition(h textproto.Header) (string, map[string]string) {
	v := h.Get("Content-Disposition")
	if strings.TrimSpace(v) == "" {
		return "", map[string]string{}
	}
	return parseParams(v)
}

// parseParams parses "type; k=v; ..." leniently: a parameter mime cannot
// read does not lose the type or the other parameters.
func parseParams(v string) (string, map[string]string) {
	t, params, err := mime.ParseMediaType(v)
	if err != nil || params == nil {
		params = map[string]string{}
	}
	if t == "" {
		t, _, _ = strings.Cut(v, ";")
	}
	t = strings.ToLower(strings.TrimSpace(t))
	// RFC 2231 values in charsets other than UTF-8 and US-ASCII, which
	// mime.ParseMediaType silently drops.
	// Ours win: mime drops a continuation piece it cannot decode and
	// returns the rest as if it were the whole value.
	for k, val := range rfc2231Params(v) {
		params[k] = val
	}
	if err != nil {
		// mime gave up on the parameters: take simple k=v pairs.
		for _, kv := range strings.Split(v, ";")[1:] {
			k, val, ok := strings.Cut(kv, "=")
			k = strings.ToLower(strings.TrimSpace(k))
			if !ok || k == "" || strings.HasSuffix(k, "*") || strings.Contains(k, "*") {
				continue
			}
			if _, have := params[k]; !have {
				params[k] = strings.Trim(strings.TrimSpace(val), `"`)
			}
		}
	}
	for k, val := range params {
		params[k] = decodeWords(val)
	}
	return t, params
}

// rfc2231Params decodes extended parameters name*=charset'lang'%xx and
// their continuations name*0*=..., name*1*=... (RFC 2231 sections 3 and 4)
// in any charset the charset package knows.
func rfc2231Params(v string) map[string]string {
	type piece struct {
		val     string
		encoded bool
	}
	pieces := map[string]map[int]piece{}
	for _, kv := range strings.Split(v, ";")[1:] {
		k, val, ok := strings.Cut(kv, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if !ok || !strings.Contains(k, "*") {
			continue
		}
		val = strings.Trim(strings.TrimSpace(val), `"`)
		name, rest, _ := strings.Cut(k, "*")
		encoded := strings.HasSuffix(k, "*")
		idx := 0
		if rest = strings.TrimSuffix(rest, "*"); rest != "" {
			if _, err := fmt.Sscanf(rest, "%d", &idx); err != nil {
				continue
			}
		}
		if pieces[name] == nil {
			pieces[name] = map[int]piece{}
		}
		pieces[name][idx] = piece{val, encoded}
	}
	out := map[string]string{}
	for name, ps := range pieces {
		var raw []byte
		cs := ""
		for i := 0; ; i++ {
			pc, ok := ps[i]
			if !ok {
				break
			}
			val := pc.val
			if pc.encoded {
				if i == 0 {
					parts := strings.SplitN(val, "'", 3)
					if len(parts) == 3 {
						cs, val = strings.ToLower(parts[0]), parts[2]
					}
				}
				raw = append(raw, percentDecode(val)...)
			} else {
				raw = append(raw, val...)
			}
		}
		if len(raw) == 0 {
			continue
		}
		out[name] = decodeCharset(raw, cs)
	}
	return out
}

func percentDecode(s string) []byte {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return b
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// transferDecoder undoes the Content-Transfer-Encoding (RFC 2045 section 6).
// An unknown encoding leaves the bytes as they are, with ok false.
func transferDecoder(enc string, r io.Reader) (io.Reader, *base64Cleaner, bool) {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "quoted-printable":
		return quotedprintable.NewReader(r), nil, true
	case "base64":
		c := &base64Cleaner{r: r}
		return &b64Decoder{r: c}, c, true
	case "", "7bit", "8bit", "binary":
		return r, nil, true
	}
	return r, nil, false
}

// base64Cleaner drops bytes that are not part of the base64 alphabet
// (line breaks, spaces, tabs, stray characters), as lenient MUAs do, and
// counts the stray ones, for b64Decoder.
type base64Cleaner struct {
	r       io.Reader
	invalid int
}

// b64class classifies bytes for base64Cleaner: 1 keep, 2 drop silently
// (line breaks and white space), 0 drop and count.
var b64class = func() (t [256]uint8) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = 1
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = 1
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = 1
	}
	for _, c := range "+/=" {
		t[c] = 1
	}
	t['\r'], t['\n'], t[' '], t['\t'] = 2, 2, 2, 2
	return t
}()

func (c *base64Cleaner) Read(b []byte) (int, error) {
	for {
		n, err := c.r.Read(b)
		// Runs of alphabet characters (a line, usually) move as a block;
		// what lies between them (a line break) is dropped.
		j := 0
		for i := 0; i < n; {
			k := i
			// Eight at a time: the classes AND to 1 only if all are 1.
			for ; k+8 <= n; k += 8 {
				w := b[k : k+8 : k+8]
				if b64class[w[0]]&b64class[w[1]]&b64class[w[2]]&b64class[w[3]]&
					b64class[w[4]]&b64class[w[5]]&b64class[w[6]]&b64class[w[7]] != 1 {
					break
				}
			}
			for k < n && b64class[b[k]] == 1 {
				k++
			}
			if j != i {
				copy(b[j:], b[i:k])
			}
			j += k - i
			for k < n && b64class[b[k]] != 1 {
				if b64class[b[k]] == 0 {
					c.invalid++
				}
				k++
			}
			i = k
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// rawReader remembers the error of a part's raw body: io.ErrUnexpectedEOF
// there means the multipart ended without its closing boundary.
type rawReader struct {
	r   io.Reader
	err error
}

func (r *rawReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	if err != nil && r.err == nil {
		r.err = err
	}
	return n, err
}

// partReader sits on a part's decoded body. A decoding problem (broken
// base64, a multipart cut short) ends the body like EOF and is remembered
// for a warning; an input error or the context's end passes through.
type partReader struct {
	p      *processor
	r      io.Reader
	raw    *rawReader
	b64    *base64Cleaner
	broken error
}

func (r *partReader) Read(b []byte) (int, error) {
	if r.broken != nil {
		return 0, io.EOF
	}
	n, err := r.r.Read(b)
	if lerr := r.p.countDecoded(n); lerr != nil {
		return n, lerr
	}
	if err == nil || errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return n, err
	}
	if r.p.in.err != nil {
		return n, r.p.in.err
	}
	r.broken = err
	return n, io.EOF
}

// warnBroken records a warning if the part's body ended in a decoding
// problem.
func (r *partReader) warnBroken(path string) {
	if r.b64 != nil && r.b64.invalid > 0 {
		r.p.warn("%s: %d characters that are not base64 skipped", partName(path), r.b64.invalid)
	}
	switch {
	case r.raw.err != nil && errors.Is(r.raw.err, io.ErrUnexpectedEOF):
		r.p.warn("%s: body cut short: the multipart has no closing boundary", partName(path))
	case r.broken == nil:
	case errors.Is(r.broken, io.ErrUnexpectedEOF):
		r.p.warn("%s: body encoding ends in the middle: kept what could be decoded", partName(path))
	default:
		r.p.warn("%s: broken body encoding (%v): kept what could be decoded", partName(path), r.broken)
	}
}

// leaf processes a non-multipart entity: a text or HTML body, or an
// attachment.
func (p *processor) leaf(h textproto.Header, ct string, params map[string]string, raw io.Reader, path string) error {
	disp, dparams := disposition(h)
	filename := dparams["filename"]
	if filename == "" {
		filename = params["name"]
	}
	enc := h.Get("Content-Transfer-Encoding")
	rr := &rawReader{r: raw}
	dec, b64, ok := transferDecoder(enc, rr)
	if !ok {
		p.warn("%s: unknown transfer encoding %q: kept the bytes as they are", partName(path), enc)
	}
	pr := &partReader{p: p, r: dec, raw: rr, b64: b64}
	isBody := (ct == "text/plain" || ct == "text/html") && disp != "attachment" && filename == ""
	var err error
	switch {
	case isBody:
		err = p.body(ct, params, pr, path)
	case isTNEF(ct, filename):
		err = p.tnef(h, ct, disp, filename, pr, path)
	default:
		err = p.attachment(h, ct, disp, filename, pr, path)
	}
	if err != nil {
		return err
	}
	if ferr := p.fatal(); ferr != nil {
		return ferr
	}
	pr.warnBroken(path)
	return nil
}

// body reads a text/plain or text/html body into memory and converts it
// to UTF-8. All text/plain parts together, and all text/html parts
// together, are capped at MaxBodyBytes.
func (p *processor) body(ct string, params map[string]string, r io.Reader, path string) error {
	used := &p.plainBytes
	if ct == "text/html" {
		used = &p.htmlBytes
	}
	limit := MaxBodyBytes - *used
	raw, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return p.fatalOr(fmt.Errorf("preprocess: read %s: %w", partName(path), err))
	}
	*used += min(len(raw), limit)
	if len(raw) > limit {
		raw = raw[:limit]
		p.warn("%s: %s body longer than %d bytes: truncated", partName(path), ct, MaxBodyBytes)
		if _, err := io.Copy(io.Discard, r); err != nil {
			return p.fatalOr(fmt.Errorf("preprocess: read %s: %w", partName(path), err))
		}
	}
	text := p.bodyToUTF8(raw, ct, params["charset"], path)
	if ct == "text/html" {
		p.html = append(p.html, text)
	} else {
		if strings.EqualFold(params["format"], "flowed") {
			text = unflow(text, strings.EqualFold(params["delsp"], "yes"))
		}
		p.plain = append(p.plain, text)
	}
	return nil
}

// fatalOr returns the fatal error if there is one, else err.
func (p *processor) fatalOr(err error) error {
	if ferr := p.fatal(); ferr != nil {
		return ferr
	}
	return err
}

// bodyToUTF8 converts a body from its declared charset (RFC 2046
// section 4.1.2). Undeclared HTML is sniffed (meta charset); a missing,
// unknown or wrong label is detected, with a warning.
func (p *processor) bodyToUTF8(raw []byte, ct, cs, path string) string {
	label := strings.ToLower(strings.Trim(strings.TrimSpace(cs), `"`))
	if ct == "text/html" && label == "" && !utf8.Valid(raw) {
		if enc, name, _ := htmlcharset.DetermineEncoding(raw, "text/html"); enc != nil && name != "utf-8" && name != "windows-1252" {
			if out, err := enc.NewDecoder().Bytes(raw); err == nil {
				return strings.ToValidUTF8(string(out), "\uFFFD")
			}
		}
	}
	s, note := toUTF8(raw, label)
	if note != "" {
		p.warn("%s: %s", partName(path), note)
	}
	return s
}

// maxTNEF is the largest winmail.dat that is unwrapped; a larger one is
// kept as an attachment (TNEF is read whole).
const maxTNEF = 32 << 20

func isTNEF(ct, filename string) bool {
	return ct == "application/ms-tnef" || ct == "application/vnd.ms-tnef" ||
		strings.EqualFold(strings.TrimSpace(filename), "winmail.dat")
}

// tnef unwraps a winmail.dat part ([MS-OXTNEF]) into its body and
// attachments. A part that is not TNEF, or too large, stays an
// attachment, with a warning.
func (p *processor) tnef(h textproto.Header, ct, disp, filename string, r io.Reader, path string) (rerr error) {
	buf, err := io.ReadAll(io.LimitReader(r, maxTNEF+1))
	if err != nil {
		return p.fatalOr(fmt.Errorf("preprocess: read %s: %w", partName(path), err))
	}
	if len(buf) > maxTNEF {
		p.warn("%s: winmail.dat larger than %d bytes: kept as an attachment", partName(path), maxTNEF)
		return p.attachment(h, ct, disp, filename, io.MultiReader(bytes.NewReader(buf), r), path)
	}
	m, err := tnef.Decode(buf, decodeCharset)
	if m == nil {
		p.warn("%s: winmail.dat is not TNEF: kept as an attachment", partName(path))
		return p.attachment(h, ct, disp, filename, bytes.NewReader(buf), path)
	}
	if err != nil {
		// Cut short or followed by junk: what was decoded is used, and the
		// file itself is kept as well, so nothing is lost.
		p.warn("%s: winmail.dat is cut short or has bytes that are not TNEF: kept what could be read and the file as an attachment", partName(path))
		defer func() {
			if rerr == nil {
				rerr = p.attachment(h, ct, disp, filename, bytes.NewReader(buf), path)
			}
		}()
	}
	switch {
	case strings.TrimSpace(m.HTML) != "":
		p.tnefHTML = append(p.tnefHTML, m.HTML)
	case strings.TrimSpace(m.Body) != "":
		p.tnefPlain = append(p.tnefPlain, m.Body)
	case len(m.RTF) > 0:
		if text, isHTML := tnef.RTFText(m.RTF, decodeCharset); isHTML {
			p.tnefHTML = append(p.tnefHTML, text)
		} else {
			p.tnefPlain = append(p.tnefPlain, text)
		}
	}
	for i, a := range m.Attachments {
		if a.Data == nil && a.Name() == "" {
			continue
		}
		act := a.MimeType
		if act == "" || !strings.Contains(act, "/") {
			act = "application/octet-stream"
			if t := mime.TypeByExtension(strings.ToLower(pathpkg.Ext(a.Name()))); t != "" {
				act, _, _ = strings.Cut(t, ";")
			}
		}
		sub := fmt.Sprintf("%s.tnef%d", path, i+1)
		if err := p.attachment(textproto.Header{}, act, "attachment", a.Name(), bytes.NewReader(a.Data), sub); err != nil {
			return err
		}
	}
	return nil
}
