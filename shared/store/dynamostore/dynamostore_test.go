package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"mailconnector/shared/ledger"
	"mailconnector/shared/request"
	"mailconnector/shared/run"
	"mailconnector/shared/store"
	"mailconnector/shared/store/boltstore"
	"mailconnector/shared/store/storetest"
	"mailconnector/shared/testkit/awstest"
)

// moto is the one server of this test binary; every test gets its own
// table rather than a reset, so tests stay fast.
var moto *awstest.Moto

func TestMain(m *testing.M) { awstest.Main(m, &moto) }

var tables atomic.Int64

func newTable(tb testing.TB) (*dynamodb.Client, string) {
	tb.Helper()
	c := dynamodb.NewFromConfig(moto.Config())
	name := fmt.Sprintf("connector-%d", tables.Add(1))
	if err := CreateTable(context.Background(), c, name); err != nil {
		tb.Fatal(err)
	}
	return c, name
}

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) store.Store {
			c, name := newTable(t)
			return New(c, name, nil)
		},
		LeaseTTL: time.Second,
	})
}

func TestCreateTable(t *testing.T) {
	c, name := newTable(t)
	ctx := context.Background()
	if err := CreateTable(ctx, c, name); err != nil {
		t.Fatalf("second CreateTable: got %v, want nil", err)
	}
	d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	keys := func(ks []types.KeySchemaElement) string {
		var out []string
		for _, k := range ks {
			out = append(out, aws.ToString(k.AttributeName)+" "+string(k.KeyType))
		}
		return strings.Join(out, ", ")
	}
	if got, want := keys(d.Table.KeySchema), AttrPK+" HASH, "+AttrSK+" RANGE"; got != want {
		t.Errorf("table keys: got %s, want %s", got, want)
	}
	var gotIx []string
	for _, ix := range d.Table.GlobalSecondaryIndexes {
		gotIx = append(gotIx, aws.ToString(ix.IndexName)+": "+keys(ix.KeySchema)+" "+string(ix.Projection.ProjectionType))
	}
	sort.Strings(gotIx)
	wantIx := []string{GSI1 + ": GSI1PK HASH, GSI1SK RANGE ALL", GSI2 + ": GSI2PK HASH, GSI2SK RANGE ALL", GSI3 + ": GSI3PK HASH, GSI3SK RANGE ALL", GSI4 + ": GSI4PK HASH, GSI4SK RANGE KEYS_ONLY"}
	if d := cmp.Diff(wantIx, gotIx); d != "" {
		t.Errorf("indexes (-want +got):\n%s", d)
	}
	var gotAttrs []string
	for _, a := range d.Table.AttributeDefinitions {
		gotAttrs = append(gotAttrs, aws.ToString(a.AttributeName)+" "+string(a.AttributeType))
	}
	sort.Strings(gotAttrs)
	var wantAttrs []string
	for _, k := range TableSchema.Keys() {
		wantAttrs = append(wantAttrs, k.Name+" "+k.Type)
	}
	sort.Strings(wantAttrs)
	if d := cmp.Diff(wantAttrs, gotAttrs); d != "" {
		t.Errorf("attribute definitions (-want +got):\n%s", d)
	}
	ttl, err := c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if d := ttl.TimeToLiveDescription; aws.ToString(d.AttributeName) != AttrTTL || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Errorf("TTL: got %s %s, want %s ENABLED", aws.ToString(d.AttributeName), d.TimeToLiveStatus, AttrTTL)
	}
}

