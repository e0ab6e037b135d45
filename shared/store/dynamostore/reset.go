package dynamostore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mailconnector/shared/store"
)

// Lease returns the job's lease item; store.ErrNotFound when none.
func (s *Store) Lease(ctx context.Context, jobID string) (store.Lease, error) {
	it, err := s.getFound(ctx, "JOB#"+jobID, "LEASE", "lease of job "+jobID)
	if err != nil {
		return store.Lease{}, err
	}
	return store.Lease{Owner: getS(it, "owner"), Expires: time.UnixMilli(getN(it, "expires")).UTC()}, nil
}

// batchWriteMax is how many requests one BatchWriteItem takes.
const batchWriteMax = 25

// ForgetJob deletes the job's cursor item and, a page at a time, its
// ledger entries with their fingerprint and who items (BatchWriteItem; a
// page is not one transaction). The index entries of GSI1-3 go with
// their items.
func (s *Store) ForgetJob(ctx context.Context, jobID string) (store.Forgotten, error) {
	var f store.Forgotten
	if jobID == "" {
		return f, fmt.Errorf("dynamostore: forget job: the job is required")
	}
	for {
		// From the start each time: the page before is gone.
		page, err := s.query(ctx, &dynamodb.QueryInput{
			KeyConditionExpression:    aws.String("PK = :pk"),
			ExpressionAttributeValues: item{":pk": str(ledgerPK(jobID))},
			ConsistentRead:            aws.Bool(true),
		}, pageSize)
		if err != nil {
			return f, fmt.Errorf("dynamostore: forget the ledger of job %s: %w", jobID, err)
		}
		if len(page) == 0 {
			break
		}
		// A retry shares its fingerprint item with the entry it retries;
		// a batch must not name an item twice.
		var keys []item
		seen := map[[2]string]bool{}
		add := func(pk, sk string) {
			if !seen[[2]string{pk, sk}] {
				seen[[2]string{pk, sk}] = true
				keys = append(keys, keyOf(pk, sk))
			}
		}
		for _, it := range page {
			e, err := decodeEntry(it)
			if err != nil {
				return f, fmt.Errorf("dynamostore: forget the ledger of job %s: %w", jobID, err)
			}
			add(ledgerPK(jobID), e.Key)
			if e.Fingerprint != "" {
				add(fpPK(jobID, e.Fingerprint), "FP")
			}
			for _, w := range whoKeys(e) {
				it := whoItem(w, e)
				add(getS(it, AttrPK), getS(it, AttrSK))
			}
		}
		if err := s.deleteAll(ctx, keys); err != nil {
			return f, fmt.Errorf("dynamostore: forget the ledger of job %s: %w", jobID, err)
		}
		f.Entries += len(page)
	}
	out, err := s.c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table),
		Key: keyOf("JOB#"+jobID, "CURSOR"), ReturnValues: types.ReturnValueAllOld})
	if err != nil {
		return f, fmt.Errorf("dynamostore: forget the cursor of job %s: %w", jobID, err)
	}
	f.Cursor = len(out.Attributes) > 0
	return f, nil
}

// deleteAll deletes the items with those keys, batchWriteMax at a time,
// sending again what DynamoDB left unprocessed (throttled) after a pause.
func (s *Store) deleteAll(ctx context.Context, keys []item) error {
	for len(keys) > 0 {
		n := min(len(keys), batchWriteMax)
		reqs := make([]types.WriteRequest, n)
		for i, k := range keys[:n] {
			reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
		}
		keys = keys[n:]
		for wait := 50 * time.Millisecond; len(reqs) > 0; wait = min(2*wait, 5*time.Second) {
			out, err := s.c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{s.table: reqs}})
			if err != nil {
				return fmt.Errorf("delete %d items: %w", len(reqs), err)
			}
			if reqs = out.UnprocessedItems[s.table]; len(reqs) > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(wait):
				}
			}
		}
	}
	return nil
}
