// Package dynamostore implements store.Store on one DynamoDB table, the
// AWS twin of boltstore; both pass the storetest suite.
//
// Item layout (PK, SK, the other attributes, and the index keys an item
// carries; <t> is a time as fixed-width UTC, <n> a zero-padded number):
//
//	kind          PK                  SK                     attributes; index keys
//	lease         JOB#<job>           LEASE                  owner, expires (Unix ms)
//	cursor        JOB#<job>           CURSOR                 cursor
//	job state     JOB#<job>           STATE                  data
//	ledger entry  LEDGER#<job>        <ledger key>           dataz (data, deflated), version;
//	                                                         GSI1 UNFINISHED#<job> / <updatedAt t>#<key> while without outcome,
//	                                                         GSI1 UNDISPOSED#<job> / <updatedAt t>#<key> while not disposed,
//	                                                         GSI4 LTIME#<job> / <fetchedAt t>#<key> (entries written
//	                                                         before GSI4 was: GSI3, the same keys, until their next write);
//	                                                         expiresAt once disposed (LedgerTTL)
//	fingerprint   FP#<job>#<fp>       FP                     key (of the entry); expiresAt with its entry's
//	who           LWHO#<who>          <fetchedAt t>#<job>#<key>  jobId, key: an entry by its Message-ID or sender
//	                                                         address (store.WhoKey), also for EntryByMessageID;
//	                                                         expiresAt 30 days after its entry's, were that disposed
//	                                                         of when fetched; its entry's if disposed of later (messages.go)
//	run           RUNS#<job>          RUN#<id>               data; GSI2 RUNS#<job> / <startedAt t>#<id>;
//	                                                         expiresAt once ended (RunTTL)
//	request       REQ#<id>            REQ                    data; GSI1 REQS / <number n>; GSI2 REQS#<job> / <number n>
//	conversation  REQ#<request id>    CONV#<createdAt t>#<id>  data
//	message id    MSGID#<Message-ID>  MSGID                  requestId
//	counter       COUNTER             REQUEST                n (the last request number)
//	outbox        OUTBOX              <t>#<job>#<ledger key>  jobId, key, payload, created, claimUntil (outbox.go)
//	part          <PK of its item>    <SK of its item>#PART#<n>  data, partOf: the rest of a long request, conversation or run (parts.go)
//
// Values are JSON in a "data" attribute (a ledger entry's deflated in
// "dataz", packed.go); only what a condition or an index needs is an
// attribute of its own.
//
// Record writes an entry and its fingerprint item in one transaction, so a
// fingerprint item always names an entry that was written; one naming an
// entry that is gone (expired) is taken over by the next entry with that
// fingerprint. Its who items are written just before, outside the
// transaction (each item in one costs twice): one may name an entry that
// was never written, which look-ups skip. Unlike boltstore, a batch is
// not one transaction (DynamoDB allows 100 items and charges double):
// after an error some of its entries may be recorded, and recording them
// again gives ErrExists.
//
// Commit is one transaction too; request numbers come from the counter
// item, conditional on the value read, so they have no gaps and a refused
// commit uses none. Every request is numbered through that one item, so
// numbering is serial: the commits of one Store that create requests take
// turns (and start from the counter the last one wrote), and those of
// other processes retry on a counter that moved.
//
// The indexes are eventually consistent, as DynamoDB's global secondary
// indexes are: an entry just written may show up in Undisposed, Unfinished
// or EntryByMessageID, and a request or run in ListRequests or Runs, a
// moment later (moto shows them at once). The fetch stage tolerates that:
// it finds such an entry at its next run. Everything read by key (Entry,
// Request, RequestByNumber, RequestByMessageID, Conversations, leases,
// cursors) is strongly consistent. EntryByMessageID returns the entry with
// the earliest FetchedAt (then key), where boltstore returns the first
// recorded: the same unless entries are recorded out of fetch order.
//
// All requests share one GSI1 partition (REQS), which is fine for the rate
// at which a helpdesk gets requests (well under 1,000 a second).
package dynamostore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mailconnector/shared/redact"
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
	AttrGSI3PK = "GSI3PK"
	AttrGSI3SK = "GSI3SK"
	AttrGSI4PK = "GSI4PK"
	AttrGSI4SK = "GSI4SK"
	// AttrTTL is the table's TTL attribute (epoch seconds, a number).
	AttrTTL = "expiresAt"
	// GSI1 lists one job's unfinished and undisposed ledger entries by
	// time, and all requests by number; GSI2 lists one job's requests by
	// number and one job's runs by start time (ledger entries written
	// before EntryByMessageID read the who items carry GSI2 keys too,
	// until their next write). Both are sparse (an item carries their keys only while
	// it belongs there) and project all attributes: their readers want the
	// items, and an index query is cheaper than reading each.
	GSI1 = "GSI1"
	GSI2 = "GSI2"
	// GSI4 lists one job's ledger entries by fetch time, for an
	// administrator (Messages); every entry carries its keys. It projects
	// the keys only: an entry is written four times, and DynamoDB writes
	// an index entry again with every write of its item when the index
	// projects all attributes, but only when its key changes when it
	// projects the keys (never, for this one: the fetch time stays).
	// Messages reads the entries it lists.
	GSI4 = "GSI4"
	// GSI3 is GSI4 as it was first, projecting all attributes. Entries
	// written before GSI4 keep their GSI3 keys until their next write or
	// expiry; Messages lists both. CloudFormation creates or deletes one
	// index per stack update, so GSI4 came in one and GSI3 goes in a
	// later one.
	GSI3 = "GSI3"
	// KeyTypeString is the type of every key attribute, table and indexes
	// alike (DynamoDB's "S").
	KeyTypeString = "S"
	// ProjectionAll projects every attribute (DynamoDB's "ALL").
	ProjectionAll = "ALL"
	// ProjectionKeysOnly projects the table's and the index's keys only
	// (DynamoDB's "KEYS_ONLY").
	ProjectionKeysOnly = "KEYS_ONLY"
)