func TestSchemaKeys(t *testing.T) {
	got := TableSchema.Keys()
	want := []Key{{"PK", "S"}, {"SK", "S"}, {"GSI1PK", "S"}, {"GSI1SK", "S"}, {"GSI2PK", "S"}, {"GSI2SK", "S"}, {"GSI3PK", "S"}, {"GSI3SK", "S"}, {"GSI4PK", "S"}, {"GSI4SK", "S"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Keys (-want +got):\n%s", d)
	}
}

// row is the part of an item the layout pins: its keys, index keys, TTL
// and the names of its other attributes.
type row struct {
	PK, SK, GSI1PK, GSI1SK, GSI2PK, GSI2SK, GSI3PK, GSI3SK, GSI4PK, GSI4SK string
	TTL                                                                    int64
	Attrs                                                                  string
}

func scan(tb testing.TB, c *dynamodb.Client, table string) []row {
	tb.Helper()
	out, err := c.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		tb.Fatal(err)
	}
	var rows []row
	for _, it := range out.Items {
		r := row{PK: getS(it, AttrPK), SK: getS(it, AttrSK), GSI1PK: getS(it, AttrGSI1PK), GSI1SK: getS(it, AttrGSI1SK),
			GSI2PK: getS(it, AttrGSI2PK), GSI2SK: getS(it, AttrGSI2SK), GSI3PK: getS(it, AttrGSI3PK), GSI3SK: getS(it, AttrGSI3SK),
			GSI4PK: getS(it, AttrGSI4PK), GSI4SK: getS(it, AttrGSI4SK), TTL: getN(it, AttrTTL)}
		var names []string
		for k := range it {
			switch k {
			case AttrPK, AttrSK, AttrGSI1PK, AttrGSI1SK, AttrGSI2PK, AttrGSI2SK, AttrGSI3PK, AttrGSI3SK, AttrGSI4PK, AttrGSI4SK, AttrTTL:
			default:
				names = append(names, k)
			}
		}
		sort.Strings(names)
		r.Attrs = strings.Join(names, ",")
		rows = append(rows, r)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].PK+"\x00"+rows[i].SK < rows[j].PK+"\x00"+rows[j].SK })
	return rows
}

// TestItemLayout pins the item layout the package comment documents.
func TestItemLayout(t *testing.T) {
	c, name := newTable(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 600_000_000, time.UTC)
	const tk = "20260102T030405.600000000Z"
	s := New(c, name, &Options{Now: func() time.Time { return now }, LedgerTTL: 24 * time.Hour, RunTTL: time.Hour})
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("AcquireLease", s.AcquireLease(ctx, "j", "run-1", time.Minute))
	must("SetCursor", s.SetCursor(ctx, "j", "7:42"))
	must("PutJobState", s.PutJobState(ctx, store.JobState{JobID: "j", ConsecutiveFailures: 1}))
	k1 := ledger.Entry{JobID: "j", Key: "k1", Fingerprint: "fp1", MessageID: "<m1@x>", State: ledger.Queued, FetchedAt: now, UpdatedAt: now}
	k2 := ledger.Entry{JobID: "j", Key: "k2", State: ledger.Stored, FetchedAt: now, UpdatedAt: now}
	res, err := s.Record(ctx, []ledger.Entry{k1, k2})
	must("Record", err)
	for _, r := range res {
		must("Record", r.Err)
	}
	k1.Version, k1.State = 1, ledger.Processed
	o, err := s.Commit(ctx, store.Outcome{
		Entry:        k1,
		NewRequest:   &request.Request{JobID: "j", Title: "t", CreatedAt: now, UpdatedAt: now},
		Conversation: &request.Conversation{ID: "c1", JobID: "j", CreatedAt: now},
		MessageIDs:   []string{"<m1@x>"},
	})
	must("Commit", err)
	o.Entry.Disposed, o.Entry.Disposition = true, "markRead"
	_, err = s.Update(ctx, o.Entry)
	must("Update", err)
	must("PutRun", s.PutRun(ctx, run.Run{JobID: "j", ID: "r1", StartedAt: now, EndedAt: now.Add(time.Minute)}))
	must("PutRun", s.PutRun(ctx, run.Run{JobID: "j", ID: "r2", StartedAt: now.Add(time.Minute)}))

	expires := now.Add(24 * time.Hour).Unix()
	want := []row{
		{PK: "COUNTER", SK: "REQUEST", Attrs: "n"},
		{PK: "FP#j#fp1", SK: "FP", TTL: expires, Attrs: "key"},
		{PK: "JOB#j", SK: "CURSOR", Attrs: "cursor"},
		{PK: "JOB#j", SK: "LEASE", Attrs: "expires,owner"},
		{PK: "JOB#j", SK: "STATE", Attrs: "data"},
		{PK: "LEDGER#j", SK: "k1", GSI4PK: "LTIME#j", GSI4SK: tk + "#k1", TTL: expires, Attrs: "dataz,version"},
		{PK: "LEDGER#j", SK: "k2", GSI1PK: "UNFINISHED#j", GSI1SK: tk + "#k2", GSI4PK: "LTIME#j", GSI4SK: tk + "#k2", Attrs: "dataz,version"},
		{PK: "LWHO#m1@x", SK: tk + "#j#k1", TTL: now.Add(24*time.Hour + whoSlack).Unix(), Attrs: "jobId,key"},
		{PK: "MSGID#<m1@x>", SK: "MSGID", Attrs: "requestId"},
		{PK: "REQ#1", SK: "CONV#" + tk + "#c1", Attrs: "dataz"},
		{PK: "REQ#1", SK: "REQ", GSI1PK: "REQS", GSI1SK: "00000000000000000001", GSI2PK: "REQS#j", GSI2SK: "00000000000000000001", Attrs: "dataz"},
		{PK: "RUNS#j", SK: "RUN#r1", GSI2PK: "RUNS#j", GSI2SK: tk + "#r1", TTL: now.Add(time.Minute + time.Hour).Unix(), Attrs: "data"},
		{PK: "RUNS#j", SK: "RUN#r2", GSI2PK: "RUNS#j", GSI2SK: "20260102T030505.600000000Z#r2", Attrs: "data"},
	}
	if d := cmp.Diff(want, scan(t, c, name)); d != "" {
		t.Errorf("items (-want +got):\n%s", d)
	}

	// Before its disposal the entry was in the undisposed index, without TTL.
	k3 := ledger.Entry{JobID: "j", Key: "k3", State: ledger.Rejected, FetchedAt: now, UpdatedAt: now}
	if _, err := s.Record(ctx, []ledger.Entry{k3}); err != nil {
		t.Fatal(err)
	}
	for _, r := range scan(t, c, name) {
		if r.SK == "k3" && (r.GSI1PK != "UNDISPOSED#j" || r.GSI1SK != tk+"#k3" || r.TTL != 0) {
			t.Errorf("undisposed entry: got %+v, want GSI1 UNDISPOSED#j / %s#k3 and no TTL", r, tk)
		}
	}
}

