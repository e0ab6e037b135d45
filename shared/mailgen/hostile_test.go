package mailgen_test

import (
	"bytes"
	"testing"

	"mailconnector/shared/mailgen"
)

func TestHostileCorpus(t *testing.T) {
	big := mailgen.Hostile(nil)
	small := mailgen.Hostile(&mailgen.HostileOptions{Small: true})
	if len(big) < 60 {
		t.Errorf("got %d messages, want at least 60", len(big))
	}
	if len(small) != len(big) {
		t.Fatalf("small variant: got %d messages, want %d", len(small), len(big))
	}
	seen := map[string]bool{}
	for i, c := range big {
		switch {
		case c.Name == "" || c.Class == "" || len(c.Raw) == 0:
			t.Errorf("case %d (%q): got empty name, class or message", i, c.Name)
		case seen[c.Name]:
			t.Errorf("case %q: got a duplicate name", c.Name)
		case small[i].Name != c.Name || small[i].Want != c.Want:
			t.Errorf("case %q: small variant is %q (%s), want the same case", c.Name, small[i].Name, small[i].Want)
		case len(small[i].Raw) > 4<<20:
			t.Errorf("case %q: small variant has %d bytes, want at most 4 MB", c.Name, len(small[i].Raw))
		}
		seen[c.Name] = true
	}
	again := mailgen.Hostile(&mailgen.HostileOptions{Small: true})
	for i := range again {
		if !bytes.Equal(again[i].Raw, small[i].Raw) {
			t.Errorf("case %q: got different bytes on a second call, want the same", again[i].Name)
		}
	}
}
