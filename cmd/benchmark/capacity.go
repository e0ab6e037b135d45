package main

// DynamoDB request units, reckoned from item sizes. moto answers
// ReturnConsumedCapacity with a fixed 1 or 0.5 whatever the item, so the
// units are computed here the way DynamoDB bills on-demand tables
// (https://aws.amazon.com/dynamodb/pricing/on-demand/ and the developer
// guide's "Item sizes and formats"):
//
//   - a write costs 1 write unit per started KB of the larger of the item
//     before and after it, at least 1, also when its condition fails;
//   - a write in TransactWriteItems costs twice that, a ConditionCheck too;
//   - each global secondary index the item is in before or after costs a
//     write of the index entry (projection ALL: the item): 1 when the item
//     enters or leaves the index or changes in place, 2 when its index key
//     changes (a delete and a put). Index writes are not doubled in a
//     transaction (they are applied asynchronously);
//   - a read costs 1 read unit per started 4 KB strongly consistent, half
//     eventually consistent (every index query), at least one unit, the
//     items of a query page summed before rounding.
//
// The sizes before and after a write are read from moto with a second
// client that neither counts nor is counted, so this pass is slower than
// the functions: its times are not used (the timed pass runs without it).

import (
	"context"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"mailconnector/shared/store/dynamostore"
)

// capacity adds up the request units of the DynamoDB calls it sees.
type capacity struct {
	shadow *dynamodb.Client // uncounted, for the sizes around a write
	table  string

	mu          sync.Mutex
	read, write float64            // request units
	indexWrite  float64            // of it (write), the index entries
	byKind      map[string]float64 // write units by item kind
}

// attach makes the DynamoDB clients built from cfg afterwards report to c.
func (c *capacity) attach(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("benchmark.capacity",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if awsmiddleware.GetServiceID(ctx) != "DynamoDB" {
					return next.HandleInitialize(ctx, in)
				}
				return c.handle(ctx, in, next)
			}), middleware.After)
	})
}

func (c *capacity) units() (read, write, index float64, byKind map[string]float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	byKind = map[string]float64{}
	for k, v := range c.byKind {
		byKind[k] = v
	}
	return c.read, c.write, c.indexWrite, byKind
}

func (c *capacity) reset() {
	c.mu.Lock()
	c.read, c.write, c.indexWrite, c.byKind = 0, 0, 0, nil
	c.mu.Unlock()
}

// kind names the kind of item a key is (dynamostore's layout): the
// partition key's prefix, or the sort key of a job's own items.
func kind(key map[string]types.AttributeValue) string {
	pk, _ := key[dynamostore.AttrPK].(*types.AttributeValueMemberS)
	sk, _ := key[dynamostore.AttrSK].(*types.AttributeValueMemberS)
	if pk == nil || sk == nil {
		return "?"
	}
	p, _, _ := strings.Cut(pk.Value, "#")
	switch {
	case strings.Contains(sk.Value, "#PART#"):
		return p + " part"
	case p == "JOB":
		return "JOB " + sk.Value
	case p == "REQ" && strings.HasPrefix(sk.Value, "CONV#"):
		return "REQ conversation"
	}
	return p
}

// writeOp is one item a write touches.
type writeOp struct {
	key          map[string]types.AttributeValue
	transact     bool
	conditionOne bool // a ConditionCheck: no write, billed as one
	before       map[string]types.AttributeValue
}