func TestExpiry(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name              string
		ledgerTTL, runTTL time.Duration
		entry, run, fp    int64 // expiry of the disposed entry, the ended run, the fingerprint item
	}{
		{name: "kept", entry: 0, run: 0, fp: 0},
		{name: "expire", ledgerTTL: 24 * time.Hour, runTTL: time.Hour,
			entry: now.Add(time.Minute + 24*time.Hour).Unix(), run: now.Add(2*time.Minute + time.Hour).Unix(), fp: now.Add(time.Minute + 24*time.Hour).Unix()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, name := newTable(t)
			ctx := context.Background()
			s := New(c, name, &Options{Now: func() time.Time { return now }, LedgerTTL: tt.ledgerTTL, RunTTL: tt.runTTL})
			ttl := func(pk, sk string) int64 {
				t.Helper()
				it, err := s.get(ctx, pk, sk)
				if err != nil || it == nil {
					t.Fatalf("get %s/%s: %v, %v", pk, sk, it, err)
				}
				return getN(it, AttrTTL)
			}
			e := ledger.Entry{JobID: "j", Key: "k", Fingerprint: "fp", State: ledger.Queued, FetchedAt: now, UpdatedAt: now}
			if _, err := s.Record(ctx, []ledger.Entry{e}); err != nil {
				t.Fatal(err)
			}
			e, _ = s.Entry(ctx, "j", "k")
			e.State = ledger.Processed
			e, err := s.Update(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			if got := ttl(ledgerPK("j"), "k"); got != 0 {
				t.Errorf("undisposed entry expires at %d, want never (0)", got)
			}
			e.Disposed, e.Disposition, e.UpdatedAt = true, "markRead", now.Add(time.Minute)
			if _, err := s.Update(ctx, e); err != nil {
				t.Fatal(err)
			}
			if got := ttl(ledgerPK("j"), "k"); got != tt.entry {
				t.Errorf("disposed entry expires at %d, want %d", got, tt.entry)
			}
			if got := ttl(fpPK("j", "fp"), "FP"); got != tt.fp {
				t.Errorf("its fingerprint item expires at %d, want %d", got, tt.fp)
			}
			r := run.Run{JobID: "j", ID: "r1", StartedAt: now}
			if err := s.PutRun(ctx, r); err != nil {
				t.Fatal(err)
			}
			if got := ttl("RUNS#j", "RUN#r1"); got != 0 {
				t.Errorf("running run expires at %d, want never (0)", got)
			}
			r.EndedAt = now.Add(2 * time.Minute)
			if err := s.PutRun(ctx, r); err != nil {
				t.Fatal(err)
			}
			if got := ttl("RUNS#j", "RUN#r1"); got != tt.run {
				t.Errorf("ended run expires at %d, want %d", got, tt.run)
			}
		})
	}
}

