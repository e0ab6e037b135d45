package mailgen

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
)

// Outcome is the class of result a hostile message must end with.
type Outcome string

// Outcome classes of the hostile corpus.
const (
	// Processed: preprocessed, warnings allowed.
	Processed Outcome = "processed"
	// Warned: preprocessed with at least one warning that says what was
	// lost, cut or guessed.
	Warned Outcome = "warned"
	// Failed: over a hard limit of the job; the stage's permanent error
	// names the limit.
	Failed Outcome = "failed"
	// Recorded: only some recorded outcome is asserted.
	Recorded Outcome = "recorded"
)

// HostileCase is one message of the hostile corpus.
type HostileCase struct {
	// Name is unique in the corpus and safe as a test or file name.
	Name string
	// Class is the kind of hostility, e.g. "huge part counts".
	Class string
	// Want is the outcome under the default job limits.
	Want Outcome
	// Raw is the whole message.
	Raw []byte
}

// HostileOptions tune Hostile.
type HostileOptions struct {
	// Small replaces the huge messages (hundreds of thousands of parts,
	// megabytes of header or body) by variants of the same shape a
	// mailbox server takes in a fraction of a second. Their outcome
	// class stays the same under the default limits.
	Small bool
}

// Hostile returns the hostile corpus: messages crafted to break a mail
// parser (huge part counts, deep nesting, deep HTML, charset lies, broken
// TNEF, huge headers, control characters and terminal escapes in header
// fields, CR/LF and forged addresses in display names, hostile attachment
// file names, broken transfer encodings, missing boundaries, oversized
// messages, bad dates, unknown charsets). Every message is generated here,
// deterministically.
func Hostile(opts *HostileOptions) []HostileCase {
	small := opts != nil && opts.Small
	pick := func(big, sm int) int {
		if small {
			return sm
		}
		return big
	}
	var cs []HostileCase
	add := func(name, class string, want Outcome, raw []byte) {
		// Each message its own Message-ID, where it has one.
		raw = bytes.Replace(raw, []byte("<hostile@example.org>"), []byte("<"+name+"@hostile.example>"), 1)
		cs = append(cs, HostileCase{Name: name, Class: class, Want: want, Raw: raw})
	}
	const (
		parts    = "huge part counts"
		nesting  = "deep nesting"
		deepHTML = "deep HTML"
		lies     = "charset lies"
		tnef     = "broken TNEF"
		headers  = "huge headers"
		controls = "header control characters"
		crlf     = "CR/LF in display names"
		forged   = "forged display names"
		names    = "hostile attachment file names"
		encoding = "broken transfer encodings"
		bounds   = "missing boundaries"
		oversize = "oversized messages"
		dates    = "bad dates"
		charsets = "unknown charsets"
		shape    = "malformed structure"
	)

	// Huge part counts.
	add("parts-400000", parts, Failed, ManyParts(pick(400000, 20000)))
	add("parts-50000", parts, Failed, ManyParts(pick(50000, 5000)))
	add("parts-1001", parts, Failed, ManyParts(1001))
	add("parts-900", parts, Processed, ManyParts(900))
	add("attachments-150", parts, Warned, ManyAttachments(150))
	add("empty-parts-5000", parts, Failed, simple("multipart/mixed; boundary=b", strings.Repeat("--b\r\n\r\n", 5000)+"--b--\r\n"))

	// Deep nesting.
	add("nested-40", nesting, Processed, Nested(40, "innermost text at level 40"))
	add("nested-60", nesting, Warned, Nested(60, "innermost text at level 60"))
	add("nested-10000", nesting, Warned, Nested(pick(10000, 2000), "innermost text at level 10000"))
	add("nested-unclosed-5000", nesting, Warned, nestedUnclosed(pick(5000, 1000)))
	add("nested-rfc822-200", nesting, Processed, nestedMessages(200))

	// Deep HTML.
	add("html-divs-200000", deepHTML, Recorded, htmlBody(strings.Repeat("<div>", pick(200000, 20000))+"deep text"+strings.Repeat("</div>", pick(200000, 20000))))
	add("html-unclosed-100000", deepHTML, Recorded, htmlBody(strings.Repeat("<b><i><span>", pick(100000, 10000))+"unclosed text"))
	add("html-attribute-2MB", deepHTML, Recorded, htmlBody(`<p title="`+strings.Repeat("a", pick(2<<20, 200<<10))+`">attribute text</p>`))
	add("html-tables-50000", deepHTML, Recorded, htmlBody(strings.Repeat("<table><tr><td>", pick(50000, 5000))+"cell text"))
	add("html-comment-unclosed", deepHTML, Recorded, htmlBody("before <!-- "+strings.Repeat("x", 100000)))

	// Charset lies.
	add("ascii-labelled-utf16", lies, Warned, textPart("text/plain; charset=utf-16", "7bit", []byte("Hello, the printer on floor 3 is broken again.\r\n")))
	add("ascii-labelled-utf16le", lies, Warned, textPart("text/plain; charset=utf-16le", "7bit", []byte("Odd length text.\r\n")))
	add("utf8-labelled-latin1", lies, Warned, textPart("text/plain; charset=iso-8859-1", "8bit", []byte("Grüße aus Köln, der Drucker läuft nicht.\r\n")))
	add("latin1-labelled-utf8", lies, Warned, textPart("text/plain; charset=utf-8", "8bit", []byte("Gr\xfc\xdfe aus K\xf6ln, der Drucker l\xe4uft nicht.\r\n")))
	add("sjis-labelled-ascii", lies, Recorded, textPart("text/plain; charset=us-ascii", "8bit", []byte("\x83p\x83X\x83\x8f\x81[\x83h\x82\xf0\x96Y\x82\xea\x82\xdc\x82\xb5\x82\xbd\r\n")))
	add("utf16-with-bom", lies, Processed, textPart("text/plain; charset=utf-16", "base64", utf16LE("\ufeffReal UTF-16 text with a byte order mark.\r\n")))
	add("utf16-odd-garbage", lies, Warned, textPart("text/plain; charset=utf-16", "base64", []byte("\xff\xfe\x41\x00\x42")))
	add("html-meta-lies", lies, Processed, textPart("text/html", "8bit", []byte(`<meta charset="utf-16"><p>ASCII html that claims UTF-16</p>`)))

	// Broken TNEF.
	goodTNEF := TNEF("Body text from winmail.dat", "report.txt", []byte("attached report"))
	add("tnef-trailing-junk", tnef, Warned, tnefMessage(append(bytes.Clone(goodTNEF), []byte("JUNK AFTER THE STREAM\x00\x01\x02")...)))
	add("tnef-truncated", tnef, Warned, tnefMessage(goodTNEF[:len(goodTNEF)-20]))
	add("tnef-bad-signature", tnef, Warned, tnefMessage(append([]byte("NOTTNEF!"), goodTNEF[8:]...)))
	add("tnef-huge-length", tnef, Warned, tnefMessage(append(bytes.Clone(goodTNEF[:6]), 1, 0x0C, 0x80, 0x01, 0x00, 0xFF, 0xFF, 0xFF, 0x7F, 'x')))
	add("tnef-empty", tnef, Warned, tnefMessage(nil))
	add("tnef-signature-only", tnef, Processed, tnefMessage(goodTNEF[:6]))

	// Huge headers.
	add("subject-1MB", headers, Warned, withHeaders("Subject: "+strings.Repeat("Long subject ", pick(80000, 8000))+"\r\n", "body after a long subject"))
	add("received-10000", headers, Failed, withHeaders(strings.Repeat("Received: from relay.example.net by mx.example.com with ESMTP id 0123456789; Mon, 1 Jan 2024 00:00:00 +0000\r\n", 10000), "body after a long trace"))
	add("header-line-5MB-unfolded", headers, Warned, withHeaders("X-Junk: "+strings.Repeat("j", pick(5<<20, 100<<10))+"\r\n", "body after one huge field"))
	add("header-fields-20000", headers, Processed, withHeaders(strings.Repeat("X-A: b\r\n", 20000), "body after many small fields"))
	add("references-50000", headers, Warned, withHeaders("References:"+strings.Repeat(" <id@example.org>", pick(50000, 5000))+"\r\n", "body after long references"))
	add("header-only", headers, Processed, []byte("From: a@example.org\r\nSubject: no body at all\r\n"))
	add("part-header-filename-100KB", headers, Processed, attachmentNamed(strings.Repeat("n", 100<<10)+".txt"))

	// Header control characters and terminal escapes.
	add("subject-ansi-escapes", controls, Recorded, withHeaders("Subject: \x1b[2J\x1b[H\x1b]0;pwned\x07cleared screen\r\n", "body"))
	add("from-name-escapes", controls, Recorded, withFrom("\"\x1b[31mRed\x1b[0m Admin\" <red@example.org>"))
	add("subject-nul-bytes", controls, Recorded, withHeaders("Subject: nul\x00inside\x00\r\n", "body"))
	add("subject-encoded-escapes", controls, Recorded, withHeaders("Subject: =?utf-8?q?=1B[2J=1B]0;title=07hidden?=\r\n", "body"))
	add("subject-bidi-override", controls, Recorded, withHeaders("Subject: =?utf-8?b?"+base64.StdEncoding.EncodeToString([]byte("invoice \u202egnp.exe"))+"?=\r\n", "body"))

	// CR/LF in display names.
	add("from-encoded-crlf", crlf, Recorded, withFrom("=?utf-8?q?Evil=0D=0ABcc:_x@y.example?= <evil@example.org>"))
	add("from-quoted-bare-cr", crlf, Recorded, withFrom("\"Evil\rBcc: x@y.example\" <evil@example.org>"))
	add("to-name-crlf-b64", crlf, Recorded, withHeaders("To: =?utf-8?b?"+base64.StdEncoding.EncodeToString([]byte("Support\r\nX-Injected: 1"))+"?= <support@example.com>\r\n", "body"))

	// Forged display names.
	add("from-name-is-address", forged, Recorded, withFrom("\"support@example.com\" <attacker@evil.example>"))
	add("from-name-bidi", forged, Recorded, withFrom("=?utf-8?q?CEO_=E2=80=AEmoc.elpmaxe@oec?= <x@evil.example>"))
	add("from-two-addresses", forged, Recorded, withFrom("boss@example.com, attacker@evil.example"))
	add("from-empty", forged, Recorded, withFrom(""))
	add("from-group", forged, Recorded, withFrom("Undisclosed:;"))
	add("from-nested-angles", forged, Recorded, withFrom("Boss <boss@example.com> <attacker@evil.example>"))

	// Hostile attachment file names.
	add("filename-traversal", names, Processed, attachmentNamed("../../../../etc/passwd"))
	add("filename-windows-path", names, Processed, attachmentNamed(`C:\Windows\System32\drivers\etc\hosts`))
	add("filename-nul", names, Processed, attachmentNamed("report\x00.exe.txt"))
	add("filename-10000-chars", names, Processed, attachmentNamed(strings.Repeat("a", 10000)+".pdf"))
	add("filename-reserved-con", names, Processed, attachmentNamed("CON.txt"))
	add("filename-reserved-com1", names, Processed, attachmentNamed("com1"))
	add("filename-rtlo", names, Processed, attachmentNamed("invoice\u202etxt.exe"))
	add("filename-rfc2231-traversal", names, Processed, rawAttachment(`attachment; filename*=utf-8''..%2F..%2F..%2Fetc%2Fshadow`))
	add("filename-only-dots", names, Processed, attachmentNamed("...."))
	add("filename-encoded-slash", names, Processed, rawAttachment(`attachment; filename="=?utf-8?q?..=2F..=2Fboot.ini?="`))

	// Broken transfer encodings.
	add("base64-garbage", encoding, Warned, textPart("text/plain; charset=utf-8", "base64", []byte("SGVsbG8g!!!d29y$$bGQ=\r\n")))
	add("base64-cut-mid-quantum", encoding, Warned, textPart("text/plain; charset=utf-8", "base64", []byte("SGVsbG8gd29ybGQhIE1vcmUgdGV4dC")))
	add("qp-invalid-escapes", encoding, Processed, textPart("text/plain; charset=utf-8", "quoted-printable", []byte("bad =ZZ escape and =4 short\r\n")))
	add("qp-soft-break-at-end", encoding, Processed, textPart("text/plain; charset=utf-8", "quoted-printable", []byte("ends in a soft break=")))
	add("unknown-transfer-encoding", encoding, Warned, textPart("text/plain; charset=utf-8", "x-uuencode", []byte("begin 644 file\r\n`\r\nend\r\n")))
	add("base64-attachment-garbage", encoding, Warned, rawPart("application/pdf", "attachment; filename=a.pdf", "base64", "JVBERi0xLjcK***not base64***\r\n"))

	// Missing boundaries.
	add("multipart-no-boundary", bounds, Warned, simple("multipart/mixed", "text without a boundary\r\n"))
	add("multipart-boundary-absent", bounds, Warned, simple("multipart/mixed; boundary=never", "no delimiter line anywhere\r\n"))
	add("multipart-no-closing", bounds, Warned, simple("multipart/mixed; boundary=b", "--b\r\nContent-Type: text/plain\r\n\r\nopen part\r\n"))
	add("boundary-1000-chars", bounds, Recorded, longBoundary(1000))
	add("nested-same-boundary", bounds, Recorded, simple("multipart/mixed; boundary=b", "--b\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\ninner\r\n--b--\r\n--b--\r\n"))

	// Oversized messages: outcomes depend on limits.maxMessageSize and
	// the attachment policy, so only an outcome is asserted.
	add("attachment-30MB", oversize, Recorded, bigAttachment(pick(30<<20, 2<<20)))
	add("text-body-10MB", oversize, Recorded, withHeaders("Subject: long body\r\n", strings.Repeat("a long line of text in a very long body\r\n", pick(250000, 25000))))

	// Bad dates.
	add("date-words", dates, Warned, withHeaders("Date: yesterday around noon\r\n", "body"))
	add("date-year-99999", dates, Warned, withHeaders("Date: Mon, 1 Jan 99999 00:00:00 +0000\r\n", "body"))
	add("date-zone-out-of-range", dates, Recorded, withHeaders("Date: Mon, 1 Jan 2024 00:00:00 +9999\r\n", "body"))
	add("date-far-future", dates, Processed, withHeaders("Date: Tue, 1 Jan 2999 00:00:00 +0000\r\n", "body"))

	// Unknown charsets.
	add("charset-unknown-body", charsets, Warned, textPart("text/plain; charset=x-unknown-42", "8bit", []byte("Caf\xe9 au lait\r\n")))
	add("charset-unknown-word", charsets, Recorded, withHeaders("Subject: =?x-klingon?q?Qapla=E9?=\r\n", "body"))
	add("charset-utf7", charsets, Recorded, textPart("text/plain; charset=utf-7", "7bit", []byte("Hi Mom -+Jjo--!\r\n")))
	add("charset-empty-label", charsets, Processed, textPart(`text/plain; charset=""`, "7bit", []byte("empty label\r\n")))

	// Malformed structure.
	add("not-mime-binary", shape, Warned, bytes.Repeat([]byte{0, 1, 2, 0xff, 0xfe, '\n'}, 1000))
	add("cr-only-line-ends", shape, Recorded, []byte("From: a@example.org\rSubject: cr only\r\rbody\r"))
	add("lf-only-line-ends", shape, Processed, []byte("From: a@example.org\nSubject: lf only\n\nbody\n"))
	add("nul-in-body", shape, Recorded, withHeaders("Subject: nul body\r\n", "before\x00after"))
	add("content-type-10000-params", shape, Recorded, simple("text/plain"+strings.Repeat("; p=v", 10000), "body\r\n"))
	add("rfc2231-10000-pieces", shape, Recorded, rawAttachment("attachment"+rfc2231Pieces(10000)))
	add("subject-10000-words", shape, Warned, withHeaders("Subject:"+strings.Repeat(" =?utf-8?q?w=C3=B6rd?=", 10000)+"\r\n", "body"))
	return cs
}

