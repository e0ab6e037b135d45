// Package dynamostore implements store.Store on one DynamoDB table, the
// AWS twin of boltstore; both pass the storetest suite.
//
// Item layout (PK, SK, and the index keys an item carries):
//
//	lease         JOB#<job>            LEASE            owner, expires (ms)
//	cursor        JOB#<job>            CURSOR           cursor
//	job state     JOB#<job>            STATE            data
//	ledger entry  LEDGER#<job>         <ledger key>     data, version; GSI1: UNFINISHED#<job> or
//	                                                    UNDISPOSED#<job> / <updatedAt>#<key>;
//	                                                    GSI2: LMID#<job>#<Message-ID> / <fetchedAt>#<key>
//	fingerprint   FP#<job>#<fp>        FP               key
//	run           RUNS#<job>           RUN#<id>         data; GSI2: RUNS#<job> / <startedAt>#<id>
//	request       REQ#<id>             REQ              data; GSI1: REQS / <number>; GSI2: REQS#<job> / <number>
//	conversation  REQ#<request id>     CONV#<createdAt>#<id>  data
//	message id    MSGID#<message id>   MSGID            requestId
//	counter       COUNTER              REQUEST          n
//
// Values are JSON in a "data" attribute; only what a condition or an index
// needs is an attribute of its own. Ledger entries with an outcome that
// were disposed, and finished runs, expire through the TTL attribute when
// Options ask. GSI1 is eventually consistent: an entry just written may
// show up in Undisposed or Unfinished a moment later, which the fetch
// stage tolerates (it finds the entry at its next run).
package dynamostore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mailconnector/shared/run"
	"mailconnector/shared/store"
)

// Attribute and index names; infra/ declares the table with them.
const (
	AttrPK     = "PK"
	AttrSK     = "SK"
	AttrGSI1PK = "GSI1PK"
	AttrGSI1SK = "GSI1SK"
	AttrGSI2PK = "GSI2PK"
	AttrGSI2SK = "GSI2SK"
	// AttrTTL is the table's TTL attribute (epoch seconds).
	AttrTTL = "expiresAt"
	// GSI1 lists unfinished and undisposed ledger entries by time, and all
	// requests by number; GSI2 lists one job's requests by number and one
	// job's runs by start time. Both
	// project all attributes; every key is a string.
	GSI1 = "GSI1"
	GSI2 = "GSI2"
)

// Index is one global secondary index of the table.
type Index struct {
	Name, PartitionKey, SortKey string
}

// Schema is the table's key schema, for the CDK stack and tests.
type Schema struct {
	PartitionKey, SortKey, TTLAttribute string
	Indexes                             []Index
}

// TableSchema describes the table this package needs. Every key attribute
// is a string; the indexes project all attributes.
var TableSchema = Schema{
	PartitionKey: AttrPK, SortKey: AttrSK, TTLAttribute: AttrTTL,
	Indexes: []Index{{GSI1, AttrGSI1PK, AttrGSI1SK}, {GSI2, AttrGSI2PK, AttrGSI2SK}},
}

// CreateTable creates the table (on demand), for tests and local use.
// An existing table is not an error.
func CreateTable(ctx context.Context, c *dynamodb.Client, name string) error {
	attr := func(n string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeTypeS}
	}
	key := func(pk, sk string) []types.KeySchemaElement {
		return []types.KeySchemaElement{{AttributeName: aws.String(pk), KeyType: types.KeyTypeHash}, {AttributeName: aws.String(sk), KeyType: types.KeyTypeRange}}
	}
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{attr(AttrPK), attr(AttrSK)},
		KeySchema:            key(AttrPK, AttrSK),
	}
	for _, ix := range TableSchema.Indexes {
		in.AttributeDefinitions = append(in.AttributeDefinitions, attr(ix.PartitionKey), attr(ix.SortKey))
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName: aws.String(ix.Name), KeySchema: key(ix.PartitionKey, ix.SortKey),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		})
	}
	_, err := c.CreateTable(ctx, in)
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("dynamostore: create table %s: %w", name, err)
	}
	if _, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(AttrTTL), Enabled: aws.Bool(true)}}); err != nil && !isTTLAlreadyOn(err) {
		return fmt.Errorf("dynamostore: turn on TTL for %s: %w", name, err)
	}
	return nil
}

