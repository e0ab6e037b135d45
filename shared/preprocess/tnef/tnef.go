// Package tnef reads Transport Neutral Encapsulation Format (winmail.dat,
// application/ms-tnef), as specified in [MS-OXTNEF], and the RTF bodies
// it carries ([MS-OXRTFCP] compression; RTF and [MS-OXRTFEX] encapsulated
// HTML turned into text). It reads what a helpdesk needs: the attachments
// (data, long file name, MIME type) and the body (attBody, PR_BODY,
// PR_BODY_HTML, or PR_RTF_COMPRESSED turned into text); everything else
// is skipped. It is written by hand because no maintained Go TNEF library
// is available on the module proxy (github.com/teamwork/tnef is not
// served there).
package tnef

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
)

// tnefSignature starts every TNEF stream ([MS-OXTNEF] 2.1.3.1).
const tnefSignature = 0x223E9F78

// Attribute ids with their type in the high word ([MS-OXTNEF] 2.1.3.2
// and 2.1.3.3).
const (
	attBody           = 0x0001800C // text
	attMessageClass   = 0x00078008
	attAttachRendData = 0x00069002 // starts an attachment
	attAttachData     = 0x0006800F
	attAttachTitle    = 0x00018010
	attAttachment     = 0x00069005 // MAPI properties of the attachment
	attMAPIProps      = 0x00069003 // MAPI properties of the message
	attOemCodepage    = 0x00069007
)

// MAPI property ids ([MS-OXPROPS]).
const (
	prBody              = 0x1000
	prRTFCompressed     = 0x1009
	prBodyHTML          = 0x1013
	prAttachLongName    = 0x3707
	prAttachMimeTag     = 0x370E
	prAttachDataObj     = 0x3701
	prAttachFilename    = 0x3704
	prAttachContentID   = 0x3712
	prAttachMethod      = 0x3705
	prInternetCPID      = 0x3FDE
	prMessageCodepage   = 0x3FFD
	mapiFlagMultiValued = 0x1000
)

// ErrInvalid is returned for a stream that is not TNEF or is cut short.
var ErrInvalid = errors.New("not a valid TNEF stream")

// A Decoder turns bytes in a named charset into UTF-8; charset is "" when
// the stream names no code page. Decoding (labels, aliases, detection) is
// the caller's: a nil Decoder takes the bytes as UTF-8.
type Decoder func(raw []byte, charset string) string

func (d Decoder) decode(raw []byte, charset string) string {
	if d == nil {
		return strings.ToValidUTF8(string(raw), "\uFFFD")
	}
	return d(raw, charset)
}

// Attachment is one attachment of a TNEF stream.
type Attachment struct {
	Title    string // attAttachTitle (often an 8.3 name)
	LongName string // PR_ATTACH_LONG_FILENAME
	MimeType string // PR_ATTACH_MIME_TAG
	Data     []byte
}

// Name is the best file name of the attachment.
func (a *Attachment) Name() string {
	if a.LongName != "" {
		return a.LongName
	}
	return a.Title
}

// Message is what a TNEF stream holds for a helpdesk.
type Message struct {
	Body        string // plain text
	HTML        string
	RTF         []byte // decompressed RTF, if the body is only there
	Attachments []*Attachment
	codepage    uint32
}

