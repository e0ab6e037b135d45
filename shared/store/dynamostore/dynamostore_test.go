package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mailconnector/shared/awstest"
	"mailconnector/shared/ledger"
	"mailconnector/shared/run"
	"mailconnector/shared/store"
	"mailconnector/shared/store/storetest"
)

var moto *awstest.Moto

func TestMain(m *testing.M) { awstest.Main(m, &moto) }

var tables atomic.Int64

func newTable(t testing.TB) (*dynamodb.Client, string) {
	t.Helper()
	c := dynamodb.NewFromConfig(moto.Config())
	name := fmt.Sprintf("connector-%d", tables.Add(1))
	if err := CreateTable(context.Background(), c, name); err != nil {
		t.Fatal(err)
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

func TestCreateTableTwiceIsFine(t *testing.T) {
	c, name := newTable(t)
	if err := CreateTable(context.Background(), c, name); err != nil {
		t.Fatalf("second CreateTable: %v", err)
	}
}

func TestExpiryAttributes(t *testing.T) {
	c, name := newTable(t)
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	s := New(c, name, &Options{Now: func() time.Time { return now }, LedgerTTL: 24 * time.Hour, RunTTL: time.Hour})
	ctx := context.Background()
	e := ledger.Entry{JobID: "j", Key: "k", State: ledger.Queued, FetchedAt: now, UpdatedAt: now}
	if _, err := s.Record(ctx, []ledger.Entry{e}); err != nil {
		t.Fatal(err)
	}
	ttl := func(pk, sk string) int64 {
		out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(name), Key: keyOf(pk, sk)})
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := out.Item[AttrTTL].(*types.AttributeValueMemberN); ok {
			var n int64
			fmt.Sscan(v.Value, &n)
			return n
		}
		return 0
	}
	if got := ttl(ledgerPK("j"), "k"); got != 0 {
		t.Errorf("an entry without outcome expires at %d, want never", got)
	}
	e, _ = s.Entry(ctx, "j", "k")
	e.State = ledger.Processed
	e, err := s.Update(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if got := ttl(ledgerPK("j"), "k"); got != 0 {
		t.Errorf("an undisposed entry expires at %d, want never", got)
	}
	e.Disposed, e.Disposition = true, "markRead"
	if _, err := s.Update(ctx, e); err != nil {
		t.Fatal(err)
	}
	if got, want := ttl(ledgerPK("j"), "k"), now.Add(24*time.Hour).Unix(); got != want {
		t.Errorf("a disposed entry expires at %d, want %d", got, want)
	}
	r := run.Run{JobID: "j", ID: "r1", StartedAt: now, EndedAt: now.Add(time.Minute)}
	if err := s.PutRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got, want := ttl("RUNS#j", "RUN#r1"), now.Add(time.Minute+time.Hour).Unix(); got != want {
		t.Errorf("a run expires at %d, want %d", got, want)
	}
}

func TestStaleFingerprintOfAnExpiredEntryIsReplaced(t *testing.T) {
	c, name := newTable(t)
	now := time.Now()
	clock := now
	s := New(c, name, &Options{Now: func() time.Time { return clock }})
	ctx := context.Background()
	e := ledger.Entry{JobID: "j", Key: "old", Fingerprint: "<a@x>|abc", State: ledger.Queued, FetchedAt: now, UpdatedAt: now}
	if _, err := s.Record(ctx, []ledger.Entry{e}); err != nil {
		t.Fatal(err)
	}
	// TTL removed the entry but not its fingerprint item.
	if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(name), Key: keyOf(ledgerPK("j"), "old")}); err != nil {
		t.Fatal(err)
	}
	e.Key = "new"
	if _, err := s.Record(ctx, []ledger.Entry{e}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("got %v, want a conflict while the claim is fresh (its writer may still be at work)", err)
	}
	clock = now.Add(2 * staleAfter)
	res, err := s.Record(ctx, []ledger.Entry{e})
	if err != nil || res[0].Err != nil {
		t.Fatalf("got %v, %+v; want the entry recorded", err, res)
	}
}
