package deflate

import (
	"bytes"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, s := range []string{"", "{}", strings.Repeat(`{"from":"ann@example.com","subject":"printer"}`, 40)} {
		packed := Pack([]byte{0}, []byte(s))
		if packed[0] != 0 {
			t.Fatalf("Pack did not append to dst")
		}
		got, err := Unpack(packed[1:])
		if err != nil || string(got) != s {
			t.Errorf("round trip of %d bytes: got %d bytes, %v", len(s), len(got), err)
		}
		if len(s) > 1000 && len(packed) > len(s)/4 {
			t.Errorf("%d bytes of repetitive JSON packed into %d", len(s), len(packed))
		}
	}
	if _, err := Unpack([]byte("not deflate")); err == nil {
		t.Error("Unpack of garbage: no error")
	}
	if !bytes.Equal(Pack(nil, []byte("x")), Pack(nil, []byte("x"))) {
		t.Error("Pack is not deterministic")
	}
}
