package dynamostore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mailconnector/shared/request"
	"mailconnector/shared/store"
)

func reqPK(id string) string { return "REQ#" + id }

func requestItem(r request.Request) (item, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	it := keyOf(reqPK(r.ID), "REQ")
	it["data"] = str(string(b))
	it[AttrGSI1PK], it[AttrGSI1SK] = str("REQS"), str(pad(r.Number))
	it[AttrGSI2PK], it[AttrGSI2SK] = str("REQS#"+r.JobID), str(pad(r.Number))
	return it, nil
}

// Request returns a request by id.
func (s *Store) Request(ctx context.Context, id string) (request.Request, error) {
	it, err := s.get(ctx, reqPK(id), "REQ")
	if err != nil {
		return request.Request{}, fmt.Errorf("dynamostore: request %s: %w", id, err)
	}
	if it == nil {
		return request.Request{}, fmt.Errorf("dynamostore: request %s: %w", id, store.ErrNotFound)
	}
	var r request.Request
	if err := decode(it, &r); err != nil {
		return request.Request{}, fmt.Errorf("dynamostore: request %s: %w", id, err)
	}
	return r, nil
}

// RequestByNumber returns a request by number (its id is the number).
func (s *Store) RequestByNumber(ctx context.Context, number int64) (request.Request, error) {
	return s.Request(ctx, strconv.FormatInt(number, 10))
}

// RequestByMessageID returns the request a Message-ID was indexed to.
func (s *Store) RequestByMessageID(ctx context.Context, messageID string) (request.Request, error) {
	it, err := s.get(ctx, "MSGID#"+messageID, "MSGID")
	if err != nil {
		return request.Request{}, fmt.Errorf("dynamostore: message id %q: %w", messageID, err)
	}
	if it == nil {
		return request.Request{}, fmt.Errorf("dynamostore: message id %q: %w", messageID, store.ErrNotFound)
	}
	return s.Request(ctx, getS(it, "requestId"))
}

// IndexMessageID maps a Message-ID to an existing request.
func (s *Store) IndexMessageID(ctx context.Context, messageID, requestID string) error {
	if _, err := s.Request(ctx, requestID); err != nil {
		return fmt.Errorf("dynamostore: index message id %q: %w", messageID, err)
	}
	it := keyOf("MSGID#"+messageID, "MSGID")
	it["requestId"] = str(requestID)
	if _, err := s.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: it}); err != nil {
		return fmt.Errorf("dynamostore: index message id %q: %w", messageID, err)
	}
	return nil
}

