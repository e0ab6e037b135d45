package tnef

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"strconv"
	"strings"
)

// rtfSkipped are RTF destinations without readable text.
var rtfSkipped = map[string]bool{
	"fonttbl": true, "colortbl": true, "stylesheet": true, "info": true, "pict": true,
	"object": true, "listtable": true, "listoverridetable": true, "rsidtbl": true,
	"generator": true, "themedata": true, "colorschememapping": true, "latentstyles": true,
	"datastore": true, "xmlnstbl": true, "mmathpr": true, "fldinst": true, "header": true,
	"footer": true, "headerl": true, "headerr": true, "footerl": true, "footerr": true,
	"filetbl": true, "revtbl": true, "pgdsctbl": true, "bkmkstart": true, "bkmkend": true,
}

// RTFText renders RTF as text, or, for RTF that encapsulates HTML
// (\fromhtml1, as Outlook stores HTML mail; [MS-OXRTFEX] 2.1.3), returns
// the HTML with isHTML true. It reads control words, groups, \'hh bytes in
// the document's ANSI code page and \uN characters; it never fails.
func RTFText(rtf []byte, dec Decoder) (out string, isHTML bool) {
	type state struct {
		skip    bool
		htmlrtf bool
		uc      int
	}
	var b strings.Builder
	var pending []byte // \'hh bytes not yet decoded
	cs := "windows-1252"
	flush := func() {
		if len(pending) > 0 {
			b.WriteString(dec.decode(pending, cs))
			pending = pending[:0]
		}
	}
	st := state{uc: 1}
	var stack []state
	fromHTML := false
	skipChars := 0 // characters to skip after \uN
	emit := func(s string) {
		if st.skip || fromHTML && st.htmlrtf {
			return
		}
		flush()
		b.WriteString(s)
	}
	s := rtf
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '{':
			stack = append(stack, st)
			if len(stack) > 256 {
				stack = stack[1:] // bound the depth of hostile input
			}
			i++
			// {\*\dest …} is an optional destination: skipped unless
			// it is \htmltag of encapsulated HTML.
			if i+1 < len(s) && s[i] == '\\' && s[i+1] == '*' {
				j := i + 2
				for j < len(s) && (s[j] == ' ' || s[j] == '\r' || s[j] == '\n') {
					j++
				}
				if !(fromHTML && strings.HasPrefix(string(s[j:min(j+9, len(s))]), `\htmltag`)) {
					st.skip = true
				}
				i = j
			}
			continue
		case '}':
			if len(stack) > 0 {
				st = stack[len(stack)-1]
				stack = stack[:len(stack)-1]
			}
			i++
			continue
		case '\r', '\n':
			i++
			continue
		case '\\':
		default:
			if skipChars > 0 {
				skipChars--
			} else if !st.skip && !(fromHTML && st.htmlrtf) {
				pending = append(pending, c)
				if c < 0x80 {
					flush()
				}
			}
			i++
			continue
		}
		// A control word or symbol.
		i++
		if i >= len(s) {
			break
		}
		if !isLetter(s[i]) {
			sym := s[i]
			i++
			switch sym {
			case '\'':
				var hb [1]byte
				if i+1 < len(s) {
					if _, err := hex.Decode(hb[:], s[i:i+2]); err == nil {
						if skipChars > 0 {
							skipChars--
						} else if !st.skip && !(fromHTML && st.htmlrtf) {
							pending = append(pending, hb[0])
						}
						i += 2
					}
				}
			case '\\', '{', '}':
				emit(string(sym))
			case '~':
				emit("\u00a0")
			case '\r', '\n':
				emit("\n")
			}
			continue
		}
		start := i
		for i < len(s) && isLetter(s[i]) && i-start < 32 {
			i++
		}
		word := string(s[start:i])
		numStart := i
		if i < len(s) && s[i] == '-' {
			i++
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' && i-numStart < 10 {
			i++
		}
		num, hasNum := 0, i > numStart
		if hasNum {
			num, _ = strconv.Atoi(string(s[numStart:i]))
		}
		if i < len(s) && s[i] == ' ' {
			i++
		}
		switch word {
		case "fromhtml":
			fromHTML = true
		case "htmlrtf":
			st.htmlrtf = !hasNum || num != 0
		case "htmltag":
			st.skip = false
		case "ansicpg":
			if c := codepageCharset(uint32(num)); c != "" {
				flush()
				cs = c
			}
		case "uc":
			st.uc = num
		case "u":
			if num < 0 {
				num += 65536
			}
			emit(string(rune(num)))
			skipChars = st.uc
		case "par", "line", "row", "sect", "page":
			if !fromHTML {
				emit("\n")
			}
		case "tab":
			emit("\t")
		case "cell":
			if !fromHTML {
				emit(" | ")
			}
		case "emdash":
			emit("—")
		case "endash":
			emit("–")
		case "lquote":
			emit("‘")
		case "rquote":
			emit("’")
		case "ldblquote":
			emit("“")
		case "rdblquote":
			emit("”")
		case "bullet":
			emit("•")
		default:
			if rtfSkipped[word] {
				st.skip = true
			}
		}
	}
	flush()
	if fromHTML {
		return b.String(), true
	}
	return b.String(), false
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// rtfDictionary is the initial dictionary of compressed RTF
// ([MS-OXRTFCP] 2.1.2.1).
const rtfDictionary = `{\rtf1\ansi\mac\deff0\deftab720{\fonttbl;}{\f0\fnil \froman \fswiss \fmodern \fscript \fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\colortbl\red0\green0\blue0` + "\r\n" + `\par \pard\plain\f0\fs20\b\i\u\tab\tx`

