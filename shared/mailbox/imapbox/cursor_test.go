package imapbox

import "testing"

func TestMapFolder(t *testing.T) {
	cases := []struct {
		name  string
		in    string
		delim rune
		want  string
	}{
		{"slash to dot", "INBOX/Support", '.', "INBOX.Support"},
		{"dot kept", "INBOX.Support", '.', "INBOX.Support"},
		{"dot to slash", "INBOX.Support", '/', "INBOX/Support"},
		{"slash kept", "INBOX/Support", '/', "INBOX/Support"},
		{"inbox case", "inbox/Done/Sub", '.', "INBOX.Done.Sub"},
		{"only inbox", "Inbox", '.', "INBOX"},
		{"dot in a name on a slash server", "Archive/2024.01", '/', "Archive/2024.01"},
		{"not inbox", "Inboxes/x", '.', "Inboxes.x"},
		{"flat namespace", "Support", 0, "Support"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := mapFolder(c.in, c.delim); got != c.want {
				t.Errorf("mapFolder(%q, %q): got %q, want %q", c.in, c.delim, got, c.want)
			}
		})
	}
}

func TestParseCursor(t *testing.T) {
	cases := []struct {
		name     string
		in       string
		validity uint32
		uid      uint32
		wantErr  bool
	}{
		{"ok", "1700000000:42", 1700000000, 42, false},
		{"zero uid", "7:0", 7, 0, false},
		{"no colon", "1700000000", 0, 0, true},
		{"not numbers", "a:b", 0, 0, true},
		{"too big", "4294967296:1", 0, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, u, err := parseCursor(c.in)
			if (err != nil) != c.wantErr || v != c.validity || uint32(u) != c.uid {
				t.Errorf("parseCursor(%q): got %d, %d, %v; want %d, %d, error %v", c.in, v, u, err, c.validity, c.uid, c.wantErr)
			}
			if err == nil && formatCursor(v, u) != c.in {
				t.Errorf("formatCursor: got %q, want %q", formatCursor(v, u), c.in)
			}
		})
	}
}