// Decode reads a whole TNEF stream. A stream that does not start as TNEF
// returns a nil Message; one cut short or followed by junk returns what
// was read with an error wrapping ErrInvalid.
func Decode(b []byte, dec Decoder) (*Message, error) {
	if len(b) < 6 || binary.LittleEndian.Uint32(b) != tnefSignature {
		return nil, ErrInvalid
	}
	m := &Message{}
	var cur *Attachment
	for pos := 6; pos < len(b); {
		// level (1), id (4), length (4), data, checksum (2): 2.1.3.3
		if len(b)-pos < 9 {
			return m, fmt.Errorf("tnef: attribute header cut short at offset %d: %w", pos, ErrInvalid)
		}
		level := b[pos]
		id := binary.LittleEndian.Uint32(b[pos+1:])
		n := binary.LittleEndian.Uint32(b[pos+5:])
		pos += 9
		if uint64(n)+2 > uint64(len(b)-pos) {
			return m, fmt.Errorf("tnef: attribute 0x%08x longer than the stream: %w", id, ErrInvalid)
		}
		data := b[pos : pos+int(n)]
		pos += int(n) + 2
		switch {
		case id == attAttachRendData:
			cur = &Attachment{}
			m.Attachments = append(m.Attachments, cur)
		case id == attAttachData && cur != nil:
			cur.Data = data
		case id == attAttachTitle && cur != nil:
			cur.Title = cString(data, m.codepage, dec)
		case id == attAttachment && cur != nil:
			props := readMAPIProps(data)
			if v, ok := props[prAttachLongName]; ok {
				cur.LongName = v.str(m.codepage, dec)
			} else if v, ok := props[prAttachFilename]; ok && cur.Title == "" {
				cur.Title = v.str(m.codepage, dec)
			}
			if v, ok := props[prAttachMimeTag]; ok {
				cur.MimeType = strings.ToLower(v.str(m.codepage, dec))
			}
			if v, ok := props[prAttachDataObj]; ok && cur.Data == nil && v.kind == 0x0102 {
				cur.Data = v.raw
			}
		case id == attBody && level == 1:
			m.Body = cString(data, m.codepage, dec)
		case id == attOemCodepage && len(data) >= 4:
			m.codepage = binary.LittleEndian.Uint32(data)
		case id == attMAPIProps && level == 1:
			props := readMAPIProps(data)
			if v, ok := props[prInternetCPID]; ok && len(v.raw) >= 4 {
				m.codepage = binary.LittleEndian.Uint32(v.raw)
			}
			if v, ok := props[prBody]; ok && m.Body == "" {
				m.Body = v.str(m.codepage, dec)
			}
			if v, ok := props[prBodyHTML]; ok {
				m.HTML = v.str(m.codepage, dec)
			}
			if v, ok := props[prRTFCompressed]; ok {
				if rtf, err := decompressRTF(v.raw); err == nil {
					m.RTF = rtf
				}
			}
		}
	}
	return m, nil
}

// mapiValue is one MAPI property value: kind is its property type.
type mapiValue struct {
	kind uint16
	raw  []byte
}

// str reads a string property: PT_UNICODE (0x001F) is UTF-16LE, PT_STRING8
// (0x001E) and PT_BINARY (0x0102) are bytes in the message's code page.
func (v mapiValue) str(codepage uint32, dec Decoder) string {
	if v.kind == 0x001F {
		return utf16String(v.raw)
	}
	return cString(v.raw, codepage, dec)
}

