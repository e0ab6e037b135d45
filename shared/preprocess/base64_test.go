package preprocess

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// standardCleaner behaves as base64Cleaner did in front of
// encoding/base64's own decoder: it keeps the line breaks, which that
// decoder filters out itself.
type standardCleaner struct {
	r       io.Reader
	invalid int
}

func (c *standardCleaner) Read(b []byte) (int, error) {
	for {
		n, err := c.r.Read(b)
		j := 0
		for _, ch := range b[:n] {
			switch {
			case ch == '\r' || ch == '\n' || b64class[ch] == 1:
				b[j] = ch
				j++
			case b64class[ch] == 0:
				c.invalid++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// chunker hands out its bytes in reads of the sizes it cycles through,
// as a multipart reader over a network stream would.
type chunker struct {
	data  []byte
	sizes []int
	i     int
}

func (c *chunker) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), c.sizes[c.i%len(c.sizes)], len(c.data))
	c.i++
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// drain reads r to its end in reads of the sizes given, and returns what
// it read and the error it ended with.
func drain(r io.Reader, sizes []int) ([]byte, string) {
	var out []byte
	for i := 0; ; i++ {
		p := make([]byte, sizes[i%len(sizes)])
		n, err := r.Read(p)
		out = append(out, p[:n]...)
		if err == io.EOF {
			return out, "EOF"
		}
		if err != nil {
			return out, err.Error()
		}
		if i > 1<<20 {
			return out, "does not end"
		}
	}
}

// base64Inputs are bodies a part may carry: clean ones wrapped at 76
// characters with CRLF or LF, and damaged ones.
func base64Inputs(rng *rand.Rand) []string {
	payload := make([]byte, 5000)
	for i := range payload {
		payload[i] = byte(rng.IntN(256))
	}
	wrap := func(s, nl string) string {
		var b strings.Builder
		for len(s) > 76 {
			b.WriteString(s[:76] + nl)
			s = s[76:]
		}
		return b.String() + s + nl
	}
	enc := base64.StdEncoding.EncodeToString(payload)
	short := base64.StdEncoding.EncodeToString(payload[:31])
	in := []string{
		"", "\r\n", "QQ==", "QUJD", "QUJ", "Q", "QQ=", "QQ==QUJD", "QQ==\r\nQUJD\r\n",
		wrap(enc, "\r\n"), wrap(enc, "\n"), wrap(enc[:len(enc)-3], "\r\n"),
		wrap(short, "\r\n") + wrap(short, "\r\n"),
		strings.ReplaceAll(wrap(enc, "\r\n"), "A", "A \t"),
		strings.ReplaceAll(wrap(enc, "\r\n"), "B", "B*"),
		wrap(enc, "\r\n") + "--boundary-tail\r\n",
		wrap(enc[:2000], "\r\n") + "=\r\n" + wrap(enc[2000:], "\r\n"),
		strings.Repeat("\r\n", 3000) + wrap(enc, "\r\n"),
	}
	// Random damage: stray bytes, lost characters, misplaced padding.
	for range 40 {
		b := []byte(wrap(enc, "\r\n"))
		for range rng.IntN(6) {
			i := rng.IntN(len(b))
			switch rng.IntN(3) {
			case 0:
				b[i] = byte(rng.IntN(256))
			case 1:
				b = append(b[:i], b[i+1:]...)
			default:
				b[i] = '='
			}
		}
		in = append(in, string(b[:rng.IntN(len(b)+1)]))
	}
	return in
}

// TestBase64DecoderAsStandard: the cleaner dropping line breaks in front
// of b64Decoder gives the same bytes, the same ending and the same count
// of stray characters as the cleaner in front of encoding/base64's own
// stream decoder, for clean and damaged bodies and any read sizes.
func TestBase64DecoderAsStandard(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	readSizes := [][]int{{1}, {3}, {7, 1, 4096}, {512}, {4096}, {32 << 10}, {100, 2, 1000}}
	for i, in := range base64Inputs(rng) {
		for _, src := range [][]int{{1 << 20}, {1}, {77, 3, 1024}, {4096}} {
			for _, rs := range readSizes {
				old := &standardCleaner{r: &chunker{data: []byte(in), sizes: src}}
				wantOut, wantEnd := drain(base64.NewDecoder(base64.StdEncoding, old), rs)
				c := &base64Cleaner{r: &chunker{data: []byte(in), sizes: src}}
				gotOut, gotEnd := drain(&b64Decoder{r: c}, rs)
				name := fmt.Sprintf("input %d (%d bytes), source reads %v, reads %v", i, len(in), src, rs)
				if !bytes.Equal(gotOut, wantOut) {
					t.Fatalf("%s: %d bytes decoded, want %d as encoding/base64 decodes", name, len(gotOut), len(wantOut))
				}
				if gotEnd != wantEnd {
					t.Fatalf("%s: ends with %q, want %q", name, gotEnd, wantEnd)
				}
				if c.invalid != old.invalid {
					t.Fatalf("%s: %d stray characters counted, want %d", name, c.invalid, old.invalid)
				}
			}
		}
	}
}

// BenchmarkBase64: decoding a 1 MB attachment wrapped at 76 characters
// with CRLF, as a part's body is read, by b64Decoder and by
// encoding/base64's decoder behind standardCleaner. Run: go test -run XXX
// -bench BenchmarkBase64 ./shared/preprocess
func BenchmarkBase64(b *testing.B) {
	payload := make([]byte, 1<<20)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range payload {
		payload[i] = byte(rng.IntN(256))
	}
	enc := base64.StdEncoding.EncodeToString(payload)
	var wrapped strings.Builder
	for len(enc) > 76 {
		wrapped.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	wrapped.WriteString(enc + "\r\n")
	body := []byte(wrapped.String())
	buf := make([]byte, 32<<10)
	for _, c := range []struct {
		name string
		open func() io.Reader
	}{
		{"b64Decoder", func() io.Reader { return &b64Decoder{r: &base64Cleaner{r: bytes.NewReader(body)}} }},
		{"encoding/base64", func() io.Reader {
			return base64.NewDecoder(base64.StdEncoding, &standardCleaner{r: bytes.NewReader(body)})
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(payload)))
			for range b.N {
				if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{c.open()}, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
