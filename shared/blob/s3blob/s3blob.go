// Package s3blob implements blob.Store on an S3 bucket, the AWS twin of
// fileblob; both pass the blobtest suite. Put streams through the S3
// upload manager: a small object is one PutObject, a large one a multipart
// upload of 5 MB parts, two at a time, so memory stays bounded whatever
// the size; a reader that fails, or a context that ends, aborts the upload
// and leaves the previous object as it was. Keys are checked as fileblob
// checks them (fileblob.CheckKey), so both stores accept the same keys. Objects are encrypted at rest (SSE-S3 by default, or a
// KMS key).
package s3blob

//lint:file-ignore SA1019 manager.Uploader streams multipart uploads; its successor, feature/s3/transfermanager, has no stable release yet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"mailconnector/shared/blob"
	"mailconnector/shared/blob/fileblob"
	"mailconnector/shared/iocount"
)

// Options configure a Store; nil means the defaults.
type Options struct {
	// KMSKeyID encrypts with aws:kms and this key instead of SSE-S3.
	KMSKeyID string
	// PartSize of multipart uploads: 5 MB (S3's minimum) when zero,
	// otherwise clamped to 5–8 MB. A Put allocates about five parts
	// whatever the object's size: the upload manager reads the first part
	// with io.ReadAll (about twice its size) and then cycles three pooled
	// part buffers (two uploading, one filling). 25 MB at the default.
	PartSize int64
}

// The part sizes Options.PartSize is clamped to.
const (
	MinPartSize = manager.MinUploadPartSize // 5 MB
	MaxPartSize = 8 << 20
)

// Store is a blob.Store in an S3 bucket under a key prefix.
type Store struct {
	c      *s3.Client
	up     *manager.Uploader
	bucket string
	prefix string
	o      Options
}

var _ blob.Store = (*Store)(nil)

// New returns a Store in bucket; prefix, when not empty, is put before
// every key, with a "/" between them.
func New(client *s3.Client, bucket, prefix string, opts *Options) *Store {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	s := &Store{c: client, bucket: bucket, prefix: prefix}
	if opts != nil {
		s.o = *opts
	}
	switch {
	case s.o.PartSize == 0:
		s.o.PartSize = MinPartSize
	case s.o.PartSize < MinPartSize:
		s.o.PartSize = MinPartSize
	case s.o.PartSize > MaxPartSize:
		s.o.PartSize = MaxPartSize
	}
	s.up = manager.NewUploader(client, func(u *manager.Uploader) {
		u.PartSize = s.o.PartSize
		u.Concurrency = 2
		u.LeavePartsOnError = false
	})
	return s
}

// Put streams r into the object at key.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if err := fileblob.CheckKey(key); err != nil {
		return 0, fmt.Errorf("s3blob: put: %w", err)
	}
	cr := &iocount.Reader{R: r} // hides any Seek: the uploader streams
	in := &s3.PutObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + key), Body: cr,
		ServerSideEncryption: types.ServerSideEncryptionAes256}
	if s.o.KMSKeyID != "" {
		in.ServerSideEncryption, in.SSEKMSKeyId = types.ServerSideEncryptionAwsKms, aws.String(s.o.KMSKeyID)
	}
	if _, err := s.up.Upload(ctx, in); err != nil {
		var mu manager.MultiUploadFailure
		if errors.As(err, &mu) && ctx.Err() != nil {
			s.abort(ctx, key, mu.UploadID())
		}
		return 0, fmt.Errorf("s3blob: put %s after %d bytes: %w", key, cr.N, err)
	}
	return cr.N, nil
}

// abort aborts a multipart upload that failed because ctx ended: the
// upload manager's own abort used the same, ended context, so it failed
// and the uploaded parts would be kept (and billed) until a lifecycle
// rule removes them. Best effort: Put reports the original error.
func (s *Store) abort(ctx context.Context, key, uploadID string) {
	if uploadID == "" {
		return
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, _ = s.c.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: aws.String(s.bucket),
		Key: aws.String(s.prefix + key), UploadId: aws.String(uploadID)})
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