// ListRequests returns up to limit requests, newest first.
func (s *Store) ListRequests(ctx context.Context, jobID string, limit int) ([]request.Request, error) {
	in := &dynamodb.QueryInput{
		IndexName:                 aws.String(GSI1),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: item{":pk": str("REQS")},
		ScanIndexForward:          aws.Bool(false),
	}
	if jobID != "" {
		in.IndexName = aws.String(GSI2)
		in.KeyConditionExpression = aws.String("GSI2PK = :pk")
		in.ExpressionAttributeValues[":pk"] = str("REQS#" + jobID)
	}
	items, err := s.query(ctx, in, limit)
	if err != nil {
		return nil, fmt.Errorf("dynamostore: list requests: %w", err)
	}
	out := make([]request.Request, 0, len(items))
	for _, it := range items {
		var r request.Request
		if err := decode(it, &r); err != nil {
			return nil, fmt.Errorf("dynamostore: list requests: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Conversations returns a request's conversations in CreatedAt order.
func (s *Store) Conversations(ctx context.Context, requestID string) ([]request.Conversation, error) {
	items, err := s.query(ctx, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :c)"),
		ExpressionAttributeValues: item{":pk": str(reqPK(requestID)), ":c": str("CONV#")},
		ScanIndexForward:          aws.Bool(true),
	}, 0)
	if err != nil {
		return nil, fmt.Errorf("dynamostore: conversations of request %s: %w", requestID, err)
	}
	out := make([]request.Conversation, 0, len(items))
	for _, it := range items {
		var c request.Conversation
		if err := decode(it, &c); err != nil {
			return nil, fmt.Errorf("dynamostore: conversations of request %s: %w", requestID, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// Commit stores an outcome in one transaction: the ledger entry
// (conditional on its version), the request counter (conditional on the
// value read, so numbers have no gaps and a refused commit uses none), the
// new or updated request, the conversation and the Message-ID index.
func (s *Store) Commit(ctx context.Context, o store.Outcome) (store.Outcome, error) {
	e := o.Entry
	what := fmt.Sprintf("dynamostore: commit outcome of ledger entry %s of job %s", e.Key, e.JobID)
	switch {
	case e.JobID == "" || e.Key == "":
		return store.Outcome{}, fmt.Errorf("%s: job and key are required", what)
	case !e.State.Final():
		return store.Outcome{}, fmt.Errorf("%s: state %q is not an outcome", what, e.State)
	case o.Conversation != nil && o.Conversation.ID == "":
		return store.Outcome{}, fmt.Errorf("%s: conversation has no ID", what)
	case o.Conversation != nil && o.Conversation.RequestID == "" && o.NewRequest == nil:
		return store.Outcome{}, fmt.Errorf("%s: conversation names no request and none is created", what)
	case o.UpdateRequest != nil && o.UpdateRequest.ID == "":
		return store.Outcome{}, fmt.Errorf("%s: request to update has no ID", what)
	}
	for attempt := 0; ; attempt++ {
		out, retry, err := s.commitOnce(ctx, o)
		if err != nil {
			return store.Outcome{}, fmt.Errorf("%s: %w", what, err)
		}
		if !retry {
			return out, nil
		}
		if attempt >= 100 {
			return store.Outcome{}, fmt.Errorf("%s: the request counter stayed contended: %w", what, store.ErrConflict)
		}
		// Another commit took the number: back off a little and read again.
		select {
		case <-ctx.Done():
			return store.Outcome{}, fmt.Errorf("%s: %w", what, ctx.Err())
		case <-time.After(time.Duration(rand.IntN(5*(attempt+1))+1) * time.Millisecond):
		}
	}
}

// commitOnce tries one transaction; retry is true when only the counter
// moved under it.
func (s *Store) commitOnce(ctx context.Context, o store.Outcome) (out store.Outcome, retry bool, err error) {
	e := o.Entry
	stored, err := s.Entry(ctx, e.JobID, e.Key)
	if err != nil {
		return out, false, err
	}
	switch {
	case stored.State.Final():
		return out, false, store.ErrFinal
	case stored.Version != e.Version:
		return out, false, store.ErrConflict
	}
	out = store.Outcome{Entry: e, MessageIDs: o.MessageIDs}
	var ops []types.TransactWriteItem
	put := func(it item, cond string, vals item) {
		p := &types.Put{TableName: aws.String(s.table), Item: it}
		if cond != "" {
			p.ConditionExpression = aws.String(cond)
		}
		if len(vals) > 0 {
			p.ExpressionAttributeValues = vals
		}
		ops = append(ops, types.TransactWriteItem{Put: p})
	}

	target := e.RequestID
	touched := map[string]bool{}
	if o.UpdateRequest != nil {
		old, err := s.Request(ctx, o.UpdateRequest.ID)
		if err != nil {
			return out, false, fmt.Errorf("request %s to update: %w", o.UpdateRequest.ID, errors.Unwrap(err))
		}
		r := *o.UpdateRequest
		r.Number = old.Number
		it, err := requestItem(r)
		if err != nil {
			return out, false, err
		}
		put(it, "attribute_exists(PK)", nil)
		touched[r.ID] = true
		out.UpdateRequest = &r
		target = r.ID
	}
	counterAt := -1
	if o.NewRequest != nil {
		cit, err := s.get(ctx, "COUNTER", "REQUEST")
		if err != nil {
			return out, false, fmt.Errorf("read request counter: %w", err)
		}
		cur := getN(cit, "n")
		r := *o.NewRequest
		r.Number = cur + 1
		r.ID = strconv.FormatInt(r.Number, 10)
		counter := keyOf("COUNTER", "REQUEST")
		counter["n"] = num(r.Number)
		counterAt = len(ops)
		if cit == nil {
			put(counter, "attribute_not_exists(PK)", nil)
		} else {
			put(counter, "n = :cur", item{":cur": num(cur)})
		}
		it, err := requestItem(r)
		if err != nil {
			return out, false, err
		}
		put(it, "attribute_not_exists(PK)", nil)
		touched[r.ID] = true
		out.NewRequest = &r
	}
	if o.Conversation != nil {
		c := *o.Conversation
		if c.RequestID == "" {
			c.RequestID = out.NewRequest.ID
		}
		if !touched[c.RequestID] {
			if _, err := s.Request(ctx, c.RequestID); err != nil {
				return out, false, fmt.Errorf("request %s of conversation %s: %w", c.RequestID, c.ID, errors.Unwrap(err))
			}
			ops = append(ops, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
				TableName: aws.String(s.table), Key: keyOf(reqPK(c.RequestID), "REQ"),
				ConditionExpression: aws.String("attribute_exists(PK)"),
			}})
		}
		b, err := json.Marshal(c)
		if err != nil {
			return out, false, err
		}
		it := keyOf(reqPK(c.RequestID), "CONV#"+timeKey(c.CreatedAt)+"#"+c.ID)
		it["data"] = str(string(b))
		put(it, "", nil)
		out.Conversation = &c
		if target == "" {
			target = c.RequestID
		}
		if out.Entry.Conversation == "" {
			out.Entry.Conversation = c.ID
		}
	}
	if target == "" && out.NewRequest != nil {
		target = out.NewRequest.ID
	}
	if out.NewRequest != nil && out.Entry.RequestID == "" {
		out.Entry.RequestID = out.NewRequest.ID
	} else if out.Entry.RequestID == "" && target != "" {
		out.Entry.RequestID = target
	}
	seenID := map[string]bool{}
	for _, id := range o.MessageIDs {
		if target == "" {
			break
		}
		if seenID[id] {
			continue
		}
		seenID[id] = true
		it := keyOf("MSGID#"+id, "MSGID")
		it["requestId"] = str(target)
		put(it, "", nil)
	}
	out.Entry.Version = stored.Version + 1
	eit, err := s.entryItem(out.Entry)
	if err != nil {
		return out, false, err
	}
	ledgerAt := len(ops)
	put(eit, "version = :v", item{":v": num(e.Version)})

	_, err = s.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: ops})
	if err == nil {
		return out, false, nil
	}
	reasons, ok := cancelReasons(err)
	if !ok {
		return out, false, err
	}
	if ledgerAt < len(reasons) && reasons[ledgerAt] {
		again, gerr := s.Entry(ctx, e.JobID, e.Key)
		if gerr == nil && again.State.Final() {
			return out, false, store.ErrFinal
		}
		return out, false, store.ErrConflict
	}
	if counterAt >= 0 && counterAt < len(reasons) && reasons[counterAt] {
		return out, true, nil
	}
	for i, failed := range reasons {
		if failed && ops[i].ConditionCheck != nil {
			return out, false, fmt.Errorf("request of the conversation: %w", store.ErrNotFound)
		}
		if failed && ops[i].Put != nil && aws.ToString(ops[i].Put.ConditionExpression) == "attribute_exists(PK)" {
			return out, false, fmt.Errorf("request to update: %w", store.ErrNotFound)
		}
	}
	return out, false, err
}
