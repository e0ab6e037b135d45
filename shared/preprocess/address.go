package preprocess

import (
	"strings"
	"unicode/utf8"

	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
	"golang.org/x/text/unicode/norm"

	"mailconnector/shared/controlchar"
	"mailconnector/shared/lazyre"
	"mailconnector/shared/message"
)

// The sender of a message is the addr-spec of its From mailbox, inside
// the angle brackets of a name-addr or alone (RFC 5322 sections 3.4 and
// 3.6.2). Nothing else in the field (display name, comments, quoted
// strings, encoded words) ever stands for an address: a field that
// net/mail cannot read is split by a tolerant scanner that only takes an
// addr-spec from angle brackets, or, without brackets, from the text left
// once quoted strings and comments are set aside.

// addrLike finds address-shaped text in a decoded, NFKC-normalized
// display name or comment.
var addrLike = lazyre.New(`[^\s<>,;:"'()\[\]@]+@[^\s<>,;:"'()\[\]@]+`)

// sender fills From and the sender's flags: FromNameLooksLikeAddress when
// the field holds an address other than the sender's (in the display name
// or a comment, plainly or as an RFC 2047 encoded word); Suspicious when
// the sender is ambiguous (several From fields, several mailboxes in one,
// several bare addresses).
func (p *processor) sender(h textproto.Header) {
	m := p.msg
	var vals []string
	for _, v := range h.Values("From") {
		if strings.TrimSpace(v) != "" {
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 {
		return
	}
	if len(vals) > 1 {
		p.suspicious("from: %d From fields (RFC 5322 section 3.6 allows one): none is trusted", len(vals))
	}
	list := p.parseAddressList("from", vals[0])
	if len(list) == 0 {
		return
	}
	if len(list) > 1 {
		p.suspicious("from: %d mailboxes in one From field: none is trusted", len(list))
	}
	m.From = list[0].Address
	if list[0].ambiguous {
		p.suspicious("from: several addresses without angle brackets: none is trusted")
	}
	for _, v := range vals {
		if other := otherAddress(v, m.From.Address); other != "" {
			m.FromNameLooksLikeAddress = true
			p.warn("from: the display name holds the address %s, not the sender %s: the sender is %s", other, m.From.Address, m.From.Address)
			break
		}
	}
}

// suspicious records why the sender cannot be trusted, also as a warning.
func (p *processor) suspicious(format string, args ...any) {
	p.warn(format, args...)
	p.msg.Suspicious = append(p.msg.Suspicious, p.msg.Warnings[len(p.msg.Warnings)-1])
}

// otherAddress returns the first address-shaped text in a raw header
// value, once encoded words are decoded and compatibility characters
// (a fullwidth "＠") folded, that is not addr; "" if there is none.
func otherAddress(raw, addr string) string {
	s := norm.NFKC.String(decodeWords(raw))
	for _, a := range addrLike.FindAllString(s, -1) {
		a = strings.TrimRight(a, ".")
		if !strings.EqualFold(a, addr) {
			return a
		}
	}
	return ""
}

// parsedAddress is one mailbox of an address list.
type parsedAddress struct {
	message.Address
	// ambiguous: the mailbox had no angle brackets and several bare
	// addresses; the last was taken.
	ambiguous bool
}

// parseAddressList parses an address-list header field (RFC 5322 section
// 3.4) with net/mail; a list that does not parse is read by the tolerant
// scanner, with a warning. field names the header in warnings.
func (p *processor) parseAddressList(field, v string) []parsedAddress {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	if !utf8.ValidString(v) {
		v = decodeFallback([]byte(v))
	}
	list, err := gomail.ParseAddressList(v)
	var out []parsedAddress
	if err == nil {
		out = make([]parsedAddress, 0, len(list))
		for _, a := range list {
			out = append(out, parsedAddress{Address: message.Address{Name: a.Name, Address: a.Address}})
		}
	} else {
		out = scanAddressList(v)
		p.warn("%s: malformed address list %q", field, controlchar.Strip(v))
	}
	for i := range out {
		out[i].Name = controlchar.Strip(out[i].Name)
		out[i].Address.Address = controlchar.Strip(out[i].Address.Address)
	}
	return out
}

// addresses parses the first key field as an address list.
func (p *processor) addresses(h textproto.Header, key string) []message.Address {
	list := p.parseAddressList(strings.ToLower(key), h.Get(key))
	var out []message.Address
	for _, a := range list {
		out = append(out, a.Address)
	}
	return out
}

// scanAddressList reads an address list that net/mail refuses: unclosed
// quotes or comments, display names with "@" or "<" in them, missing
// brackets. Mailboxes are split at commas outside quotes, comments and
// angle brackets; a group's name ("team:") and its ";" are dropped.
func scanAddressList(v string) []parsedAddress {
	toks := scanTokens(v)
	var out []parsedAddress
	var cur []token
	flush := func() {
		if a, ok := mailboxFrom(cur); ok {
			out = append(out, a)
		}
		cur = nil
	}
	for _, t := range toks {
		switch {
		case t.kind == tokSpecial && (t.text == "," || t.text == ";"):
			flush()
		case t.kind == tokSpecial && t.text == ":":
			cur = nil // a group's display name
		default:
			cur = append(cur, t)
		}
	}
	flush()
	return out
}

type tokKind int

const (
	tokText    tokKind = iota // atoms, dots, anything unstructured
	tokQuoted                 // a quoted-string, without its quotes
	tokComment                // a comment, without its parentheses
	tokAngle                  // the inside of <...>
	tokSpecial                // "," ";" ":"
)

type token struct {
	kind tokKind
	text string
}

// scanTokens splits a header value into quoted strings, comments (nested,
// RFC 5322 section 3.2.2), angle-bracketed text and the rest. A quote,
// parenthesis or bracket that never closes is taken as an ordinary
// character, as a lenient mail client does.
func scanTokens(v string) []token {
	literal := map[int]bool{}
	for {
		toks, open := scanOnce(v, literal)
		if open < 0 {
			return toks
		}
		literal[open] = true
	}
}

// scanOnce tokenizes v; it returns the position of the first opener that
// never closes, or -1.
func scanOnce(v string, literal map[int]bool) ([]token, int) {
	var toks []token
	var text strings.Builder
	flushText := func() {
		if s := strings.TrimSpace(text.String()); s != "" {
			toks = append(toks, token{tokText, s})
		}
		text.Reset()
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if literal[i] {
			text.WriteByte(c)
			continue
		}
		switch c {
		case '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(v) && v[j] != '"'; j++ {
				if v[j] == '\\' && j+1 < len(v) {
					j++
				}
				b.WriteByte(v[j])
			}
			if j >= len(v) {
				return nil, i
			}
			flushText()
			toks = append(toks, token{tokQuoted, b.String()})
			i = j
		case '(':
			depth, j := 0, i
			for ; j < len(v); j++ {
				if v[j] == '\\' {
					j++
					continue
				}
				if v[j] == '(' {
					depth++
				} else if v[j] == ')' {
					if depth--; depth == 0 {
						break
					}
				}
			}
			if j >= len(v) {
				return nil, i
			}
			flushText()
			toks = append(toks, token{tokComment, v[i+1 : j]})
			i = j
		case '<':
			j := strings.IndexByte(v[i+1:], '>')
			if j < 0 {
				return nil, i
			}
			flushText()
			toks = append(toks, token{tokAngle, v[i+1 : i+1+j]})
			i += j + 1
		case ',', ';', ':':
			flushText()
			toks = append(toks, token{tokSpecial, string(c)})
		case '=':
			// An RFC 2047 encoded word is one atom, whatever it holds.
			if loc := encodedWord.FindStringIndex(v[i:]); loc != nil && loc[0] == 0 {
				text.WriteString(v[i : i+loc[1]])
				i += loc[1] - 1
				continue
			}
			text.WriteByte(c)
		default:
			text.WriteByte(c)
		}
	}
	flushText()
	return toks, -1
}

// mailboxFrom makes one mailbox of its tokens. The address is the last
// angle-bracketed addr-spec; without one, the only bare address outside
// quotes and comments (the last of several, marked ambiguous). Everything
// else is the display name.
func mailboxFrom(toks []token) (parsedAddress, bool) {
	addrAt := -1
	for i, t := range toks {
		if t.kind == tokAngle && strings.Contains(t.text, "@") {
			addrAt = i
		}
	}
	var a parsedAddress
	var name []string
	if addrAt >= 0 {
		a.Address.Address = angleAddr(toks[addrAt].text)
		for i, t := range toks {
			if i != addrAt {
				name = append(name, t.text)
			}
		}
	} else {
		var bare []string
		for _, t := range toks {
			if t.kind == tokText {
				for _, f := range strings.Fields(t.text) {
					if strings.Contains(f, "@") && !strings.HasPrefix(f, "=?") {
						bare = append(bare, f)
						continue
					}
					name = append(name, f)
				}
				continue
			}
			name = append(name, t.text)
		}
		switch len(bare) {
		case 0:
		case 1:
			a.Address.Address = bare[0]
		default:
			a.Address.Address = bare[len(bare)-1]
			a.ambiguous = true
			name = append(name, bare[:len(bare)-1]...)
		}
	}
	a.Name = strings.Trim(collapseSpace(decodeWords(strings.Join(name, " "))), ` "'`)
	if a.Address.Address == "" && a.Name == "" {
		return a, false
	}
	return a, a.Address.Address != ""
}

// angleAddr returns the addr-spec inside angle brackets, without an
// obsolete route ("@relay.example,@relay2.example:", RFC 5322 section
// 4.4) and white space.
func angleAddr(s string) string {
	if i := strings.LastIndexByte(s, ':'); i >= 0 && strings.HasPrefix(strings.TrimSpace(s), "@") {
		s = s[i+1:]
	}
	return strings.Join(strings.Fields(s), "")
}