// head is the header every hostile message starts with, except where a
// case replaces a field.
const hostileFrom = "From: Probe <probe@example.org>\r\n"

const hostileHead = "To: support@example.com\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <hostile@example.org>\r\nMIME-Version: 1.0\r\n"

// withHeaders is a text message with extra header fields (each ending in
// CRLF) after the usual ones.
func withHeaders(fields, body string) []byte {
	if !strings.Contains(fields, "Subject:") {
		fields = "Subject: hostile\r\n" + fields
	}
	head := hostileHead
	if strings.Contains(fields, "Date:") {
		head = strings.Replace(head, "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n", "", 1)
	}
	return []byte(hostileFrom + head + fields + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n")
}

// withFrom is a text message with the given From field value.
func withFrom(from string) []byte {
	return []byte("From: " + from + "\r\n" + hostileHead + "Subject: from\r\nContent-Type: text/plain\r\n\r\nbody\r\n")
}

// simple is a message with the given Content-Type and raw body.
func simple(ctype, body string) []byte {
	return []byte(hostileFrom + hostileHead + "Subject: hostile\r\nContent-Type: " + ctype + "\r\n\r\n" + body)
}

// textPart is a single-part message with the given type, transfer
// encoding and body bytes; base64 bodies are encoded here unless they
// are already text.
func textPart(ctype, cte string, body []byte) []byte {
	if cte == "base64" && !isBase64Text(body) {
		body = []byte(base64.StdEncoding.EncodeToString(body))
	}
	var b bytes.Buffer
	b.WriteString(hostileFrom + hostileHead + "Subject: hostile\r\nContent-Type: " + ctype + "\r\nContent-Transfer-Encoding: " + cte + "\r\n\r\n")
	b.Write(body)
	b.WriteString("\r\n")
	return b.Bytes()
}

func isBase64Text(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 || c < 0x20 && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

func htmlBody(html string) []byte {
	return textPart("text/html; charset=utf-8", "8bit", []byte(html))
}

// rawPart is a multipart/mixed message with a short text and one part.
func rawPart(ctype, disp, cte, body string) []byte {
	return simple("multipart/mixed; boundary=hb",
		"--hb\r\nContent-Type: text/plain\r\n\r\nsee the attachment\r\n"+
			"--hb\r\nContent-Type: "+ctype+"\r\nContent-Disposition: "+disp+"\r\nContent-Transfer-Encoding: "+cte+"\r\n\r\n"+body+"\r\n--hb--\r\n")
}

// rawAttachment is a text attachment with the given Content-Disposition.
func rawAttachment(disp string) []byte {
	return rawPart("text/plain", disp, "7bit", "attached text")
}

// attachmentNamed is a text attachment with a quoted file name.
func attachmentNamed(name string) []byte {
	return rawAttachment(`attachment; filename="` + strings.ReplaceAll(name, `"`, `\"`) + `"`)
}

func rfc2231Pieces(n int) string {
	var b strings.Builder
	b.WriteString("; filename*0*=utf-8''a")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "; filename*%d*=b", i)
	}
	return b.String()
}

