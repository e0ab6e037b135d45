package s3blob

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"mailconnector/shared/blob"
	"mailconnector/shared/blob/blobtest"
	"mailconnector/shared/testkit/awstest"
)

var moto *awstest.Moto

func TestMain(m *testing.M) { awstest.Main(m, &moto) }

// TestConformance runs the suite with the options production uses (the
// default 5 MB parts) and a prefix given without its slash.
func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		c, bucket := moto.Bucket(t, "mail")
		return New(c, bucket, "connector", nil)
	})
}

func TestPartSize(t *testing.T) {
	tests := []struct {
		name string
		in   int64
		want int64
	}{
		{"default", 0, 5 << 20},
		{"below S3's minimum", 1 << 20, 5 << 20},
		{"in range", 6 << 20, 6 << 20},
		{"above the memory bound", 64 << 20, 8 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(nil, "b", "", &Options{PartSize: tt.in})
			if s.o.PartSize != tt.want || s.up.PartSize != tt.want || s.up.Concurrency != 2 {
				t.Errorf("got part size %d (uploader %d, concurrency %d), want %d with concurrency 2", s.o.PartSize, s.up.PartSize, s.up.Concurrency, tt.want)
			}
		})
	}
}

func TestEncryptionAndPrefix(t *testing.T) {
	const keyARN = "arn:aws:kms:us-east-1:123456789012:key/0b5c4f0e-6a3b-4d8e-9d7c-2f1a5e3b9c10"
	tests := []struct {
		name, prefix, wantKey string
		opts                  *Options
		wantSSE, wantKMS      string
	}{
		{"SSE-S3 by default", "connector/", "connector/raw/job/x.eml", nil, "AES256", ""},
		{"KMS key", "p", "p/raw/job/x.eml", &Options{KMSKeyID: keyARN}, "aws:kms", keyARN},
		{"no prefix", "", "raw/job/x.eml", nil, "AES256", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			c, bucket := moto.Bucket(t, "mail")
			s := New(c, bucket, tt.prefix, tt.opts)
			if _, err := s.Put(ctx, "raw/job/x.eml", strings.NewReader("hello")); err != nil {
				t.Fatalf("Put: %v", err)
			}
			head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(tt.wantKey)})
			if err != nil {
				t.Fatalf("HeadObject %s: %v", tt.wantKey, err)
			}
			if string(head.ServerSideEncryption) != tt.wantSSE || aws.ToString(head.SSEKMSKeyId) != tt.wantKMS {
				t.Errorf("got encryption %q key %q, want %q key %q", head.ServerSideEncryption, aws.ToString(head.SSEKMSKeyId), tt.wantSSE, tt.wantKMS)
			}
		})
	}
}

// endless yields 'x' for ever; after n bytes it calls at once.
type endless struct {
	n  int64
	at func() error
}

func (e *endless) Read(p []byte) (int, error) {
	if e.n <= 0 {
		if err := e.at(); err != nil {
			return 0, err
		}
	}
	for i := range p {
		p[i] = 'x'
	}
	if int64(len(p)) > e.n && e.n > 0 {
		p = p[:e.n]
	}
	e.n -= int64(len(p))
	return len(p), nil
}

// TestFailedMultipartPutIsAborted fails Puts after two 5 MB parts went up:
// the previous version stays and no multipart upload is left behind.
func TestFailedMultipartPutIsAborted(t *testing.T) {
	errBroken := errors.New("reader broke")
	tests := []struct {
		name string
		fail func(cancel context.CancelFunc) error
	}{
		{"reader fails", func(context.CancelFunc) error { return errBroken }},
		{"context cancelled", func(cancel context.CancelFunc) error { cancel(); return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, bucket := moto.Bucket(t, "mail")
			s := New(c, bucket, "", &Options{PartSize: MinPartSize})
			old := []byte("the previous version")
			if _, err := s.Put(context.Background(), "raw/big.eml", bytes.NewReader(old)); err != nil {
				t.Fatalf("Put: %v", err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			_, err := s.Put(ctx, "raw/big.eml", &endless{n: 12 << 20, at: func() error { return tt.fail(cancel) }})
			if err == nil {
				t.Fatal("Put: got nil error, want one")
			}
			rc, err := s.Get(context.Background(), "raw/big.eml")
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(got, old) {
				t.Errorf("after the failed Put: got %d bytes, want the previous version %q", len(got), old)
			}
			ups, err := c.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
			if err != nil {
				t.Fatalf("ListMultipartUploads: %v", err)
			}
			if len(ups.Uploads) != 0 {
				t.Errorf("got %d multipart uploads left, want none (aborted)", len(ups.Uploads))
			}
		})
	}
}
