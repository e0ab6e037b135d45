package preprocess

import (
	"mime"
	nettextproto "net/textproto"
	"regexp"
	"strings"
	"unicode/utf8"

	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/charset"
	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	"mailconnector/shared/message"
)

var wordDecoder = &mime.WordDecoder{CharsetReader: charset.Reader}

// encodedWord matches what is left of an RFC 2047 encoded word that could
// not be decoded.
var encodedWord = regexp.MustCompile(`=\?[^?\s]*\?[^?\s]*\?[^?\s]*\?=`)

// decodeWords decodes RFC 2047 encoded words. Raw 8-bit bytes that are not
// UTF-8 are read as Windows-1252. Words that cannot be decoded stay as
// they are.
func decodeWords(s string) string {
	if !utf8.ValidString(s) {
		s = decodeFallback([]byte(s))
	}
	if !strings.Contains(s, "=?") {
		return s
	}
	if d, err := wordDecoder.DecodeHeader(s); err == nil {
		return d
	}
	// An unknown charset or a broken word somewhere: decode word by word.
	return encodedWord.ReplaceAllStringFunc(s, func(w string) string {
		if d, err := wordDecoder.DecodeHeader(w); err == nil {
			return d
		}
		return w
	})
}

// headers fills the header-derived fields of the message (RFC 5322
// section 3.6).
func (p *processor) headers(h textproto.Header) {
	m := p.msg
	m.Headers = map[string][]string{}
	for f := h.Fields(); f.Next(); {
		k := nettextproto.CanonicalMIMEHeaderKey(f.Key())
		m.Headers[k] = append(m.Headers[k], decodeWords(f.Value()))
	}

	if raw := h.Get("Subject"); raw != "" {
		m.Subject = strings.TrimSpace(collapseSpace(decodeWords(raw)))
		if encodedWord.MatchString(m.Subject) {
			p.warn("subject: malformed encoded word kept as is")
		}
	}

	m.From = firstAddress(p.addresses(h, "From"))
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

func firstAddress(as []message.Address) message.Address {
	if len(as) == 0 {
		return message.Address{}
	}
	return as[0]
}

func collapseSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// addrInText finds bare addresses in a header that does not parse.
var addrInText = regexp.MustCompile(`[^\s<>,;:"'()\[\]]+@[^\s<>,;:"'()\[\]]+`)

// addresses parses an address-list header field (RFC 5322 section 3.4) as
// net/mail does; a list that does not parse yields the addresses that can
// be found in it, with a warning.
func (p *processor) addresses(h textproto.Header, key string) []message.Address {
	v := h.Get(key)
	if strings.TrimSpace(v) == "" {
		return nil
	}
	if !utf8.ValidString(v) {
		v = decodeFallback([]byte(v))
	}
	list, err := gomail.ParseAddressList(v)
	if err == nil {
		out := make([]message.Address, 0, len(list))
		for _, a := range list {
			out = append(out, message.Address{Name: a.Name, Address: a.Address})
		}
		return out
	}
	var out []message.Address
	for _, part := range strings.Split(v, ",") {
		if a, err := gomail.ParseAddress(part); err == nil {
			out = append(out, message.Address{Name: a.Name, Address: a.Address})
			continue
		}
		loc := addrInText.FindStringIndex(part)
		if loc == nil {
			continue
		}
		name := decodeWords(part[:loc[0]] + part[loc[1]:])
		name = strings.Trim(collapseSpace(name), ` "'<>()`)
		out = append(out, message.Address{Name: name, Address: part[loc[0]:loc[1]]})
	}
	p.warn("%s: malformed address list %q", strings.ToLower(key), v)
	return out
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
