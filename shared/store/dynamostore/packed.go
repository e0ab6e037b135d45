package dynamostore

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A ledger entry's JSON is stored deflated, as the binary attribute
// "dataz" (attrPacked), rather than as the string "data". DynamoDB bills a
// write by the started kilobyte of the item and of each of its index copies
// (the indexes project every attribute), and an entry is written five
// times on its way through the pipeline: its JSON, about 900 bytes, took
// the item just over 1 KB, 2 units a write; deflated (about 550 bytes) it
// stays under 1 KB. decode reads both forms, so items written before are
// read as they are.
const attrPacked = "dataz"

var (
	deflaters = sync.Pool{New: func() any {
		w, _ := flate.NewWriter(nil, flate.BestCompression)
		return w
	}}
	inflaters sync.Pool
)

// packed is b deflated, as a binary attribute value.
func packed(b []byte) types.AttributeValue {
	var buf bytes.Buffer
	buf.Grow(len(b) / 2)
	w := deflaters.Get().(*flate.Writer)
	w.Reset(&buf)
	w.Write(b) // a bytes.Buffer does not fail
	w.Close()
	deflaters.Put(w)
	return &types.AttributeValueMemberB{Value: buf.Bytes()}
}

// unpacked inflates the value of attrPacked.
func unpacked(v types.AttributeValue) ([]byte, error) {
	b, ok := v.(*types.AttributeValueMemberB)
	if !ok {
		return nil, fmt.Errorf("%s is a %T, not binary", attrPacked, v)
	}
	src := bytes.NewReader(b.Value)
	r, _ := inflaters.Get().(io.ReadCloser)
	if r == nil {
		r = flate.NewReader(src)
	} else if err := r.(flate.Resetter).Reset(src, nil); err != nil {
		return nil, err
	}
	defer inflaters.Put(r)
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("inflate %s: %w", attrPacked, err)
	}
	return out, nil
}
