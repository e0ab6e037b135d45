package mailgen

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"
	"time"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
)

// spec is one message to write.
type spec struct {
	From       string // display name, UTF-8
	FromAddr   string
	To         string // full address list, ASCII
	Cc         string
	Subject    string // UTF-8
	Date       time.Time
	MessageID  string // without angle brackets
	InReplyTo  string
	References []string
	Extra      [][2]string // extra header fields, ASCII
	Charset    string      // "" or "utf-8", or a charset of charsets
	Text       string      // UTF-8, "\n" line breaks
	HTML       string      // UTF-8 HTML; with Alternative and "", derived from Text
	// Alternative writes text/plain and text/html as multipart/alternative.
	Alternative bool
	Attachment  *attachment
}

// attachment is a file part: Data, or Size bytes read from Source.
type attachment struct {
	Name        string
	ContentType string
	Data        []byte
	Size        int64
	Source      io.Reader
}

// charsets maps a MIME charset name to its encoder and the transfer
// encoding its text parts use.
var charsets = map[string]struct {
	enc encoding.Encoding
	cte string
}{
	"iso-8859-1":   {charmap.ISO8859_1, "quoted-printable"},
	"windows-1252": {charmap.Windows1252, "quoted-printable"},
	"koi8-r":       {charmap.KOI8R, "quoted-printable"},
	"shift_jis":    {japanese.ShiftJIS, "base64"},
	"iso-2022-jp":  {japanese.ISO2022JP, "7bit"},
}

// writeHeader writes one header field, folding at the spaces of long
// values (RFC 5322 section 2.2.3).
func writeHeader(b *bytes.Buffer, name, value string) {
	b.WriteString(name)
	b.WriteString(":")
	line := len(name) + 1
	for i, word := range strings.Split(value, " ") {
		if i > 0 && line+1+len(word) > 76 {
			b.WriteString("\r\n")
			line = 0
		}
		b.WriteString(" ")
		b.WriteString(word)
		line += 1 + len(word)
	}
	b.WriteString("\r\n")
}