// TestExpiredEntryFingerprintIsTakenOver: TTL removed an entry but not
// (yet) its fingerprint item; the next entry with that fingerprint is
// recorded, and the item names it.
func TestExpiredEntryFingerprintIsTakenOver(t *testing.T) {
	c, name := newTable(t)
	s := New(c, name, nil)
	ctx := context.Background()
	now := time.Now().UTC()
	e := ledger.Entry{JobID: "j", Key: "old", Fingerprint: "<a@x>|abc", State: ledger.Queued, FetchedAt: now, UpdatedAt: now}
	if _, err := s.Record(ctx, []ledger.Entry{e}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(name), Key: keyOf(ledgerPK("j"), "old")}); err != nil {
		t.Fatal(err)
	}
	e.Key = "new"
	res, err := s.Record(ctx, []ledger.Entry{e})
	if err != nil || res[0].Err != nil {
		t.Fatalf("Record: got %v, %v; want the entry recorded", err, res[0].Err)
	}
	fp, err := s.get(ctx, fpPK("j", e.Fingerprint), "FP")
	if err != nil {
		t.Fatal(err)
	}
	if got := getS(fp, "key"); got != "new" {
		t.Errorf("fingerprint item names %q, want new", got)
	}
	e.Key = "third"
	res, err = s.Record(ctx, []ledger.Entry{e})
	if err != nil || !errors.Is(res[0].Err, store.ErrDuplicate) || res[0].Existing.Key != "new" {
		t.Errorf("Record of a third key: got %v, %+v; want ErrDuplicate of new", err, res[0])
	}
}

// TestRefusedRecordLeavesNoFingerprint: an entry refused for its key
// leaves no fingerprint item behind, so a later entry with that
// fingerprint is not taken for a duplicate of it.
func TestRefusedRecordLeavesNoFingerprint(t *testing.T) {
	c, name := newTable(t)
	s := New(c, name, nil)
	ctx := context.Background()
	now := time.Now().UTC()
	a := ledger.Entry{JobID: "j", Key: "k1", Fingerprint: "fp-a", State: ledger.Queued, FetchedAt: now, UpdatedAt: now}
	b := a
	b.Fingerprint = "fp-b"
	c2 := a
	c2.Key, c2.Fingerprint = "k2", "fp-b"
	for _, tt := range []struct {
		name string
		e    ledger.Entry
		want error
	}{
		{"first", a, nil},
		{"same key, other fingerprint", b, store.ErrExists},
		{"other key with that fingerprint", c2, nil},
	} {
		res, err := s.Record(ctx, []ledger.Entry{tt.e})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !errors.Is(res[0].Err, tt.want) || (tt.want == nil) != (res[0].Err == nil) {
			t.Errorf("%s: got %v, want %v", tt.name, res[0].Err, tt.want)
		}
	}
}

func TestCommitTooManyMessageIDs(t *testing.T) {
	c, name := newTable(t)
	s := New(c, name, nil)
	ctx := context.Background()
	now := time.Now().UTC()
	e := ledger.Entry{JobID: "j", Key: "k", State: ledger.Queued, FetchedAt: now, UpdatedAt: now}
	if _, err := s.Record(ctx, []ledger.Entry{e}); err != nil {
		t.Fatal(err)
	}
	e.Version, e.State = 1, ledger.Processed
	var ids []string
	for i := range maxTransactItems {
		ids = append(ids, fmt.Sprintf("<%d@x>", i))
	}
	_, err := s.Commit(ctx, store.Outcome{Entry: e, NewRequest: &request.Request{JobID: "j"}, MessageIDs: ids})
	if err == nil {
		t.Fatal("Commit: got nil, want an error for too many Message-IDs")
	}
	if got, _ := s.Entry(ctx, "j", "k"); got.Version != 1 || got.State != ledger.Queued {
		t.Errorf("entry after refused commit: got version %d state %s, want 1 queued", got.Version, got.State)
	}
	// The outcome goes through with the ids that fit.
	if _, err := s.Commit(ctx, store.Outcome{Entry: e, NewRequest: &request.Request{JobID: "j"}, MessageIDs: ids[:90]}); err != nil {
		t.Fatalf("Commit with 90 Message-IDs: %v", err)
	}
}

// BenchmarkRecord records batches of 100 entries (with fingerprints and
// Message-IDs) into a fresh table and reports entries/s.
func BenchmarkRecord(b *testing.B) {
	c, name := newTable(b)
	s := New(c, name, nil)
	ctx := context.Background()
	now := time.Now().UTC()
	const batch = 100
	n := 0
	start := time.Now()
	for b.Loop() {
		entries := make([]ledger.Entry, batch)
		for i := range entries {
			key := fmt.Sprintf("imap/INBOX/1/%d", n)
			entries[i] = ledger.Entry{JobID: "j", Key: key, Fingerprint: ledger.Fingerprint(fmt.Sprintf("<%d@x>", n), fmt.Sprintf("%064x", n)),
				MessageID: fmt.Sprintf("<%d@x>", n), Size: 4096, RawKey: "raw/j/" + key, State: ledger.Stored, FetchedAt: now, UpdatedAt: now}
			n++
		}
		res, err := s.Record(ctx, entries)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "entries/s")
}

