package dynamostore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A DynamoDB item holds at most 400 KB, names and values together
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items).
// A request, conversation or run whose JSON is longer than maxItemData (3,000
// attachments, 20,000 participants, a long subject) keeps the first
// maxItemData bytes on its own item and the rest on part items in the
// same partition:
//
//	part          <PK of the item>    <SK of the item>#PART#<n>   data, partOf (the item's SK)
//
// The item then carries parts (how many) and dataHash (SHA-256 of the
// whole JSON), written in the same transaction as its parts. A reader
// joins the parts and checks the hash; a mismatch means it read across a
// concurrent rewrite, and it reads again. Parts past an item's count are
// left over from a longer earlier version and ignored.
const maxItemData = 300 << 10

// Attributes of items with parts.
const (
	attrParts    = "parts"
	attrDataHash = "dataHash"
	attrPartOf   = "partOf"
)

func partSK(sk string, n int) string { return fmt.Sprintf("%s#PART#%04d", sk, n) }

// withData stores data on it, spilling what does not fit to part items,
// which it returns.
func withData(it item, data string) []item {
	if len(data) <= maxItemData {
		it["data"] = str(data)
		return nil
	}
	pk, sk := getS(it, AttrPK), getS(it, AttrSK)
	chunks := split(data, maxItemData)
	it["data"] = str(chunks[0])
	sum := sha256.Sum256([]byte(data))
	it[attrParts], it[attrDataHash] = num(int64(len(chunks)-1)), str(hex.EncodeToString(sum[:]))
	var parts []item
	for i, c := range chunks[1:] {
		p := keyOf(pk, partSK(sk, i+1))
		p["data"], p[attrPartOf] = str(c), str(sk)
		parts = append(parts, p)
	}
	return parts
}

// withPackedData is withData for the JSON of a request or conversation:
// deflated on the item (packed.go) when that fits, which most do.
func withPackedData(it item, data string) []item {
	p := packed([]byte(data))
	if len(p.(*types.AttributeValueMemberB).Value) <= maxItemData {
		it[attrPacked] = p
		return nil
	}
	return withData(it, data)
}

// split cuts s into pieces of at most n bytes on UTF-8 boundaries
// (DynamoDB strings are UTF-8, and JSON is valid UTF-8).
func split(s string, n int) []string {
	var out []string
	for len(s) > n {
		i := n
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	return append(out, s)
}

// joined returns the whole data of it, reading its parts from parts
// (partOf's SK → part items, in order) when given, else from the table.
// It reads again when the parts do not match it.
func (s *Store) joined(ctx context.Context, it item, parts map[string][]item) (string, error) {
	for attempt := 0; ; attempt++ {
		n := getN(it, attrParts)
		if n == 0 {
			if p, ok := it[attrPacked]; ok {
				b, err := unpacked(p)
				return string(b), err
			}
			return getS(it, "data"), nil
		}
		pk, sk := getS(it, AttrPK), getS(it, AttrSK)
		ps := parts[sk]
		if parts == nil || attempt > 0 {
			var err error
			if ps, err = s.query(ctx, &dynamodb.QueryInput{
				KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :p)"),
				ExpressionAttributeValues: item{":pk": str(pk), ":p": str(sk + "#PART#")},
				ConsistentRead:            aws.Bool(true),
			}, int(n)); err != nil {
				return "", fmt.Errorf("read parts of item %s/%s: %w", pk, sk, err)
			}
		}
		data := getS(it, "data")
		if len(ps) >= int(n) {
			for _, p := range ps[:n] {
				data += getS(p, "data")
			}
			sum := sha256.Sum256([]byte(data))
			if hex.EncodeToString(sum[:]) == getS(it, attrDataHash) {
				return data, nil
			}
		}
		if attempt >= 5 {
			return "", fmt.Errorf("read item %s/%s: its %d parts kept changing or are missing", pk, sk, n)
		}
		// Rewritten meanwhile: read the item again, then its parts.
		fresh, err := s.get(ctx, pk, sk)
		if err != nil {
			return "", fmt.Errorf("read item %s/%s again: %w", pk, sk, err)
		}
		if fresh == nil {
			return "", fmt.Errorf("read item %s/%s again: gone", pk, sk)
		}
		it = fresh
	}
}

// decodeJoined decodes the whole data of it into v.
func (s *Store) decodeJoined(ctx context.Context, it item, parts map[string][]item, v any) error {
	if getN(it, attrParts) == 0 {
		return decode(it, v)
	}
	data, err := s.joined(ctx, it, parts)
	if err != nil {
		return err
	}
	whole := item{AttrPK: it[AttrPK], AttrSK: it[AttrSK], "data": str(data)}
	return decode(whole, v)
}