// Key is one key attribute.
type Key struct {
	Name string
	Type string // KeyTypeString
}

// Index is one global secondary index of the table.
type Index struct {
	Name         string
	PartitionKey string // of type KeyTypeString, like SortKey
	SortKey      string
	Projection   string // ProjectionAll or ProjectionKeysOnly
}

// Schema is what a table needs for this package: its keys, global
// secondary indexes and TTL attribute. The CDK stack (infra/) builds the
// table from TableSchema, so the two cannot drift.
type Schema struct {
	PartitionKey, SortKey string // of type KeyTypeString
	TTLAttribute          string
	Indexes               []Index
	// KeyType is the type of every key attribute above (KeyTypeString).
	KeyType string
	// OnDemand says the table bills per request (no capacity to plan).
	OnDemand bool
}

// Keys returns every key attribute of the table and its indexes, once
// each, as an AttributeDefinitions list needs them.
func (s Schema) Keys() []Key {
	var out []Key
	seen := map[string]bool{}
	add := func(n string) {
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, Key{Name: n, Type: s.KeyType})
		}
	}
	add(s.PartitionKey)
	add(s.SortKey)
	for _, ix := range s.Indexes {
		add(ix.PartitionKey)
		add(ix.SortKey)
	}
	return out
}

// TableSchema describes the table this package needs.
var TableSchema = Schema{
	PartitionKey: AttrPK, SortKey: AttrSK, TTLAttribute: AttrTTL,
	Indexes: []Index{
		{Name: GSI1, PartitionKey: AttrGSI1PK, SortKey: AttrGSI1SK, Projection: ProjectionAll},
		{Name: GSI2, PartitionKey: AttrGSI2PK, SortKey: AttrGSI2SK, Projection: ProjectionAll},
		{Name: GSI3, PartitionKey: AttrGSI3PK, SortKey: AttrGSI3SK, Projection: ProjectionAll},
		{Name: GSI4, PartitionKey: AttrGSI4PK, SortKey: AttrGSI4SK, Projection: ProjectionKeysOnly},
	},
	KeyType:  KeyTypeString,
	OnDemand: true,
}

// CreateTable creates the table (on demand), for tests and local use.
// An existing table is not an error.
func CreateTable(ctx context.Context, c *dynamodb.Client, name string) error {
	attr := func(k Key) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(k.Name), AttributeType: types.ScalarAttributeType(k.Type)}
	}
	key := func(pk, sk string) []types.KeySchemaElement {
		return []types.KeySchemaElement{{AttributeName: aws.String(pk), KeyType: types.KeyTypeHash}, {AttributeName: aws.String(sk), KeyType: types.KeyTypeRange}}
	}
	ts := TableSchema
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema:   key(ts.PartitionKey, ts.SortKey),
	}
	for _, k := range ts.Keys() {
		in.AttributeDefinitions = append(in.AttributeDefinitions, attr(k))
	}
	for _, ix := range ts.Indexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName: aws.String(ix.Name), KeySchema: key(ix.PartitionKey, ix.SortKey),
			Projection: &types.Projection{ProjectionType: types.ProjectionType(ix.Projection)},
		})
	}
	_, err := c.CreateTable(ctx, in)
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("dynamostore: create table %s: %w", name, err)
	}
	// The real service creates tables in the background; TTL waits for it.
	if err := dynamodb.NewTableExistsWaiter(c).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 5*time.Minute); err != nil {
		return fmt.Errorf("dynamostore: wait for table %s: %w", name, err)
	}
	return enableTTL(ctx, c, name, ts.TTLAttribute)
}

