package s3blob

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"mailconnector/shared/awstest"
	"mailconnector/shared/blob"
	"mailconnector/shared/blob/blobtest"
)

var moto *awstest.Moto

func TestMain(m *testing.M) { awstest.Main(m, &moto) }

var buckets atomic.Int64

func newStore(t *testing.T) *Store {
	t.Helper()
	c := s3.NewFromConfig(moto.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	name := fmt.Sprintf("mail-%d", buckets.Add(1))
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	return New(c, name, "connector/", &Options{PartSize: 5 << 20})
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return newStore(t) })
}

func TestObjectsAreEncryptedUnderThePrefix(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.Put(ctx, "raw/job/x.eml", stringsReader("hello")); err != nil {
		t.Fatal(err)
	}
	head, err := s.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String("connector/raw/job/x.eml")})
	if err != nil {
		t.Fatalf("object not under the prefix: %v", err)
	}
	if head.ServerSideEncryption != "AES256" {
		t.Errorf("got encryption %q, want AES256", head.ServerSideEncryption)
	}
}

type sr struct {
	s string
	i int
}

func (r *sr) Read(p []byte) (int, error) {
	if r.i >= len(r.s) {
		return 0, io.EOF
	}
	n := copy(p, r.s[r.i:])
	r.i += n
	return n, nil
}

func stringsReader(s string) *sr { return &sr{s: s} }