// maxRTF bounds the decompressed RTF.
const maxRTF = 8 << 20

// decompressRTF decompresses PR_RTF_COMPRESSED ([MS-OXRTFCP] 2.2.3):
// "MELA" streams are stored raw, "LZFu" streams use a 4096-byte ring
// dictionary preloaded with rtfDictionary.
func decompressRTF(b []byte) ([]byte, error) {
	if len(b) < 16 {
		return nil, errors.New("compressed RTF: header cut short")
	}
	compSize := binary.LittleEndian.Uint32(b)
	rawSize := binary.LittleEndian.Uint32(b[4:])
	magic := binary.LittleEndian.Uint32(b[8:])
	crc := binary.LittleEndian.Uint32(b[12:])
	data := b[16:]
	if int64(compSize)-12 < int64(len(data)) && compSize >= 12 {
		data = data[:compSize-12]
	}
	switch magic {
	case 0x414c454d: // "MELA": not compressed
		if int(rawSize) < len(data) {
			data = data[:rawSize]
		}
		return bytes.Clone(data), nil
	case 0x75465a4c: // "LZFu"
	default:
		return nil, errors.New("compressed RTF: unknown compression type")
	}
	if rtfCRC(data) != crc {
		return nil, errors.New("compressed RTF: CRC mismatch")
	}
	var dict [4096]byte
	copy(dict[:], rtfDictionary)
	wpos := len(rtfDictionary)
	limit := min(int(rawSize), maxRTF)
	out := make([]byte, 0, min(limit, 1<<20))
	for i := 0; i < len(data); {
		control := data[i]
		i++
		for bit := 0; bit < 8 && i < len(data); bit++ {
			if control&(1<<bit) == 0 {
				c := data[i]
				i++
				out = append(out, c)
				dict[wpos] = c
				wpos = (wpos + 1) & 4095
			} else {
				if i+1 >= len(data) {
					return out, nil
				}
				ref := int(data[i])<<8 | int(data[i+1])
				i += 2
				off, n := ref>>4, ref&15+2
				if off == wpos {
					return out, nil // the end marker
				}
				for k := 0; k < n; k++ {
					c := dict[(off+k)&4095]
					out = append(out, c)
					dict[wpos] = c
					wpos = (wpos + 1) & 4095
				}
			}
			if len(out) >= limit {
				return out[:limit], nil
			}
		}
	}
	return out, nil
}

// rtfCRC is the CRC-32 of [MS-OXRTFCP] 2.1.3.2: the IEEE table, initial
// value 0 and no final inversion.
func rtfCRC(b []byte) uint32 {
	crc := uint32(0)
	for _, c := range b {
		crc = crc32.IEEETable[byte(crc)^c] ^ (crc >> 8)
	}
	return crc
}