// readMAPIProps reads an attMAPIProps or attAttachment value
// ([MS-OXTNEF] 2.1.3.4): a count, then each property's type, id, optional
// name, and values. Multi-valued properties keep their first value.
// Reading stops at the first thing it cannot read.
func readMAPIProps(b []byte) map[uint16]mapiValue {
	out := map[uint16]mapiValue{}
	r := &byteReader{b: b}
	count, ok := r.u32()
	if !ok {
		return out
	}
	for i := uint32(0); i < count && i < 1<<16; i++ {
		kind, ok1 := r.u16()
		id, ok2 := r.u16()
		if !ok1 || !ok2 {
			return out
		}
		if id >= 0x8000 { // named property: GUID, kind, id or name
			if !r.skip(16) {
				return out
			}
			nk, ok := r.u32()
			if !ok {
				return out
			}
			if nk == 0 {
				if !r.skip(4) {
					return out
				}
			} else {
				n, ok := r.u32()
				if !ok || !r.skip(pad4(int(n))) {
					return out
				}
			}
		}
		multi := kind&mapiFlagMultiValued != 0
		base := kind &^ mapiFlagMultiValued
		values := uint32(1)
		if multi || isVariable(base) {
			if values, ok = r.u32(); !ok || values > 1<<16 {
				return out
			}
		}
		var first []byte
		for k := uint32(0); k < values; k++ {
			var v []byte
			if isVariable(base) {
				n, ok := r.u32()
				if !ok || int(n) > len(r.b)-r.pos {
					return out
				}
				v = r.b[r.pos : r.pos+int(n)]
				if !r.skip(pad4(int(n))) {
					return out
				}
			} else {
				size := fixedSize(base)
				if size == 0 {
					return out // an unknown type: the rest cannot be read
				}
				if !r.has(size) {
					return out
				}
				v = r.b[r.pos : r.pos+size]
				r.skip(pad4(size))
			}
			if k == 0 {
				first = v
			}
		}
		if base == 0x000D && len(first) >= 16 {
			first = first[16:] // PT_OBJECT: an interface GUID, then the data
			base = 0x0102
		}
		out[id] = mapiValue{kind: base, raw: first}
	}
	return out
}

func isVariable(t uint16) bool {
	return t == 0x001E || t == 0x001F || t == 0x0102 || t == 0x000D
}

// fixedSize is the size of fixed-length MAPI types ([MS-OXCDATA] 2.11.1).
func fixedSize(t uint16) int {
	switch t {
	case 0x0002, 0x0003, 0x0004, 0x000A, 0x000B:
		return 4
	case 0x0005, 0x0006, 0x0007, 0x0014, 0x0040:
		return 8
	case 0x0048:
		return 16
	case 0x0001: // PT_NULL
		return 4
	}
	return 0
}

func pad4(n int) int { return (n + 3) &^ 3 }

type byteReader struct {
	b   []byte
	pos int
}

func (r *byteReader) has(n int) bool { return n >= 0 && len(r.b)-r.pos >= n }

func (r *byteReader) skip(n int) bool {
	if !r.has(n) {
		r.pos = len(r.b)
		return false
	}
	r.pos += n
	return true
}

// take returns the next n bytes; when fewer are left, it reads nothing.
func (r *byteReader) take(n int) ([]byte, bool) {
	if !r.has(n) {
		return nil, false
	}
	r.pos += n
	return r.b[r.pos-n : r.pos], true
}

func (r *byteReader) u16() (uint16, bool) {
	b, ok := r.take(2)
	if !ok {
		return 0, false
	}
	return binary.LittleEndian.Uint16(b), true
}

func (r *byteReader) u32() (uint32, bool) {
	b, ok := r.take(4)
	if !ok {
		return 0, false
	}
	return binary.LittleEndian.Uint32(b), true
}

// cString reads a NUL-terminated 8-bit string in a Windows code page.
func cString(b []byte, codepage uint32, dec Decoder) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	cs := ""
	if codepage != 0 {
		cs = codepageCharset(codepage)
	}
	return dec.decode(b, cs)
}

// codepageCharset names the charset of a Windows code page.
func codepageCharset(cp uint32) string {
	switch cp {
	case 65001:
		return "utf-8"
	case 932:
		return "shift_jis"
	case 936, 54936:
		return "gb18030"
	case 949:
		return "euc-kr"
	case 950:
		return "big5"
	case 20866:
		return "koi8-r"
	case 50220, 50221, 50222:
		return "iso-2022-jp"
	case 437, 850, 852, 866:
		return fmt.Sprintf("ibm%d", cp)
	}
	if cp >= 1250 && cp <= 1258 || cp == 874 {
		return fmt.Sprintf("windows-%d", cp)
	}
	if cp >= 28591 && cp <= 28606 {
		return fmt.Sprintf("iso-8859-%d", cp-28590)
	}
	return ""
}

func utf16String(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}
