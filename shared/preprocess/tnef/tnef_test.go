package tnef

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/encoding/htmlindex"
)

func TestDecodeTNEFErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		wantNil bool
	}{
		{"empty", nil, true},
		{"wrong signature", []byte("not a tnef stream"), true},
		{"signature only", []byte{0x78, 0x9F, 0x3E, 0x22, 0, 0}, false},
		{"attribute longer than the stream", append([]byte{0x78, 0x9F, 0x3E, 0x22, 0, 0, 1, 0x0C, 0x80, 0x01, 0x00, 0xFF, 0xFF, 0, 0}, 'x'), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Decode(tt.in, nil)
			if (m == nil) != tt.wantNil {
				t.Errorf("got message %v, want nil %v", m, tt.wantNil)
			}
			if tt.name != "signature only" && !errors.Is(err, ErrInvalid) {
				t.Errorf("got error %v, want ErrInvalid", err)
			}
		})
	}
}

func TestDecompressRTF(t *testing.T) {
	raw := []byte(`{\rtf1 stored}`)
	var mela bytes.Buffer
	binary.Write(&mela, binary.LittleEndian, []uint32{uint32(len(raw) + 12), uint32(len(raw)), 0x414c454d, 0})
	mela.Write(raw)
	got, err := decompressRTF(mela.Bytes())
	if err != nil || string(got) != string(raw) {
		t.Errorf("MELA: got %q, %v; want %q", got, err, raw)
	}

	// One reference into the preloaded dictionary ("{\rtf1\ansi\"),
	// three literals, then the end marker.
	data := []byte{0b0001_0001, 0x00, 0x0A, 'x', 'y', 'z', 0x0D, 0xE0}
	var lz bytes.Buffer
	binary.Write(&lz, binary.LittleEndian, []uint32{uint32(len(data) + 12), 15, 0x75465a4c, rtfCRC(data)})
	lz.Write(data)
	got, err = decompressRTF(lz.Bytes())
	if want := `{\rtf1\ansi\xyz`; err != nil || string(got) != want {
		t.Errorf("LZFu: got %q, %v; want %q", got, err, want)
	}
	bad := bytes.Clone(lz.Bytes())
	bad[12] ^= 0xFF
	if _, err := decompressRTF(bad); err == nil || !strings.Contains(err.Error(), "CRC") {
		t.Errorf("bad CRC: got %v, want a CRC error", err)
	}
	if _, err := decompressRTF([]byte("short")); err == nil {
		t.Error("short: got no error")
	}
}

func TestRTFToText(t *testing.T) {
	tests := []struct {
		name, in, want string
		html           bool
	}{
		{"plain", `{\rtf1\ansi{\fonttbl{\f0 Arial;}}\pard Hello\par World\'e4\par}`, "Hello\nWorldä\n", false},
		{"unicode", `{\rtf1\uc1 caf\u233?\par}`, "café\n", false},
		{"cp1251", `{\rtf1\ansi\ansicpg1251 \'cf\'f0\'e8\'e2\'e5\'f2}`, "Привет", false},
		{"skips optional destinations", `{\rtf1{\*\generator Riched;}text}`, "text", false},
		{"encapsulated html", `{\rtf1\ansi\fromhtml1 {\*\htmltag64 <p>}\htmlrtf {\htmlrtf0 Hi there{\*\htmltag72 </p>}\htmlrtf \par \htmlrtf0}`, "<p>Hi there</p>", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, isHTML := RTFText([]byte(tt.in), htmlindexDecode)
			if got != tt.want || isHTML != tt.html {
				t.Errorf("got %q (html %v), want %q (html %v)", got, isHTML, tt.want, tt.html)
			}
		})
	}
}

// htmlindexDecode decodes by the WHATWG name of the charset, as mail
// clients label it.
func htmlindexDecode(raw []byte, charset string) string {
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return string(raw)
	}
	out, err := enc.NewDecoder().Bytes(raw)
	if err != nil {
		return string(raw)
	}
	return string(out)
}