func isTTLAlreadyOn(err error) bool {
	var ve interface{ ErrorCode() string }
	return errors.As(err, &ve) && ve.ErrorCode() == "ValidationException"
}

// Options configure a Store; nil means the defaults.
type Options struct {
	Now func() time.Time
	// LedgerTTL expires ledger entries this long after they were disposed;
	// RunTTL expires runs this long after they ended. 0 keeps them.
	LedgerTTL, RunTTL time.Duration
}

// Store is a store.Store on DynamoDB.
type Store struct {
	c     *dynamodb.Client
	table string
	o     Options
}

var _ store.Store = (*Store)(nil)

// New returns a Store on table.
func New(c *dynamodb.Client, table string, opts *Options) *Store {
	s := &Store{c: c, table: table}
	if opts != nil {
		s.o = *opts
	}
	if s.o.Now == nil {
		s.o.Now = time.Now
	}
	return s
}

type item = map[string]types.AttributeValue

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func getS(it item, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getN(it item, name string) int64 {
	if v, ok := it[name].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}

func keyOf(pk, sk string) item { return item{AttrPK: str(pk), AttrSK: str(sk)} }

// timeKey sorts as the time does: fixed-width UTC.
func timeKey(t time.Time) string { return t.UTC().Format("20060102T150405.000000000Z") }

func pad(n int64) string { return fmt.Sprintf("%020d", n) }

func isCondFailed(err error) bool {
	var cf *types.ConditionalCheckFailedException
	return errors.As(err, &cf)
}

func (s *Store) get(ctx context.Context, pk, sk string) (item, error) {
	out, err := s.c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: keyOf(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

func decode(it item, v any) error {
	if err := json.Unmarshal([]byte(getS(it, "data")), v); err != nil {
		return fmt.Errorf("decode item %s/%s: %w", getS(it, AttrPK), getS(it, AttrSK), err)
	}
	return nil
}

// query runs a query to the end (limit <= 0) or up to limit items.
func (s *Store) query(ctx context.Context, in *dynamodb.QueryInput, limit int) ([]item, error) {
	in.TableName = aws.String(s.table)
	var out []item
	for {
		if limit > 0 {
			in.Limit = aws.Int32(int32(min(limit-len(out), 1000)))
		}
		res, err := s.c.Query(ctx, in)
		if err != nil {
			return nil, err
		}
		out = append(out, res.Items...)
		if len(res.LastEvaluatedKey) == 0 || (limit > 0 && len(out) >= limit) {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// Leases.

// AcquireLease takes the job's lease if it is free, expired or owner's.
func (s *Store) AcquireLease(ctx context.Context, jobID, owner string, ttl time.Duration) error {
	now := s.o.Now()
	it := keyOf("JOB#"+jobID, "LEASE")
	it["owner"], it["expires"] = str(owner), num(now.Add(ttl).UnixMilli())
	_, err := s.c.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: it,
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR expires < :now OR #o = :owner"),
		ExpressionAttributeNames:  map[string]string{"#o": "owner"},
		ExpressionAttributeValues: item{":now": num(now.UnixMilli()), ":owner": str(owner)},
	})
	if isCondFailed(err) {
		return fmt.Errorf("dynamostore: lease of job %s: %w", jobID, store.ErrLeaseHeld)
	}
	if err != nil {
		return fmt.Errorf("dynamostore: lease of job %s: %w", jobID, err)
	}
	return nil
}

// ReleaseLease gives the lease up if owner holds it.
func (s *Store) ReleaseLease(ctx context.Context, jobID, owner string) error {
	_, err := s.c.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: keyOf("JOB#"+jobID, "LEASE"),
		ConditionExpression:       aws.String("#o = :owner"),
		ExpressionAttributeNames:  map[string]string{"#o": "owner"},
		ExpressionAttributeValues: item{":owner": str(owner)},
	})
	if err != nil && !isCondFailed(err) {
		return fmt.Errorf("dynamostore: release lease of job %s: %w", jobID, err)
	}
	return nil
}

// Cursors and job states.

// Cursor returns the job's cursor, "" when it has none.
func (s *Store) Cursor(ctx context.Context, jobID string) (string, error) {
	it, err := s.get(ctx, "JOB#"+jobID, "CURSOR")
	if err != nil {
		return "", fmt.Errorf("dynamostore: cursor of job %s: %w", jobID, err)
	}
	return getS(it, "cursor"), nil
}

// SetCursor stores the job's cursor.
func (s *Store) SetCursor(ctx context.Context, jobID, cursor string) error {
	it := keyOf("JOB#"+jobID, "CURSOR")
	it["cursor"] = str(cursor)
	if _, err := s.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: it}); err != nil {
		return fmt.Errorf("dynamostore: set cursor of job %s: %w", jobID, err)
	}
	return nil
}

