// Package s3blob implements blob.Store on an S3 bucket, the AWS twin of
// fileblob; both pass the blobtest suite. Put streams through the S3
// upload manager: a small object is one PutObject, a large one a multipart
// upload of 8 MB parts, two at a time, so memory stays bounded whatever
// the size; a reader that fails aborts the upload and leaves the previous
// object as it was. Objects are encrypted at rest (SSE-S3 by default, or a
// KMS key).
package s3blob

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"mailconnector/shared/blob"
	"mailconnector/shared/blob/fileblob"
)

// Options configure a Store; nil means the defaults.
type Options struct {
	// KMSKeyID encrypts with aws:kms and this key instead of SSE-S3.
	KMSKeyID string
	// PartSize of multipart uploads (default 8 MB, at least 5 MB).
	PartSize int64
}

// Store is a blob.Store in an S3 bucket under a key prefix.
type Store struct {
	c      *s3.Client
	up     *manager.Uploader
	bucket string
	prefix string
	o      Options
}

var _ blob.Store = (*Store)(nil)

// New returns a Store in bucket; prefix ("" or ending in "/") is put
// before every key.
func New(c *s3.Client, bucket, prefix string, opts *Options) *Store {
	s := &Store{c: c, bucket: bucket, prefix: prefix}
	if opts != nil {
		s.o = *opts
	}
	if s.o.PartSize < manager.MinUploadPartSize {
		s.o.PartSize = 8 << 20
	}
	s.up = manager.NewUploader(c, func(u *manager.Uploader) {
		u.PartSize = s.o.PartSize
		u.Concurrency = 2
		u.LeavePartsOnError = false
	})
	return s
}

// countingReader counts the bytes read, and hides any Seek/ReaderAt so the
// uploader streams rather than sizing the body up front.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Put streams r into the object at key.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if err := fileblob.CheckKey(key); err != nil {
		return 0, fmt.Errorf("s3blob: put: %w", err)
	}
	cr := &countingReader{r: r}
	in := &s3.PutObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + key), Body: cr,
		ServerSideEncryption: types.ServerSideEncryptionAes256}
	if s.o.KMSKeyID != "" {
		in.ServerSideEncryption, in.SSEKMSKeyId = types.ServerSideEncryptionAwsKms, aws.String(s.o.KMSKeyID)
	}
	if _, err := s.up.Upload(ctx, in); err != nil {
		return 0, fmt.Errorf("s3blob: put %s after %d bytes: %w", key, cr.n, err)
	}
	return cr.n, nil
}

// Get opens the object; blob.ErrNotFound if absent.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := fileblob.CheckKey(key); err != nil {
		return nil, fmt.Errorf("s3blob: get: %w", err)
	}
	out, err := s.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + key)})
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) {
			return nil, fmt.Errorf("s3blob: get %s: %w", key, blob.ErrNotFound)
		}
		return nil, fmt.Errorf("s3blob: get %s: %w", key, err)
	}
	return out.Body, nil
}

// Delete removes the object; absent is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := fileblob.CheckKey(key); err != nil {
		return fmt.Errorf("s3blob: delete: %w", err)
	}
	if _, err := s.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + key)}); err != nil {
		return fmt.Errorf("s3blob: delete %s: %w", key, err)
	}
	return nil
}