// BenchmarkCommit commits a new request with a conversation and a
// Message-ID per entry from 8 goroutines and reports commits/s.
func BenchmarkCommit(b *testing.B) {
	c, name := newTable(b)
	s := New(c, name, nil)
	ctx := context.Background()
	now := time.Now().UTC()
	const workers, batch = 8, 40
	n := 0
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		entries := make([]ledger.Entry, batch)
		for i := range entries {
			entries[i] = ledger.Entry{JobID: "j", Key: fmt.Sprintf("k%d", n+i), State: ledger.Preprocessed, FetchedAt: now, UpdatedAt: now}
		}
		if _, err := s.Record(ctx, entries); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		work := make(chan ledger.Entry)
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for e := range work {
					e.Version, e.State = 1, ledger.Processed
					_, err := s.Commit(ctx, store.Outcome{Entry: e,
						NewRequest:   &request.Request{JobID: "j", Title: e.Key, CreatedAt: now, UpdatedAt: now},
						Conversation: &request.Conversation{ID: "c-" + e.Key, JobID: "j", Text: "hello", CreatedAt: now},
						MessageIDs:   []string{"<" + e.Key + "@x>"}})
					if err != nil {
						b.Error(err)
					}
				}
			}()
		}
		for _, e := range entries {
			work <- e
		}
		close(work)
		wg.Wait()
		elapsed += time.Since(start)
		n += batch
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "commits/s")
}

// TestCommitMatchesBoltstore commits the same outcomes to both stores and
// compares what each made of them: which request the entry names and the
// Message-IDs point at, and which outcomes were refused.
func TestCommitMatchesBoltstore(t *testing.T) {
	c, name := newTable(t)
	dyn := New(c, name, nil)
	bolt, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bolt.Close() })
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	entry := func(i int) ledger.Entry {
		return ledger.Entry{JobID: "j", Key: fmt.Sprintf("k%d", i), State: ledger.Processed, Version: 1, FetchedAt: now, UpdatedAt: now}
	}
	req := func(id string) *request.Request {
		return &request.Request{ID: id, JobID: "j", Title: "r" + id, CreatedAt: now, UpdatedAt: now}
	}
	conv := func(id, requestID string) *request.Conversation {
		return &request.Conversation{ID: id, RequestID: requestID, JobID: "j", CreatedAt: now}
	}
	withRequestID := func(e ledger.Entry, id string) ledger.Entry { e.RequestID = id; return e }
	tests := []struct {
		name string
		o    store.Outcome
	}{
		{"new request", store.Outcome{NewRequest: req(""), MessageIDs: []string{"<a>"}}},
		{"second new request", store.Outcome{NewRequest: req(""), Conversation: conv("c1", ""), MessageIDs: []string{"<b>", "", "<b>"}}},
		{"new request beside a named one", store.Outcome{Entry: withRequestID(entry(0), "1"), NewRequest: req(""), MessageIDs: []string{"<c>"}}},
		{"update one, converse on another", store.Outcome{UpdateRequest: req("1"), Conversation: conv("c2", "2"), MessageIDs: []string{"<d>"}}},
		{"update only", store.Outcome{UpdateRequest: req("2"), MessageIDs: []string{"<e>"}}},
		{"entry names the request", store.Outcome{Entry: withRequestID(entry(0), "2"), MessageIDs: []string{"<f>"}}},
		{"message ids without a request", store.Outcome{MessageIDs: []string{"<g>"}}},
		{"nothing but the outcome", store.Outcome{}},
		{"conversation on a new request given an id", store.Outcome{NewRequest: req(""), Conversation: conv("c3", "")}},
	}
	var entries []ledger.Entry
	for i := range tests {
		e := entry(i)
		e.State, e.Version = ledger.Preprocessed, 0
		entries = append(entries, e)
	}
	for _, s := range []store.Store{dyn, bolt} {
		if _, err := s.Record(ctx, entries); err != nil {
			t.Fatal(err)
		}
	}
	type result struct {
		Err                     bool
		RequestID, Conversation string
		NewNumber               int64
		Indexed                 map[string]string
	}
	commit := func(s store.Store, o store.Outcome) result {
		out, err := s.Commit(ctx, o)
		r := result{Err: err != nil, RequestID: out.Entry.RequestID, Conversation: out.Entry.Conversation, Indexed: map[string]string{}}
		if out.NewRequest != nil {
			r.NewNumber = out.NewRequest.Number
		}
		for _, id := range o.MessageIDs {
			if got, err := s.RequestByMessageID(ctx, id); err == nil {
				r.Indexed[id] = got.ID
			}
		}
		return r
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.o
			if o.Entry.Key == "" {
				o.Entry = entry(i)
			} else {
				o.Entry.Key = entry(i).Key
			}
			want, got := commit(bolt, o), commit(dyn, o)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("dynamostore differs from boltstore (-bolt +dynamo):\n%s", d)
			}
		})
	}
}

