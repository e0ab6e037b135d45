package controlchar

import (
	"bytes"
	"strings"
	"testing"
)

func TestStrip(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{name: "clean", in: "Printer on 3rd floor", want: "Printer on 3rd floor"},
		{name: "title and clear screen", in: "hi\x1b]0;title\x07\x1b[2Jthere", want: "hithere"},
		{name: "OSC ended by ST", in: "a\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\b", want: "alinkb"},
		{name: "colour", in: "\x1b[31mred\x1b[0m", want: "red"},
		{name: "header injection", in: "Evil\r\nBcc: x@y", want: "Evil Bcc: x@y"},
		{name: "tab", in: "a\tb", want: "a b"},
		{name: "C1 CSI and DEL", in: "a\u009b2Jb\x7fc", want: "a2Jbc"},
		{name: "bidi override", in: "invoice\u202Efdp.exe", want: "invoicefdp.exe"},
		{name: "isolates", in: "\u2066x\u2069", want: "x"},
		{name: "NUL and bell", in: "a\x00b\x07c", want: "abc"},
		{name: "lone ESC at end", in: "abc\x1b", want: "abc"},
		{name: "invalid UTF-8", in: "a\xffb", want: "a\uFFFDb"},
		{name: "unicode kept", in: "Élodie – 日本", want: "Élodie – 日本"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Strip(tt.in); got != tt.want {
				t.Errorf("Strip(%q): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestEscape(t *testing.T) {
	for _, tt := range []struct {
		name, in  string
		keepLines bool
		want      string
	}{
		{name: "ESC", in: "a\x1b[2Jb", want: `a\x1b[2Jb`},
		{name: "CRLF one line", in: "Evil\r\nBcc", want: `Evil\x0d\x0aBcc`},
		{name: "lines kept", in: "one\ntwo\tx\r", keepLines: true, want: "one\ntwo\tx\\x0d"},
		{name: "C1 and bidi", in: "\u009b\u202e", want: `\x9b\u202e`},
		{name: "invalid byte", in: "\xff", want: `\xff`},
		{name: "plain", in: "Drücker", want: "Drücker"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Escape(tt.in, tt.keepLines); got != tt.want {
				t.Errorf("Escape(%q): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestWriter(t *testing.T) {
	var b bytes.Buffer
	w := Writer(&b)
	// "ü" (c3 bc) split across two writes stays one character.
	for _, chunk := range []string{"Subject: \x1b]0;title\x07", "\x1b[2J Dr\xc3", "\xbccker\n"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	got := b.String()
	if strings.ContainsRune(got, 0x1b) || strings.ContainsRune(got, 0x07) {
		t.Errorf("got %q, want no ESC or BEL", got)
	}
	if want := "Subject: \\x1b]0;title\\x07\\x1b[2J Drücker\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
