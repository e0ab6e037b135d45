package preprocess

import (
	"strings"
	"testing"
)

func TestTNEFGoldenParts(t *testing.T) {
	m := process(t, "testdata/tnef_winmail.eml", newMemStore())
	if len(m.Attachments) != 2 {
		t.Fatalf("got %d attachments, want the 2 inside winmail.dat", len(m.Attachments))
	}
	if got := m.Attachments[1].SafeName; got != "Übersicht März.txt" {
		t.Errorf("SafeName of the UTF-16 long name: got %q", got)
	}
	rtf := process(t, "testdata/tnef_rtf_only.eml", newMemStore())
	if !strings.Contains(rtf.Text, "„Papierstau“ – please help") {
		t.Errorf("text from compressed RTF: got %q", rtf.Text)
	}
}
