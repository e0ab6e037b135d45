package sealed_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"mailconnector/shared/blob"
	"mailconnector/shared/blob/blobtest"
	"mailconnector/shared/blob/s3blob"
	"mailconnector/shared/blob/sealed"
	"mailconnector/shared/blob/sealed/kmskeys"
	"mailconnector/shared/testkit/awstest"
)

var moto *awstest.Moto

func TestMain(m *testing.M) { awstest.Main(m, &moto) }

func bucket(t *testing.T) blob.Store {
	t.Helper()
	c, name := moto.Bucket(t, "sealed")
	return s3blob.New(c, name, "", nil)
}

// kmsKey creates a customer-managed key on moto and returns its Keys.
func kmsKey(t *testing.T) (*kms.Client, string) {
	t.Helper()
	c := kms.NewFromConfig(moto.Config())
	out, err := c.CreateKey(context.Background(), &kms.CreateKeyInput{Description: aws.String("error details")})
	if err != nil {
		t.Fatalf("create key: %v", err)
	}
	return c, *out.KeyMetadata.KeyId
}

// TestConformanceOnS3WithKMS: a sealed store on S3 with data keys from
// KMS (both on moto) passes the blob suite and the sealing checks.
func TestConformanceOnS3WithKMS(t *testing.T) {
	newStore := func(t *testing.T) (blob.Store, sealed.Keys) {
		c, id := kmsKey(t)
		return bucket(t), kmskeys.New(c, id, kmskeys.PurposeErrorDetails)
	}
	blobtest.Run(t, func(t *testing.T) blob.Store { return sealed.New(newStore(t)) })
	suite(t, newStore)
}

// TestKMSEncryptionContext: a data key made for one purpose does not open
// under another: the encryption context binds it.
func TestKMSEncryptionContext(t *testing.T) {
	c, id := kmsKey(t)
	ctx := context.Background()
	_, wrapped, err := kmskeys.New(c, id, kmskeys.PurposeErrorDetails).DataKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kmskeys.New(c, id, "something-else").Unwrap(ctx, wrapped); err == nil {
		t.Errorf("a data key opened under another encryption context")
	}
	if _, err := kmskeys.New(c, id, kmskeys.PurposeErrorDetails).Unwrap(ctx, wrapped); err != nil {
		t.Errorf("unwrap under its own context: %v", err)
	}
}
