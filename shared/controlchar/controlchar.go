// Package controlchar keeps text taken from mail headers from acting on
// what displays it. Strip removes control characters for storage (a
// Subject, a display name, a file name, a requester); Escape and Writer
// make any that remain visible at display time, so a value stored before
// it was stripped still cannot reach a terminal raw.
//
// Control characters are the C0 set (U+0000–U+001F) and DEL (ECMA-48
// section 5.2), the C1 set (U+0080–U+009F, section 5.3), whole escape
// sequences (ESC followed by a CSI, OSC, DCS, or a single final byte,
// sections 5.4 and 8.3.89), and the bidirectional embedding, override
// and isolate marks (Unicode UAX #9: U+202A–U+202E, U+2066–U+2069),
// which can reorder what a reader sees.
package controlchar

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// isBidi reports the bidirectional formatting characters UAX #9 section
// 2 lists as embeddings, overrides and isolates.
func isBidi(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069
}

// isControl reports a C0 or C1 control character or DEL.
func isControl(r rune) bool {
	return r < 0x20 || r == 0x7F || r >= 0x80 && r <= 0x9F
}

// sequenceEnd returns the index just past the escape sequence starting
// with ESC at s[i] (ECMA-48 section 5.4): CSI "ESC [" parameters,
// intermediates and a final byte; OSC, DCS, SOS, PM and APC "ESC ] … BEL"
// or "… ESC \"; otherwise ESC and one byte.
func sequenceEnd(s string, i int) int {
	j := i + 1
	if j >= len(s) {
		return j
	}
	switch s[j] {
	case '[':
		j++
		for j < len(s) && s[j] >= 0x20 && s[j] <= 0x3F {
			j++
		}
		if j < len(s) && s[j] >= 0x40 && s[j] <= 0x7E {
			j++
		}
		return j
	case ']', 'P', 'X', '^', '_':
		for j++; j < len(s); j++ {
			if s[j] == 0x07 {
				return j + 1
			}
			if s[j] == 0x1B {
				if j+1 < len(s) && s[j+1] == '\\' {
					return j + 2
				}
				return j
			}
		}
		return j
	}
	if s[j] < 0x80 {
		return j + 1
	}
	return j
}

// Strip removes control characters and escape sequences from a one-line
// value: CR, LF, TAB and other white-space controls become one space,
// runs of spaces collapse, and the result is trimmed. Invalid UTF-8 is
// replaced with U+FFFD.
func Strip(s string) string {
	if clean(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if s[i] == 0x1B {
			i = sequenceEnd(s, i)
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f' || r == 0x85:
			b.WriteByte(' ')
		case isControl(r), isBidi(r):
		default:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// clean reports a value with nothing to strip: valid UTF-8, no control
// or bidi characters, no white space to collapse at the ends.
func clean(s string) bool {
	if !utf8.ValidString(s) || strings.TrimSpace(s) != s {
		return false
	}
	for _, r := range s {
		if isControl(r) || isBidi(r) {
			return false
		}
	}
	return !strings.Contains(s, "  ")
}

// Escape makes control and bidi characters visible, as Go escapes
// ("\x1b", "\u202e"); newline and tab are kept when keepLines is set
// (multi-line output), escaped otherwise. Invalid UTF-8 bytes are
// escaped as "\xNN".
func Escape(s string, keepLines bool) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case keepLines && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case isControl(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case isBidi(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
