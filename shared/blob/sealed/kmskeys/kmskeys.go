// Package kmskeys is the AWS side of sealed.Keys: data keys from a
// customer-managed KMS key (GenerateDataKey with KeySpec AES_256, and
// Decrypt), bound to an encryption context that names their purpose, so
// an IAM policy can allow exactly this use of the key
// (kms:EncryptionContext:purpose). See
// https://docs.aws.amazon.com/kms/latest/developerguide/encrypt_context.html.
package kmskeys

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"mailconnector/shared/blob/sealed"
)

// Client is what Keys needs of the KMS client.
type Client interface {
	GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// PurposeErrorDetails is the encryption context's purpose of the error
// details' data keys (sealed.PurposeErrorDetails, which the stack's key
// grants name).
const PurposeErrorDetails = sealed.PurposeErrorDetails

// Keys makes data keys under one KMS key.
type Keys struct {
	c       Client
	keyID   string
	context map[string]string
}

var _ sealed.Keys = (*Keys)(nil)

// New returns Keys of the KMS key keyID (id, ARN or alias) for purpose.
func New(c Client, keyID, purpose string) *Keys {
	return &Keys{c: c, keyID: keyID, context: map[string]string{"purpose": purpose}}
}

// DataKey asks KMS for a fresh AES-256 data key.
func (k *Keys) DataKey(ctx context.Context) (plain, wrapped []byte, err error) {
	out, err := k.c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(k.keyID), KeySpec: types.DataKeySpecAes256, EncryptionContext: k.context})
	if err != nil {
		return nil, nil, fmt.Errorf("kmskeys: generate a data key with %s: %w", k.keyID, err)
	}
	return out.Plaintext, out.CiphertextBlob, nil
}

// Unwrap has KMS decrypt a data key.
func (k *Keys) Unwrap(ctx context.Context, wrapped []byte) ([]byte, error) {
	out, err := k.c.Decrypt(ctx, &kms.DecryptInput{KeyId: aws.String(k.keyID), CiphertextBlob: wrapped, EncryptionContext: k.context})
	if err != nil {
		return nil, fmt.Errorf("kmskeys: decrypt a data key with %s: %w", k.keyID, err)
	}
	return out.Plaintext, nil
}
