package controlchar

import "io"

// Writer returns a writer that escapes control and bidi characters (as
// Escape with keepLines) on their way to w, so nothing written through it
// can move the cursor, clear the screen or set a terminal's title. A
// character split between two writes is held back until it is whole.
func Writer(w io.Writer) io.Writer {
	return &writer{w: w}
}

type writer struct {
	w     io.Writer
	carry []byte // the start of a UTF-8 sequence cut by the last write
}

func (e *writer) Write(p []byte) (int, error) {
	buf := append(e.carry, p...)
	e.carry = nil
	// Hold back an incomplete UTF-8 sequence at the end.
	if n := len(buf); n > 0 {
		for k := 1; k <= 3 && k <= n; k++ {
			c := buf[n-k]
			if c < 0x80 {
				break
			}
			if c >= 0xC0 {
				if need := seqLen(c); need > k {
					e.carry = append([]byte(nil), buf[n-k:]...)
					buf = buf[:n-k]
				}
				break
			}
		}
	}
	if _, err := io.WriteString(e.w, Escape(string(buf), true)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// seqLen is the length of a UTF-8 sequence from its first byte.
func seqLen(c byte) int {
	switch {
	case c >= 0xF0:
		return 4
	case c >= 0xE0:
		return 3
	default:
		return 2
	}
}