// TestCommitNumbersAcrossStores: two Stores on one table (two processes)
// number requests at once; the counter's condition keeps the numbers
// unique and without gaps, and a Store whose remembered counter went stale
// numbers after the other's.
func TestCommitNumbersAcrossStores(t *testing.T) {
	c, name := newTable(t)
	stores := []*Store{New(c, name, nil), New(c, name, nil)}
	ctx := context.Background()
	now := time.Now().UTC()
	const perStore = 15
	var entries []ledger.Entry
	for i := range 2 * perStore {
		entries = append(entries, ledger.Entry{JobID: "j", Key: fmt.Sprintf("k%02d", i), State: ledger.Preprocessed, FetchedAt: now, UpdatedAt: now})
	}
	if _, err := stores[0].Record(ctx, entries); err != nil {
		t.Fatal(err)
	}
	numbers := make([]int64, len(entries))
	var wg sync.WaitGroup
	for i, e := range entries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.Version, e.State = 1, ledger.Processed
			out, err := stores[i%2].Commit(ctx, store.Outcome{Entry: e, NewRequest: &request.Request{JobID: "j", Title: e.Key}})
			if err != nil {
				t.Errorf("Commit %s: %v", e.Key, err)
				return
			}
			numbers[i] = out.NewRequest.Number
		}()
	}
	wg.Wait()
	sort.Slice(numbers, func(i, j int) bool { return numbers[i] < numbers[j] })
	for i, n := range numbers {
		if n != int64(i+1) {
			t.Fatalf("request numbers: got %v, want 1..%d", numbers, len(numbers))
		}
	}
	// Store 0 remembers a counter that store 1 has moved on from.
	more := []ledger.Entry{{JobID: "j", Key: "x1", State: ledger.Preprocessed, FetchedAt: now, UpdatedAt: now},
		{JobID: "j", Key: "x2", State: ledger.Preprocessed, FetchedAt: now, UpdatedAt: now}}
	if _, err := stores[0].Record(ctx, more); err != nil {
		t.Fatal(err)
	}
	for i, e := range more {
		e.Version, e.State = 1, ledger.Processed
		out, err := stores[1-i].Commit(ctx, store.Outcome{Entry: e, NewRequest: &request.Request{JobID: "j"}})
		if err != nil {
			t.Fatalf("Commit %s: %v", e.Key, err)
		}
		if want := int64(len(entries) + 1 + i); out.NewRequest.Number != want {
			t.Errorf("Commit %s: got number %d, want %d", e.Key, out.NewRequest.Number, want)
		}
	}
}