// ManyParts is a multipart/mixed message with n tiny text parts.
func ManyParts(n int) []byte {
	var b bytes.Buffer
	b.WriteString(hostileFrom + hostileHead + "Subject: many parts\r\nContent-Type: multipart/mixed; boundary=p\r\n\r\n")
	for i := 0; i < n; i++ {
		b.WriteString("--p\r\nContent-Type: text/plain\r\n\r\nx\r\n")
	}
	b.WriteString("--p--\r\n")
	return b.Bytes()
}

// ManyAttachments is a message with a text and n small named attachments.
func ManyAttachments(n int) []byte {
	var b bytes.Buffer
	b.WriteString(hostileFrom + hostileHead + "Subject: many attachments\r\nContent-Type: multipart/mixed; boundary=p\r\n\r\n")
	b.WriteString("--p\r\nContent-Type: text/plain\r\n\r\nplease see the attached files\r\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "--p\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"f%d.txt\"\r\n\r\nfile %d\r\n", i, i)
	}
	b.WriteString("--p--\r\n")
	return b.Bytes()
}

// Nested is a message whose text sits inside depth nested multiparts.
func Nested(depth int, text string) []byte {
	var b bytes.Buffer
	b.WriteString(hostileFrom + hostileHead + "Subject: nested\r\nContent-Type: multipart/mixed; boundary=n0\r\n\r\n")
	for i := 1; i < depth; i++ {
		fmt.Fprintf(&b, "--n%d\r\nContent-Type: multipart/mixed; boundary=n%d\r\n\r\n", i-1, i)
	}
	fmt.Fprintf(&b, "--n%d\r\nContent-Type: text/plain\r\n\r\n%s\r\n", depth-1, text)
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--n%d--\r\n", i)
	}
	return b.Bytes()
}

