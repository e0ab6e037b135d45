package pop3box

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestDotReader(t *testing.T) {
	long := strings.Repeat("x", 200<<10) // longer than the reader's buffer
	tests := []struct {
		name    string
		wire    string
		want    string
		wantErr error
		rest    string // what follows the terminator, left for the next response
	}{
		{"plain", "a\r\nb\r\n.\r\n+OK next\r\n", "a\r\nb\r\n", nil, "+OK next\r\n"},
		{"byte-stuffed", "..hidden\r\n...two\r\n.\r\n", ".hidden\r\n..two\r\n", nil, ""},
		{"dot inside a line", "a.b\r\n .\r\n.\r\n", "a.b\r\n .\r\n", nil, ""},
		{"empty body", ".\r\n", "", nil, ""},
		{"long line then a stuffed one", long + "\r\n..x\r\n.\r\n", long + "\r\n.x\r\n", nil, ""},
		{"a long line starting with a dot", "." + long + "\r\n.\r\n", long + "\r\n", nil, ""},
		{"cut short", "a\r\nb", "a\r\nb", io.ErrUnexpectedEOF, ""},
		{"cut before the terminator", "a\r\n", "a\r\n", io.ErrUnexpectedEOF, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(tt.wire), 4096)
			got, err := io.ReadAll(newDotReader(br))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got error %v, want %v", err, tt.wantErr)
			}
			if !bytes.Equal(got, []byte(tt.want)) {
				t.Errorf("got %d bytes %.40q, want %d bytes %.40q", len(got), got, len(tt.want), tt.want)
			}
			if tt.wantErr == nil {
				rest, _ := io.ReadAll(br)
				if string(rest) != tt.rest {
					t.Errorf("got %q after the body, want %q", rest, tt.rest)
				}
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		name, line, text, code string
		isErr                  bool
	}{
		{"ok", "+OK 2 320", "2 320", "", false},
		{"bare ok", "+OK", "", "", false},
		{"err", "-ERR no such message", "no such message", "", true},
		{"resp-code", "-ERR [IN-USE] Mailbox locked", "Mailbox locked", "IN-USE", true},
		{"auth code", "-ERR [AUTH] Authentication failed.", "Authentication failed.", "AUTH", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, err := parseStatus("X", tt.line)
			var pe *Error
			switch {
			case tt.isErr && !errors.As(err, &pe):
				t.Fatalf("got %v, want an *Error", err)
			case tt.isErr && (pe.Code != tt.code || pe.Text != tt.text):
				t.Errorf("got code %q text %q, want %q %q", pe.Code, pe.Text, tt.code, tt.text)
			case !tt.isErr && (err != nil || text != tt.text):
				t.Errorf("got %q %v, want %q", text, err, tt.text)
			}
		})
	}
	if _, err := parseStatus("X", "* OK IMAP"); !errors.Is(err, errProtocol) {
		t.Errorf("an IMAP greeting: got %v, want errProtocol", err)
	}
}