// enableTTL turns TTL on for attr unless it is on (DynamoDB refuses to
// turn it on twice).
func enableTTL(ctx context.Context, c *dynamodb.Client, table, attr string) error {
	cur, err := c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		return fmt.Errorf("dynamostore: read TTL setting of %s: %w", table, err)
	}
	if d := cur.TimeToLiveDescription; d != nil && aws.ToString(d.AttributeName) == attr &&
		(d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	if _, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(true)}}); err != nil {
		return fmt.Errorf("dynamostore: turn on TTL for %s: %w", table, err)
	}
	return nil
}

// Options configure a Store; nil means the defaults.
type Options struct {
	// Now is the clock of leases and claims; time.Now when nil.
	Now func() time.Time
	// LedgerTTL expires a ledger entry with an outcome this long after it
	// was disposed (its UpdatedAt then), with its fingerprint item; RunTTL
	// expires a run this long after it ended. 0 keeps them.
	LedgerTTL, RunTTL time.Duration
}

// Store is a store.Store on DynamoDB.
type Store struct {
	c     *dynamodb.Client
	table string
	o     Options

	numbering sync.Mutex // held by a Commit that numbers a request
	counter   item       // the counter item as this Store last wrote it
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

// getFound reads an item like get, failing with store.ErrNotFound when
// there is none; what names the item in errors.
func (s *Store) getFound(ctx context.Context, pk, sk, what string) (item, error) {
	it, err := s.get(ctx, pk, sk)
	if err == nil && it == nil {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("dynamostore: %s: %w", what, err)
	}
	return it, nil
}

// getData reads an item with getFound and decodes its data into v.
func (s *Store) getData(ctx context.Context, pk, sk, what string, v any) error {
	it, err := s.getFound(ctx, pk, sk, what)
	if err != nil {
		return err
	}
	if err := decode(it, v); err != nil {
		return fmt.Errorf("dynamostore: %s: %w", what, err)
	}
	return nil
}

// putData stores v, in JSON, as the data of the item pk/sk; what names
// the item in errors.
func (s *Store) putData(ctx context.Context, pk, sk, what string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("dynamostore: put %s: %w", what, err)
	}
	it := keyOf(pk, sk)
	it["data"] = str(string(b))
	if _, err := s.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: it}); err != nil {
		return fmt.Errorf("dynamostore: put %s: %w", what, err)
	}
	return nil
}

func decode(it item, v any) error {
	data := []byte(getS(it, "data"))
	if p, ok := it[attrPacked]; ok {
		var err error
		if data, err = unpacked(p); err != nil {
			return fmt.Errorf("decode item %s/%s: %w", getS(it, AttrPK), getS(it, AttrSK), err)
		}
	}
	if err := json.Unmarshal(data, v); err != nil {
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
	if jobID == "" || owner == "" {
		return errors.New("dynamostore: acquire lease: job and owner are required")
	}
	if ttl <= 0 {
		return fmt.Errorf("dynamostore: acquire lease of job %s: ttl %v is not positive", jobID, ttl)
	}
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
	st.LastError = redact.String(st.LastError) // secrets never reach the table
	return s.putData(ctx, "JOB#"+st.JobID, "STATE", "state of job "+st.JobID, st)
}

// Runs.

// PutRun stores a run (upsert by job and run id).
func (s *Store) PutRun(ctx context.Context, r run.Run) error {
	// Secrets never reach the table.
	r.Errors, r.Notes = redact.Strings(slices.Clone(r.Errors)), redact.Strings(slices.Clone(r.Notes))
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	it := keyOf("RUNS#"+r.JobID, "RUN#"+r.ID)
	parts := withData(it, string(b))
	it[AttrGSI2PK], it[AttrGSI2SK] = str("RUNS#"+r.JobID), str(timeKey(r.StartedAt)+"#"+r.ID)
	if s.o.RunTTL > 0 && !r.EndedAt.IsZero() {
		it[AttrTTL] = num(r.EndedAt.Add(s.o.RunTTL).Unix())
		for _, p := range parts {
			p[AttrTTL] = it[AttrTTL]
		}
	}
	if len(parts) == 0 {
		_, err = s.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: it})
	} else {
		// A long run (thousands of errors) and its parts, together.
		ops := []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String(s.table), Item: it}}}
		for _, p := range parts {
			ops = append(ops, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: p}})
		}
		_, err = s.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: ops})
	}
	if err != nil {
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
		if err := s.decodeJoined(ctx, it, nil, &r); err != nil {
			return nil, fmt.Errorf("dynamostore: runs of job %s: %w", jobID, err)
		}
		out = append(out, r)
	}
	return out, nil
}