// nestedUnclosed nests multiparts that are never closed.
func nestedUnclosed(depth int) []byte {
	var b bytes.Buffer
	b.WriteString(hostileFrom + hostileHead + "Subject: unclosed\r\nContent-Type: multipart/mixed; boundary=u0\r\n\r\n")
	for i := 1; i < depth; i++ {
		fmt.Fprintf(&b, "--u%d\r\nContent-Type: multipart/mixed; boundary=u%d\r\n\r\n", i-1, i)
	}
	b.WriteString("never closed\r\n")
	return b.Bytes()
}

// nestedMessages attaches a message in a message, depth times.
func nestedMessages(depth int) []byte {
	inner := "From: inner@example.org\r\nSubject: innermost\r\n\r\ninnermost message\r\n"
	for i := 0; i < depth; i++ {
		inner = fmt.Sprintf("From: m%d@example.org\r\nSubject: level %d\r\nContent-Type: multipart/mixed; boundary=m%d\r\n\r\n--m%d\r\nContent-Type: text/plain\r\n\r\nlevel %d\r\n--m%d\r\nContent-Type: message/rfc822\r\n\r\n%s\r\n--m%d--\r\n", i, i, i, i, i, i, inner, i)
	}
	return []byte(hostileHead + inner)
}

func longBoundary(n int) []byte {
	bd := strings.Repeat("b", n)
	return simple("multipart/mixed; boundary=\""+bd+"\"", "--"+bd+"\r\nContent-Type: text/plain\r\n\r\nlong boundary text\r\n--"+bd+"--\r\n")
}

