package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"mailconnector/shared/awsenv/envnames"
	"mailconnector/shared/blob"
	"mailconnector/shared/blob/fileblob"
	"mailconnector/shared/blob/s3blob"
	"mailconnector/shared/blob/sealed"
	"mailconnector/shared/blob/sealed/kmskeys"
	"mailconnector/shared/secrets"
)

// errorKeySecret is the entry of .connector/secrets.yaml whose key seals
// the error details locally.
const errorKeySecret = "error-details"

// localErrorKey is the local master key of the error details, read from
// the secrets file at first use. With create, a missing key is made then
// and written to the secrets file (0600); without, its absence is an
// error that says where the key belongs.
type localErrorKey struct {
	res    secrets.Resolver
	create bool

	once sync.Once
	keys *sealed.AESKey
	err  error
}

var _ sealed.Keys = (*localErrorKey)(nil)

func (k *localErrorKey) load(ctx context.Context) (*sealed.AESKey, error) {
	k.once.Do(func() { k.keys, k.err = k.read(ctx) })
	return k.keys, k.err
}

func (k *localErrorKey) read(ctx context.Context) (*sealed.AESKey, error) {
	c, err := k.res.Resolve(ctx, errorKeySecret)
	if err == nil && c.Key == "" {
		err = fmt.Errorf("the entry %s has no key: %w", errorKeySecret, secrets.ErrNotFound)
	}
	if errors.Is(err, secrets.ErrNotFound) && k.create {
		w, ok := k.res.(secrets.Writer)
		if !ok {
			return nil, fmt.Errorf("error details key: %w", err)
		}
		c = secrets.Credentials{Key: base64.StdEncoding.EncodeToString(sealed.NewMasterKey())}
		secrets.Register(c)
		if _, err := w.WriteBack(ctx, errorKeySecret, c); err != nil {
			return nil, fmt.Errorf("error details key: make one: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("error details key (entry %s of the secrets file, see README \"The error folder\"): %w", errorKeySecret, err)
	}
	raw, err := base64.StdEncoding.DecodeString(c.Key)
	if err != nil || len(raw) != 32 {
		return nil, fmt.Errorf("error details key: the entry %s must hold key: 32 bytes in base64 (openssl rand -base64 32)", errorKeySecret)
	}
	return sealed.NewAESKey(raw)
}

func (k *localErrorKey) DataKey(ctx context.Context) (plain, wrapped []byte, err error) {
	keys, err := k.load(ctx)
	if err != nil {
		return nil, nil, err
	}
	return keys.DataKey(ctx)
}

func (k *localErrorKey) Unwrap(ctx context.Context, wrapped []byte) ([]byte, error) {
	keys, err := k.load(ctx)
	if err != nil {
		return nil, err
	}
	return keys.Unwrap(ctx, wrapped)
}

// errorStores are where a command finds mail: the blobs (raw and
// normalized messages) and the sealed error details beside them.
type errorStores struct {
	blobs   blob.Store
	details blob.Store
}

// errorDetails opens the blob store and the sealed error details: the
// state directory's blobs and the key of its secrets file, or with --aws
// the stack's bucket (CONNECTOR_BUCKET) and KMS key (CONNECTOR_ERROR_KEY).
func (c *common) errorDetails(ctx context.Context, b *backend, create bool) (*errorStores, error) {
	if !c.aws {
		blobs, err := fileblob.New(filepath.Join(c.stateDir, "blobs"))
		if err != nil {
			return nil, fmt.Errorf("open blob directory in %s: %w", c.stateDir, err)
		}
		return &errorStores{blobs: blobs, details: sealed.New(blobs, &localErrorKey{res: b.secrets, create: create})}, nil
	}
	bucket, keyID := os.Getenv(envnames.Bucket), os.Getenv(envnames.ErrorKey)
	if bucket == "" || keyID == "" {
		return nil, &exitError{code: 2, msg: fmt.Sprintf("connector: --aws needs %s and %s (the stack's BucketName and KeyArn outputs)", envnames.Bucket, envnames.ErrorKey)}
	}
	cfg, ac, err := awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = ac.Endpoint != "" })
	blobs := s3blob.New(client, bucket, "", nil)
	keys := kmskeys.New(kms.NewFromConfig(cfg), keyID, kmskeys.PurposeErrorDetails)
	return &errorStores{blobs: blobs, details: sealed.New(blobs, keys)}, nil
}
