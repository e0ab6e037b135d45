package preprocess

import (
	"encoding/base64"
	nettextproto "net/textproto"
	"strings"
	"unicode"
	"unicode/utf8"

	gomessage "github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	"mailconnector/shared/controlchar"
	"mailconnector/shared/lazyre"
)

// encodedWord matches an RFC 2047 encoded word (section 2), leniently:
// the encoded text may hold spaces (as broken mailers write it), the
// charset may carry an RFC 2231 language ("utf-8*en").
var encodedWord = lazyre.New(`=\?([^?\s]{1,40})\?([bBqQ])\?([^?]*)\?=`)

// brokenWord matches what is left of an encoded word that could not be
// decoded.
var brokenWord = lazyre.New(`=\?[^?\s]*\?[^?\s]*\?[^?\s]*\?=`)

// decodeWords decodes RFC 2047 encoded words, also malformed ones seen in
// the wild: words not separated from text by spaces, spaces inside the
// encoded text, a multi-byte character split across two words (adjacent
// words of one charset are joined before decoding), base64 without
// padding, unknown or wrong charsets (detected). Whitespace between two
// encoded words is dropped (section 6.2). Raw 8-bit bytes that are not
// UTF-8 (RFC 6532 allows UTF-8) are decoded in the detected charset.
// Words that cannot be decoded stay as they are.
func decodeWords(s string) string {
	if !utf8.ValidString(s) {
		s = decodeFallback([]byte(s))
	}
	if !strings.Contains(s, "=?") {
		return s
	}
	matches := encodedWord.FindAllStringSubmatchIndex(s, -1)
	if matches == nil {
		return s
	}
	var b strings.Builder
	var pending []byte // decoded bytes of adjacent words in one charset
	pendingCS := ""
	flush := func() {
		if len(pending) > 0 {
			b.WriteString(decodeCharset(pending, pendingCS))
		}
		pending, pendingCS = nil, ""
	}
	last := 0
	for _, m := range matches {
		gap := s[last:m[0]]
		if strings.TrimSpace(gap) != "" || last == 0 {
			flush()
			b.WriteString(gap)
		}
		cs := normalizeCharset(s[m[2]:m[3]])
		raw, ok := decodeWordText(s[m[4]:m[5]], s[m[6]:m[7]])
		if !ok {
			flush()
			b.WriteString(s[m[0]:m[1]])
			last = m[1]
			continue
		}
		if cs != pendingCS {
			flush()
		}
		pending = append(pending, raw...)
		pendingCS = cs
		last = m[1]
	}
	flush()
	b.WriteString(s[last:])
	return b.String()
}

// decodeWordText decodes the encoded text of one word: "B" is base64
// (padding optional, spaces ignored), "Q" is quoted-printable with "_"
// for space (RFC 2047 section 4.2).
func decodeWordText(enc, text string) ([]byte, bool) {
	if enc == "b" || enc == "B" {
		t := strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) {
				return -1
			}
			return r
		}, text)
		t = strings.TrimRight(t, "=")
		out, err := base64.RawStdEncoding.DecodeString(t)
		if err != nil {
			if out, err = base64.RawURLEncoding.DecodeString(t); err != nil {
				return nil, false
			}
		}
		return out, true
	}
	out := make([]byte, 0, len(text))
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '_':
			out = append(out, ' ')
		case c == '=' && i+2 < len(text) && isHex(text[i+1]) && isHex(text[i+2]):
			out = append(out, unhex(text[i+1])<<4|unhex(text[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return out, true
}

// headers fills the header-derived fields of the message (RFC 5322
// section 3.6).
func (p *processor) headers(h textproto.Header) {
	m := p.msg
	m.Headers = map[string][]string{}
	for f := h.Fields(); f.Next(); {
		k := nettextproto.CanonicalMIMEHeaderKey(f.Key())
		m.Headers[k] = append(m.Headers[k], controlchar.Strip(decodeWords(f.Value())))
	}

	if raw := h.Get("Subject"); raw != "" {
		m.Subject = controlchar.Strip(decodeWords(raw))
		if brokenWord.MatchString(m.Subject) {
			p.warn("subject: malformed encoded word kept as is")
		}
	}

	p.sender(h)
	m.To = p.addresses(h, "To")
	m.Cc = p.addresses(h, "Cc")
	m.ReplyTo = p.addresses(h, "Reply-To")

	mh := gomail.Header{Header: gomessage.Header{Header: h}}
	if h.Get("Date") != "" {
		d, err := mh.Date()
		if err != nil {
			p.warn("date: cannot parse %q", h.Get("Date"))
		} else {
			m.Date = d.UTC()
		}
	}
	if v := h.Get("Message-Id"); v != "" {
		if id, err := mh.MessageID(); err == nil && id != "" {
			m.MessageID = id
		} else {
			m.MessageID = strings.Trim(strings.TrimSpace(v), "<>")
		}
	}
	m.InReplyTo = msgIDs(mh, "In-Reply-To")
	m.References = msgIDs(mh, "References")
}

func collapseSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// msgIDs parses a list of message identifiers (RFC 5322 section 3.6.4),
// falling back to the whitespace-separated words without angle brackets.
func msgIDs(h gomail.Header, key string) []string {
	v := h.Get(key)
	if strings.TrimSpace(v) == "" {
		return nil
	}
	if ids, err := h.MsgIDList(key); err == nil && len(ids) > 0 {
		return ids
	}
	var out []string
	for _, f := range strings.Fields(v) {
		if f = strings.Trim(f, "<>,"); f != "" {
			out = append(out, f)
		}
	}
	return out
}