// TestMessagesListsEntriesWrittenBeforeGSI4: an entry written before the
// timeline index projected the keys only carries GSI3 keys (all
// attributes) until its next write. Messages lists those with the
// entries GSI4 has, newest first, each once, also while a moved entry
// shows in both; its next write moves it to GSI4.
func TestMessagesListsEntriesWrittenBeforeGSI4(t *testing.T) {
	c, name := newTable(t)
	ctx := context.Background()
	s := New(c, name, nil)
	at := func(min int) time.Time { return time.Date(2026, 12, 1, 8, min, 0, 0, time.UTC) }
	// Written now: k1, k3, k5 (GSI4).
	var now []ledger.Entry
	for _, m := range []int{1, 3, 5} {
		now = append(now, ledger.Entry{JobID: "j", Key: fmt.Sprintf("k%d", m), State: ledger.Queued, FetchedAt: at(m), UpdatedAt: at(m)})
	}
	if _, err := s.Record(ctx, now); err != nil {
		t.Fatal(err)
	}
	// Written before: k2, k4 as the old layout had them (GSI3), and k3's
	// old index copy still in GSI3 beside the new one.
	for _, m := range []int{2, 3, 4} {
		e := ledger.Entry{JobID: "j", Key: fmt.Sprintf("k%d", m), State: ledger.Processed, FetchedAt: at(m), UpdatedAt: at(m), Version: 1}
		it, err := s.entryItem(e)
		if err != nil {
			t.Fatal(err)
		}
		delete(it, AttrGSI4PK)
		delete(it, AttrGSI4SK)
		it[AttrGSI3PK], it[AttrGSI3SK] = str(timelinePK("j")), str(timeKey(e.FetchedAt)+"#"+e.Key)
		if m == 3 { // a separate item with k3's old index keys
			it[AttrSK] = str("k3-old")
			it[AttrGSI3SK] = str(timeKey(e.FetchedAt) + "#k3")
		}
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(name), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	keys := func(q store.MessageQuery) []string {
		t.Helper()
		es, err := s.Messages(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range es {
			out = append(out, e.Key)
		}
		return out
	}
	if d := cmp.Diff([]string{"k5", "k4", "k3", "k2", "k1"}, keys(store.MessageQuery{JobID: "j"})); d != "" {
		t.Errorf("all (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"k5", "k4", "k3"}, keys(store.MessageQuery{JobID: "j", Since: at(3)})); d != "" {
		t.Errorf("since minute 3 (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"k5", "k4"}, keys(store.MessageQuery{JobID: "j", Limit: 2})); d != "" {
		t.Errorf("limit 2 (-want +got):\n%s", d)
	}
	// The next write of k2 moves it to GSI4.
	e, err := s.Entry(ctx, "j", "k2")
	if err != nil {
		t.Fatal(err)
	}
	e.Disposed = true
	if _, err := s.Update(ctx, e); err != nil {
		t.Fatal(err)
	}
	it, err := s.get(ctx, ledgerPK("j"), "k2")
	if err != nil {
		t.Fatal(err)
	}
	if getS(it, AttrGSI3PK) != "" || getS(it, AttrGSI4SK) != timeKey(at(2))+"#k2" {
		t.Errorf("k2 after its next write: GSI3 %q, GSI4 %q; want GSI4 only", getS(it, AttrGSI3PK), getS(it, AttrGSI4SK))
	}
	if d := cmp.Diff([]string{"k5", "k4", "k3", "k2", "k1"}, keys(store.MessageQuery{JobID: "j"})); d != "" {
		t.Errorf("after k2's write (-want +got):\n%s", d)
	}
}

// TestWhoItemsExpiry: a who item gets its expiry when it is written,
// whoSlack after its entry's were the entry disposed of at its fetch
// time, so the disposal of an entry within whoSlack does not write it
// again; a later disposal gives it the entry's expiry; the error folder
// takes its expiry away and leaving it gives the entry's back; without a
// ledger time to live it never expires.
func TestWhoItemsExpiry(t *testing.T) {
	fetched := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	const ttl = 24 * time.Hour
	preset := fetched.Add(ttl + whoSlack).Unix()
	tests := []struct {
		name      string
		ledgerTTL time.Duration
		steps     []func(*ledger.Entry) // each an Update of the entry
		want      int64                 // the who items' expiry after the steps
	}{
		{name: "recorded", ledgerTTL: ttl, want: preset},
		{name: "disposed of at once", ledgerTTL: ttl, want: preset, steps: []func(*ledger.Entry){
			func(e *ledger.Entry) {
				e.State, e.From, e.UpdatedAt = ledger.Processed, "a@example.com", fetched.Add(time.Minute)
			},
			func(e *ledger.Entry) {
				e.Disposed, e.Disposition, e.UpdatedAt = true, "markRead", fetched.Add(2*time.Minute)
			},
		}},
		{name: "disposed of after whoSlack", ledgerTTL: ttl, want: fetched.Add(whoSlack + time.Hour + ttl).Unix(), steps: []func(*ledger.Entry){
			func(e *ledger.Entry) {
				e.State, e.From, e.UpdatedAt = ledger.Processed, "a@example.com", fetched.Add(time.Minute)
			},
			func(e *ledger.Entry) {
				e.Disposed, e.Disposition, e.UpdatedAt = true, "markRead", fetched.Add(whoSlack+time.Hour)
			},
		}},
		{name: "in the error folder", ledgerTTL: ttl, want: 0, steps: []func(*ledger.Entry){
			func(e *ledger.Entry) {
				e.State, e.From, e.UpdatedAt = ledger.Failed, "a@example.com", fetched.Add(time.Minute)
			},
			func(e *ledger.Entry) {
				e.Disposed, e.Disposition, e.InErrorFolder, e.UpdatedAt = true, "move Errors", true, fetched.Add(2*time.Minute)
			},
		}},
		{name: "out of the error folder", ledgerTTL: ttl, want: fetched.Add(time.Hour + ttl).Unix(), steps: []func(*ledger.Entry){
			func(e *ledger.Entry) {
				e.State, e.From, e.UpdatedAt = ledger.Failed, "a@example.com", fetched.Add(time.Minute)
			},
			func(e *ledger.Entry) {
				e.Disposed, e.Disposition, e.InErrorFolder, e.UpdatedAt = true, "move Errors", true, fetched.Add(2*time.Minute)
			},
			func(e *ledger.Entry) { e.InErrorFolder, e.UpdatedAt = false, fetched.Add(time.Hour) },
		}},
		{name: "kept", want: 0, steps: []func(*ledger.Entry){
			func(e *ledger.Entry) {
				e.State, e.From, e.UpdatedAt = ledger.Processed, "a@example.com", fetched.Add(time.Minute)
			},
			func(e *ledger.Entry) {
				e.Disposed, e.Disposition, e.UpdatedAt = true, "markRead", fetched.Add(2*time.Minute)
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, name := newTable(t)
			ctx := context.Background()
			s := New(c, name, &Options{LedgerTTL: tt.ledgerTTL})
			e := ledger.Entry{JobID: "j", Key: "k", Fingerprint: "fp", MessageID: "<m@x>", State: ledger.Queued, FetchedAt: fetched, UpdatedAt: fetched}
			if _, err := s.Record(ctx, []ledger.Entry{e}); err != nil {
				t.Fatal(err)
			}
			e.Version = 1
			for i, step := range tt.steps {
				step(&e)
				var err error
				if e, err = s.Update(ctx, e); err != nil {
					t.Fatalf("step %d: %v", i+1, err)
				}
			}
			want := []string{"m@x"}
			if len(tt.steps) > 0 {
				want = append(want, "a@example.com")
			}
			for _, w := range want {
				it, err := s.get(ctx, whoPK(w), timeKey(fetched)+"#j#k")
				if err != nil || it == nil {
					t.Fatalf("who item %s: %v, %v", w, it, err)
				}
				if got := getN(it, AttrTTL); got != tt.want {
					t.Errorf("who item %s expires at %d, want %d", w, got, tt.want)
				}
			}
		})
	}
}

// TestWhoItemOfARefusedRecordIsSkipped: a message's who items are
// written just before its entry, outside the record's transaction, so a
// refused record (or a crash between the two) leaves one naming an entry
// that is not there. Look-ups skip it, and it expires.
func TestWhoItemOfARefusedRecordIsSkipped(t *testing.T) {
	c, name := newTable(t)
	s := New(c, name, &Options{LedgerTTL: 24 * time.Hour})
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	a := ledger.Entry{JobID: "j", Key: "k1", Fingerprint: "fp-a", MessageID: "<a@x>", State: ledger.Queued, FetchedAt: now, UpdatedAt: now}
	b := a // the same key a minute later, another message
	b.Fingerprint, b.MessageID, b.FetchedAt, b.UpdatedAt = "fp-b", "<b@x>", now.Add(time.Minute), now.Add(time.Minute)
	for _, e := range []ledger.Entry{a, b} {
		if _, err := s.Record(ctx, []ledger.Entry{e}); err != nil {
			t.Fatal(err)
		}
	}
	it, err := s.get(ctx, whoPK("b@x"), timeKey(b.FetchedAt)+"#j#k1")
	if err != nil || it == nil {
		t.Fatalf("who item of the refused record: %v, %v; want it written", it, err)
	}
	if getN(it, AttrTTL) == 0 {
		t.Errorf("who item of the refused record has no expiry")
	}
	if got, err := s.FindMessages(ctx, "<b@x>", 0); err != nil || len(got) != 0 {
		t.Errorf("FindMessages(<b@x>): got %d entries, %v; want none", len(got), err)
	}
	if _, err := s.EntryByMessageID(ctx, "j", "<b@x>"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("EntryByMessageID(<b@x>): got %v, want not found", err)
	}
	if e, err := s.EntryByMessageID(ctx, "j", "<a@x>"); err != nil || e.Key != "k1" {
		t.Errorf("EntryByMessageID(<a@x>): got %s, %v; want k1", e.Key, err)
	}
}