// encodeWord writes s as an RFC 2047 encoded word in charset when it fits
// in one (stateful charsets such as ISO-2022-JP must not be split), and
// as UTF-8 encoded words otherwise. ASCII stays as it is.
func encodeWord(charset, s string) string {
	if isASCII(s) {
		return s
	}
	if c, ok := charsets[charset]; ok {
		if b, err := c.enc.NewEncoder().String(s); err == nil {
			w := "=?" + strings.ToUpper(charset) + "?B?" + base64.StdEncoding.EncodeToString([]byte(b)) + "?="
			if len(w) <= 75 {
				return w
			}
		}
	}
	return mime.BEncoding.Encode("utf-8", s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func address(name, addr string, charset string) string {
	if name == "" {
		return "<" + addr + ">"
	}
	if isASCII(name) {
		if strings.ContainsAny(name, `()<>[]:;@\,."`) {
			return `"` + strings.ReplaceAll(name, `"`, `\"`) + `" <` + addr + ">"
		}
		return name + " <" + addr + ">"
	}
	return encodeWord(charset, name) + " <" + addr + ">"
}

// write writes the message with CRLF line endings; boundary returns a new
// multipart boundary.
func (s *spec) write(w io.Writer, boundary func() string) error {
	var h bytes.Buffer
	writeHeader(&h, "From", address(s.From, s.FromAddr, s.Charset))
	writeHeader(&h, "To", s.To)
	if s.Cc != "" {
		writeHeader(&h, "Cc", s.Cc)
	}
	writeHeader(&h, "Subject", encodeWord(s.Charset, s.Subject))
	writeHeader(&h, "Date", s.Date.Format(time.RFC1123Z))
	writeHeader(&h, "Message-ID", "<"+s.MessageID+">")
	if s.InReplyTo != "" {
		writeHeader(&h, "In-Reply-To", "<"+s.InReplyTo+">")
	}
	if len(s.References) > 0 {
		refs := make([]string, len(s.References))
		for i, r := range s.References {
			refs[i] = "<" + r + ">"
		}
		writeHeader(&h, "References", strings.Join(refs, " "))
	}
	for _, f := range s.Extra {
		writeHeader(&h, f[0], f[1])
	}
	writeHeader(&h, "MIME-Version", "1.0")
	if _, err := w.Write(h.Bytes()); err != nil {
		return fmt.Errorf("write header: %w", err)
	}

	body := func(w io.Writer) error {
		if !s.Alternative {
			return s.writeText(w, "text/plain", s.Text)
		}
		b := boundary()
		if _, err := fmt.Fprintf(w, "Content-Type: multipart/alternative;\r\n\tboundary=\"%s\"\r\n\r\n", b); err != nil {
			return err
		}
		htmlText := s.HTML
		if htmlText == "" {
			htmlText = textToHTML(s.Text, s.Charset)
		}
		for _, p := range []struct{ ctype, text string }{{"text/plain", s.Text}, {"text/html", htmlText}} {
			if _, err := fmt.Fprintf(w, "--%s\r\n", b); err != nil {
				return err
			}
			if err := s.writeText(w, p.ctype, p.text); err != nil {
				return err
			}
			if _, err := io.WriteString(w, "\r\n"); err != nil {
				return err
			}
		}
		_, err := fmt.Fprintf(w, "--%s--\r\n", b)
		return err
	}
	if s.Attachment == nil {
		if err := body(w); err != nil {
			return fmt.Errorf("write body: %w", err)
		}
		return nil
	}
	b := boundary()
	if _, err := fmt.Fprintf(w, "Content-Type: multipart/mixed;\r\n\tboundary=\"%s\"\r\n\r\nThis is a multi-part message in MIME format.\r\n\r\n--%s\r\n", b, b); err != nil {
		return fmt.Errorf("write body: %w", err)
	}
	if err := body(w); err != nil {
		return fmt.Errorf("write body: %w", err)
	}
	if _, err := fmt.Fprintf(w, "\r\n--%s\r\n", b); err != nil {
		return fmt.Errorf("write attachment: %w", err)
	}
	if err := s.Attachment.write(w); err != nil {
		return fmt.Errorf("write attachment %s: %w", s.Attachment.Name, err)
	}
	if _, err := fmt.Fprintf(w, "\r\n--%s--\r\n", b); err != nil {
		return fmt.Errorf("write attachment: %w", err)
	}
	return nil
}

// writeText writes a text part's header and body in the spec's charset.
func (s *spec) writeText(w io.Writer, ctype, text string) error {
	charset := strings.ToLower(s.Charset)
	if charset == "" {
		charset = "utf-8"
	}
	var raw []byte
	cte := "quoted-printable"
	if c, ok := charsets[charset]; ok {
		b, err := c.enc.NewEncoder().String(text)
		if err != nil {
			return fmt.Errorf("encode text as %s: %w", charset, err)
		}
		raw, cte = []byte(b), c.cte
	} else {
		raw = []byte(text)
		if isASCII(text) && maxLine(text) <= 76 {
			cte = "7bit"
		}
	}
	if _, err := fmt.Fprintf(w, "Content-Type: %s; charset=\"%s\"\r\nContent-Transfer-Encoding: %s\r\n\r\n", ctype, charset, cte); err != nil {
		return err
	}
	switch cte {
	case "quoted-printable":
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write(raw); err != nil {
			return err
		}
		if err := qp.Close(); err != nil {
			return err
		}
		if !bytes.HasSuffix(raw, []byte("\n")) {
			_, err := io.WriteString(w, "\r\n")
			return err
		}
		return nil
	case "base64":
		lw := &lineWrapper{w: w}
		enc := base64.NewEncoder(base64.StdEncoding, lw)
		if _, err := enc.Write(raw); err != nil {
			return err
		}
		if err := enc.Close(); err != nil {
			return err
		}
		return lw.end()
	default: // 7bit
		t := strings.ReplaceAll(strings.TrimRight(string(raw), "\n"), "\n", "\r\n")
		_, err := io.WriteString(w, t+"\r\n")
		return err
	}
}

func maxLine(s string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		n = max(n, len(l))
	}
	return n
}

// write writes the attachment part, base64 in lines of 76 (RFC 2045
// section 6.8), streaming Source.
func (a *attachment) write(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "Content-Type: %s;\r\n\tname=\"%s\"\r\nContent-Disposition: attachment;\r\n\tfilename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n", a.ContentType, a.Name, a.Name); err != nil {
		return err
	}
	lw := &lineWrapper{w: w}
	enc := base64.NewEncoder(base64.StdEncoding, lw)
	if a.Source != nil {
		if _, err := io.CopyN(enc, a.Source, a.Size); err != nil {
			return err
		}
	} else if _, err := enc.Write(a.Data); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	return lw.end()
}

// lineWrapper inserts CRLF after every 76 bytes.
type lineWrapper struct {
	w io.Writer
	n int
}

func (l *lineWrapper) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		k := min(len(p), 76-l.n)
		if _, err := l.w.Write(p[:k]); err != nil {
			return written, err
		}
		written += k
		l.n += k
		p = p[k:]
		if l.n == 76 {
			if _, err := io.WriteString(l.w, "\r\n"); err != nil {
				return written, err
			}
			l.n = 0
		}
	}
	return written, nil
}

// end finishes the last line.
func (l *lineWrapper) end() error {
	if l.n == 0 {
		return nil
	}
	l.n = 0
	_, err := io.WriteString(l.w, "\r\n")
	return err
}

// textToHTML turns plain paragraphs into simple mail HTML; quoted lines
// become a blockquote.
func textToHTML(text, charset string) string {
	if charset == "" {
		charset = "utf-8"
	}
	var b strings.Builder
	b.WriteString("<html>\n<head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=" + charset + "\"></head>\n<body style=\"font-family: Calibri, Arial, sans-serif; font-size: 11pt\">\n")
	var quote []string
	flush := func() {
		if len(quote) > 0 {
			b.WriteString("<blockquote style=\"border-left: 2px solid #ccc; padding-left: 8px\">")
			b.WriteString(strings.Join(quote, "<br>\n"))
			b.WriteString("</blockquote>\n")
			quote = nil
		}
	}
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		var lines []string
		for _, l := range strings.Split(para, "\n") {
			if q, ok := strings.CutPrefix(l, ">"); ok {
				quote = append(quote, html.EscapeString(strings.TrimPrefix(q, " ")))
				continue
			}
			flush()
			lines = append(lines, html.EscapeString(l))
		}
		if len(lines) > 0 {
			b.WriteString("<p>" + strings.Join(lines, "<br>\n") + "</p>\n")
		}
	}
	flush()
	b.WriteString("</body>\n</html>\n")
	return b.String()
}
