package preprocess

import (
	"encoding/base64"
	"io"
)

// b64Decoder decodes the base64 a base64Cleaner hands it. It is
// encoding/base64's stream decoder (NewDecoder) without the line-break
// filter that decoder always puts in front of its input: the cleaner has
// dropped the line breaks already, and a second pass over every byte of
// every attachment was a tenth of the pipeline's time. It reads and
// decodes in the same steps as NewDecoder (at most 1,024 characters a
// read, whole quanta through Encoding.Decode), so it gives the same bytes
// and the same errors; TestBase64DecoderAsStandard holds it to that.
type b64Decoder struct {
	r       io.Reader // without '\r' and '\n'
	err     error
	readErr error
	buf     [1024]byte // characters not decoded yet
	nbuf    int
	out     []byte // decoded bytes not handed out yet
	outbuf  [1024 / 4 * 3]byte
}

func (d *b64Decoder) Read(p []byte) (int, error) {
	if len(d.out) > 0 {
		n := copy(p, d.out)
		d.out = d.out[n:]
		return n, nil
	}
	if d.err != nil {
		return 0, d.err
	}
	// Gather at least one quantum, reading as much as p can take decoded.
	for d.nbuf < 4 && d.readErr == nil {
		nn := max(len(p)/3*4, 4)
		nn = min(nn, len(d.buf))
		var n int
		n, d.readErr = d.r.Read(d.buf[d.nbuf:nn])
		d.nbuf += n
	}
	if d.nbuf < 4 {
		// Padded base64 ends on a whole quantum: a fragment is cut short.
		d.err = d.readErr
		if d.err == io.EOF && d.nbuf > 0 {
			d.err = io.ErrUnexpectedEOF
		}
		return 0, d.err
	}
	nr := d.nbuf / 4 * 4
	nw := d.nbuf / 4 * 3
	var n int
	if nw > len(p) {
		nw, d.err = base64.StdEncoding.Decode(d.outbuf[:], d.buf[:nr])
		d.out = d.outbuf[:nw]
		n = copy(p, d.out)
		d.out = d.out[n:]
	} else {
		n, d.err = base64.StdEncoding.Decode(p, d.buf[:nr])
	}
	d.nbuf -= nr
	copy(d.buf[:d.nbuf], d.buf[nr:])
	return n, d.err
}
