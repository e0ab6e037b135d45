package preprocess

import (
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

// rtfToText renders RTF as text, or, for RTF that encapsulates HTML
// (\fromhtml1, as Outlook stores HTML mail; [MS-OXRTFEX] 2.1.3), returns
// the HTML with isHTML true. It reads control words, groups, \'hh bytes in
// the document's ANSI code page and \uN characters; it never fails.
func rtfToText(rtf []byte) (out string, isHTML bool) {
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
			b.WriteString(decodeCharset(pending, cs))
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
				if i+1 < len(s) && isHex(s[i]) && isHex(s[i+1]) {
					if skipChars > 0 {
						skipChars--
					} else if !st.skip && !(fromHTML && st.htmlrtf) {
						pending = append(pending, unhex(s[i])<<4|unhex(s[i+1]))
					}
					i += 2
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
