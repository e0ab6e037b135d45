package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/jsii-runtime-go"

	"mailconnector/shared/store/dynamostore"
)

// tableSchema is the shape of the connector's DynamoDB table: its keys,
// global secondary indexes and TTL attribute.
type tableSchema struct {
	PartitionKey keyAttr
	SortKey      keyAttr
	Indexes      []indexSchema
	TTLAttribute string
}

type keyAttr struct {
	Name string
	Type awsdynamodb.AttributeType
}

type indexSchema struct {
	Name         string
	PartitionKey keyAttr
	SortKey      *keyAttr // nil: no sort key
	// Projection is ALL, KEYS_ONLY or INCLUDE (with NonKeyAttributes).
	Projection       awsdynamodb.ProjectionType
	NonKeyAttributes []string
}

// storeSchema returns the schema of the store adapter
// mailconnector/shared/store/dynamostore, taken from its exports so the
// table and the adapter cannot drift: every key attribute is a string and
// every index projects what the adapter says (as dynamostore.CreateTable
// does).
func storeSchema() tableSchema {
	s := dynamostore.TableSchema
	str := func(name string) keyAttr { return keyAttr{Name: name, Type: awsdynamodb.AttributeType_STRING} }
	out := tableSchema{
		PartitionKey: str(s.PartitionKey),
		SortKey:      str(s.SortKey),
		TTLAttribute: s.TTLAttribute,
	}
	for _, ix := range s.Indexes {
		is := indexSchema{Name: ix.Name, PartitionKey: str(ix.PartitionKey), Projection: awsdynamodb.ProjectionType(ix.Projection)}
		if ix.SortKey != "" {
			sk := str(ix.SortKey)
			is.SortKey = &sk
		}
		out.Indexes = append(out.Indexes, is)
	}
	return out
}

func (k keyAttr) attribute() *awsdynamodb.Attribute {
	return &awsdynamodb.Attribute{Name: jsii.String(k.Name), Type: k.Type}
}
