package preprocess

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mailconnector/shared/preprocess/htmltext"
	"mailconnector/shared/preprocess/visible"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// FuzzProcess checks that no input panics or fails (a bytes.Reader has no
// I/O errors), that VisibleText is never empty when Text is not, and that
// Summary always renders.
func FuzzProcess(f *testing.F) {
	files, err := filepath.Glob("testdata/*.eml")
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range files {
		raw, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		store := newMemStore()
		m, err := Process(context.Background(), bytesReader(raw), &Options{Job: testJob(), Blobs: store})
		if err != nil {
			t.Fatalf("Process: %v", err)
		}
		if m.Text != "" && m.VisibleText == "" {
			t.Fatalf("VisibleText empty while Text is %q", m.Text)
		}
		if m.Size != int64(len(raw)) {
			t.Fatalf("Size: got %d, want %d", m.Size, len(raw))
		}
		if _, err := Summary(m); err != nil {
			t.Fatalf("Summary: %v", err)
		}
	})
}

// FuzzVisibleText runs the text pipeline alone (HTML to text, every
// built-in visible-text heuristic, in text and HTML mode) on arbitrary text: it must not
// panic and must never return "" for a text that has content.
func FuzzVisibleText(f *testing.F) {
	for _, s := range []string{
		"Thanks!\n\nOn Mon, 1 Jan 2024, Ann <ann@example.com> wrote:\n> old\n",
		"a\n> q1\nanswer\n> q2\nanswer 2\n-- \nsig",
		"ok\n________________________________\nFrom: A\nSent: B\nTo: C\nSubject: D\nold",
		`<div>new</div><div class="gmail_quote"><blockquote>old</blockquote></div>`,
		`<p>x</p><div id="divRplyFwdMsg"><b>From:</b> a<br><b>Sent:</b> b<br><b>To:</b> c</div><p>old</p>`,
		"<table><tr><td>a<td>b</table><ul><li>x<li>y</ul><a href='https://e.example'>l</a>",
	} {
		f.Add(s, "Re: x")
	}
	heuristics, _ := visible.ForJob(nil)
	f.Fuzz(func(t *testing.T, s, subject string) {
		text := cleanText(s)
		out := heuristics.Text(subject, text, s, true)
		if strings.TrimSpace(text) != "" && out == "" {
			t.Fatalf("visible text empty for text %q", text)
		}
		if out2 := heuristics.Text(subject, text, "", false); text != "" && out2 == "" {
			t.Fatalf("visible text (text mode) empty for %q", text)
		}
		_ = htmltext.Sanitize(s)
	})
}