// JobState returns the job's state (the zero value when none).
func (s *Store) JobState(ctx context.Context, jobID string) (store.JobState, error) {
	it, err := s.get(ctx, "JOB#"+jobID, "STATE")
	if err != nil {
		return store.JobState{}, fmt.Errorf("dynamostore: state of job %s: %w", jobID, err)
	}
	st := store.JobState{JobID: jobID}
	if it == nil {
		return st, nil
	}
	if err := decode(it, &st); err != nil {
		return st, fmt.Errorf("dynamostore: state of job %s: %w", jobID, err)
	}
	return st, nil
}

// PutJobState stores the job's state.
func (s *Store) PutJobState(ctx context.Context, st store.JobState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	it := keyOf("JOB#"+st.JobID, "STATE")
	it["data"] = str(string(b))
	if _, err := s.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: it}); err != nil {
		return fmt.Errorf("dynamostore: put state of job %s: %w", st.JobID, err)
	}
	return nil
}

// Runs.

// PutRun stores a run (upsert by job and run id).
func (s *Store) PutRun(ctx context.Context, r run.Run) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	it := keyOf("RUNS#"+r.JobID, "RUN#"+r.ID)
	it["data"] = str(string(b))
	it[AttrGSI2PK], it[AttrGSI2SK] = str("RUNS#"+r.JobID), str(timeKey(r.StartedAt)+"#"+r.ID)
	if s.o.RunTTL > 0 && !r.EndedAt.IsZero() {
		it[AttrTTL] = num(r.EndedAt.Add(s.o.RunTTL).Unix())
	}
	if _, err := s.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: it}); err != nil {
		return fmt.Errorf("dynamostore: put run %s of job %s: %w", r.ID, r.JobID, err)
	}
	return nil
}

// Runs returns up to limit runs of the job, newest first.
func (s *Store) Runs(ctx context.Context, jobID string, limit int) ([]run.Run, error) {
	items, err := s.query(ctx, &dynamodb.QueryInput{
		IndexName:                 aws.String(GSI2),
		KeyConditionExpression:    aws.String("GSI2PK = :pk"),
		ExpressionAttributeValues: item{":pk": str("RUNS#" + jobID)},
		ScanIndexForward:          aws.Bool(false),
	}, limit)
	if err != nil {
		return nil, fmt.Errorf("dynamostore: runs of job %s: %w", jobID, err)
	}
	out := make([]run.Run, 0, len(items))
	for _, it := range items {
		var r run.Run
		if err := decode(it, &r); err != nil {
			return nil, fmt.Errorf("dynamostore: runs of job %s: %w", jobID, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// parallel runs fn(0..n-1) on up to workers goroutines.
func parallel(n, workers int, fn func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}
