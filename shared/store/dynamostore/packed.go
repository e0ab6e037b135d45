package dynamostore

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mailconnector/shared/store/deflate"
)

// The JSON of a ledger entry, a request or a conversation is stored
// deflated, as the binary attribute "dataz" (attrPacked), rather than as
// the string "data" (a request or conversation too long for its item even
// deflated spills to parts as JSON, parts.go). DynamoDB bills a
// write by the started kilobyte of the item and of each of its index copies
// (the indexes project every attribute), and an entry is written five
// times on its way through the pipeline: its JSON, about 900 bytes, took
// the item just over 1 KB, 2 units a write; deflated (about 550 bytes) it
// stays under 1 KB. decode reads both forms, so items written before are
// read as they are.
const attrPacked = "dataz"

// packed is b deflated, as a binary attribute value.
func packed(b []byte) types.AttributeValue {
	return &types.AttributeValueMemberB{Value: deflate.Pack(nil, b)}
}

// unpacked inflates the value of attrPacked.
func unpacked(v types.AttributeValue) ([]byte, error) {
	b, ok := v.(*types.AttributeValueMemberB)
	if !ok {
		return nil, fmt.Errorf("%s is a %T, not binary", attrPacked, v)
	}
	out, err := deflate.Unpack(b.Value)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", attrPacked, err)
	}
	return out, nil
}