func bigAttachment(size int) []byte {
	var b bytes.Buffer
	b.WriteString(hostileFrom + hostileHead + "Subject: big attachment\r\nContent-Type: multipart/mixed; boundary=big\r\n\r\n")
	b.WriteString("--big\r\nContent-Type: text/plain\r\n\r\nbig file attached\r\n")
	b.WriteString("--big\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=big.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	line := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5a, 0xa5, 0x3c}, 19)) + "\r\n" // 57 bytes a line
	for n := 0; n < size; n += 57 {
		b.WriteString(line)
	}
	b.WriteString("--big--\r\n")
	return b.Bytes()
}

func tnefMessage(data []byte) []byte {
	return rawPart("application/ms-tnef", `attachment; filename="winmail.dat"`, "base64", wrap76(base64.StdEncoding.EncodeToString(data)))
}

func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	b.WriteString(s)
	return b.String()
}

func utf16LE(s string) []byte {
	var b []byte
	for _, r := range s {
		b = binary.LittleEndian.AppendUint16(b, uint16(r))
	}
	return b
}

// TNEF builds a winmail.dat stream ([MS-OXTNEF] 2.1.3): the signature,
// a key, the message body as attBody, then one attachment with its
// title and data.
func TNEF(body, name string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint32(0x223E9F78))
	binary.Write(&b, binary.LittleEndian, uint16(0x0001))
	attr := func(level byte, id uint32, v []byte) {
		b.WriteByte(level)
		binary.Write(&b, binary.LittleEndian, id)
		binary.Write(&b, binary.LittleEndian, uint32(len(v)))
		b.Write(v)
		sum := uint16(0)
		for _, c := range v {
			sum += uint16(c)
		}
		binary.Write(&b, binary.LittleEndian, sum)
	}
	attr(1, 0x00078008, []byte("IPM.Microsoft Mail.Note\x00"))
	attr(1, 0x0001800C, append([]byte(body), 0))
	attr(2, 0x00069002, make([]byte, 14))
	attr(2, 0x00018010, append([]byte(name), 0))
	attr(2, 0x0006800F, data)
	return b.Bytes()
}