func (c *capacity) handle(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	var ops []*writeOp
	switch p := in.Parameters.(type) {
	case *dynamodb.PutItemInput:
		ops = append(ops, &writeOp{key: keyOf(p.Item)})
	case *dynamodb.UpdateItemInput:
		ops = append(ops, &writeOp{key: p.Key})
	case *dynamodb.DeleteItemInput:
		ops = append(ops, &writeOp{key: p.Key})
	case *dynamodb.TransactWriteItemsInput:
		for _, it := range p.TransactItems {
			switch {
			case it.Put != nil:
				ops = append(ops, &writeOp{key: keyOf(it.Put.Item), transact: true})
			case it.Update != nil:
				ops = append(ops, &writeOp{key: it.Update.Key, transact: true})
			case it.Delete != nil:
				ops = append(ops, &writeOp{key: it.Delete.Key, transact: true})
			case it.ConditionCheck != nil:
				ops = append(ops, &writeOp{key: it.ConditionCheck.Key, transact: true, conditionOne: true})
			}
		}
	case *dynamodb.BatchWriteItemInput:
		for _, reqs := range p.RequestItems {
			for _, r := range reqs {
				switch {
				case r.PutRequest != nil:
					ops = append(ops, &writeOp{key: keyOf(r.PutRequest.Item)})
				case r.DeleteRequest != nil:
					ops = append(ops, &writeOp{key: r.DeleteRequest.Key})
				}
			}
		}
	}
	for _, op := range ops {
		op.before = c.item(ctx, op.key)
	}
	out, md, err := next.HandleInitialize(ctx, in)

	var read, write, index float64
	kinds := map[string]float64{}
	for _, op := range ops {
		opWrite := 0.0
		after := op.before
		if err == nil && !op.conditionOne {
			after = c.item(ctx, op.key)
		}
		size := max(itemSize(op.before), itemSize(after))
		units := math.Max(1, math.Ceil(float64(size)/1024))
		if op.transact {
			units *= 2
		}
		write += units
		opWrite += units
		if err != nil || op.conditionOne {
			kinds[kind(op.key)] += opWrite
			continue
		}
		for _, ix := range dynamostore.TableSchema.Indexes {
			bk, ak := indexKey(op.before, ix), indexKey(after, ix)
			switch {
			case bk == "" && ak == "":
			case ix.Projection == dynamostore.ProjectionKeysOnly:
				// The index entry holds the keys only: written when the
				// item enters or leaves the index (1 unit, the keys being
				// well under 1 KB) or its key changes (a delete and a
				// put), not when other attributes change.
				switch {
				case bk == ak:
				case bk != "" && ak != "":
					index += 2
					opWrite += 2
				default:
					index++
					opWrite++
				}
			case bk != "" && ak != "" && bk != ak:
				u := math.Max(1, math.Ceil(float64(itemSize(op.before))/1024)) + math.Max(1, math.Ceil(float64(itemSize(after))/1024))
				index += u
				opWrite += u
			default:
				u := math.Max(1, math.Ceil(float64(size)/1024))
				index += u
				opWrite += u
			}
		}
		kinds[kind(op.key)] += opWrite
	}
	if err == nil {
		switch o := out.Result.(type) {
		case *dynamodb.GetItemOutput:
			p := in.Parameters.(*dynamodb.GetItemInput)
			read += readUnits(itemSize(o.Item), aws.ToBool(p.ConsistentRead))
		case *dynamodb.QueryOutput:
			p := in.Parameters.(*dynamodb.QueryInput)
			var n int64
			for _, it := range o.Items {
				n += itemSize(it)
			}
			// Items a filter dropped were read too; count them at the
			// average size of those returned.
			if o.ScannedCount > o.Count && o.Count > 0 {
				n += n / int64(o.Count) * int64(o.ScannedCount-o.Count)
			}
			read += readUnits(n, aws.ToBool(p.ConsistentRead) && p.IndexName == nil)
		}
	}
	c.mu.Lock()
	c.read += read
	c.write += write + index
	c.indexWrite += index
	if c.byKind == nil {
		c.byKind = map[string]float64{}
	}
	for k, v := range kinds {
		c.byKind[k] += v
	}
	c.mu.Unlock()
	return out, md, err
}

func readUnits(size int64, consistent bool) float64 {
	u := math.Max(1, math.Ceil(float64(size)/4096))
	if !consistent {
		u /= 2
	}
	return u
}

// item reads the item under key as it stands (nil when none).
func (c *capacity) item(ctx context.Context, key map[string]types.AttributeValue) map[string]types.AttributeValue {
	out, err := c.shadow.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(c.table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil
	}
	return out.Item
}

func keyOf(it map[string]types.AttributeValue) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{dynamostore.AttrPK: it[dynamostore.AttrPK], dynamostore.AttrSK: it[dynamostore.AttrSK]}
}

// indexKey is the item's key in index ix, "" when it is not in it.
func indexKey(it map[string]types.AttributeValue, ix dynamostore.Index) string {
	pk, ok := it[ix.PartitionKey].(*types.AttributeValueMemberS)
	if !ok {
		return ""
	}
	sk, ok := it[ix.SortKey].(*types.AttributeValueMemberS)
	if !ok {
		return ""
	}
	return pk.Value + "\x00" + sk.Value
}

// itemSize is an item's size as DynamoDB counts it: the UTF-8 length of
// each attribute name plus its value's size.
func itemSize(it map[string]types.AttributeValue) int64 {
	var n int64
	for k, v := range it {
		n += int64(len(k)) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int64 {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return int64(len(v.Value))
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberB:
		return int64(len(v.Value))
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		var n int64
		for _, s := range v.Value {
			n += int64(len(s))
		}
		return n
	case *types.AttributeValueMemberNS:
		var n int64
		for _, s := range v.Value {
			n += numberSize(s)
		}
		return n
	case *types.AttributeValueMemberBS:
		var n int64
		for _, b := range v.Value {
			n += int64(len(b))
		}
		return n
	case *types.AttributeValueMemberL:
		n := int64(3)
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := int64(3)
		for k, e := range v.Value {
			n += 1 + int64(len(k)) + valueSize(e)
		}
		return n
	}
	return 0
}

// numberSize: about one byte per two significant digits, plus one.
func numberSize(s string) int64 {
	digits := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		return int64(len(s))
	}
	return int64((digits+1)/2 + 1)
}
