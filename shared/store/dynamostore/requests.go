package dynamostore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mailconnector/shared/ledger"
	"mailconnector/shared/request"
	"mailconnector/shared/store"
)

func reqPK(id string) string               { return "REQ#" + id }
func msgIDPK(id string) string             { return "MSGID#" + id }
func convSK(c request.Conversation) string { return "CONV#" + timeKey(c.CreatedAt) + "#" + c.ID }

// requestItem returns the request's item and its part items (parts.go).
func requestItem(r request.Request) (item, []item, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, nil, err
	}
	it := keyOf(reqPK(r.ID), "REQ")
	parts := withPackedData(it, string(b))
	it[AttrGSI1PK], it[AttrGSI1SK] = str("REQS"), str(pad(r.Number))
	it[AttrGSI2PK], it[AttrGSI2SK] = str("REQS#"+r.JobID), str(pad(r.Number))
	return it, parts, nil
}

// Request returns a request by id.
func (s *Store) Request(ctx context.Context, id string) (request.Request, error) {
	it, err := s.getFound(ctx, reqPK(id), "REQ", "request "+id)
	if err != nil {
		return request.Request{}, err
	}
	var r request.Request
	if err := s.decodeJoined(ctx, it, nil, &r); err != nil {
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
	it, err := s.getFound(ctx, msgIDPK(messageID), "MSGID", fmt.Sprintf("message id %q", messageID))
	if err != nil {
		return request.Request{}, err
	}
	return s.Request(ctx, getS(it, "requestId"))
}

// IndexMessageID maps a Message-ID to an existing request.
// Requests are never deleted, so a check before the write is enough.
func (s *Store) IndexMessageID(ctx context.Context, messageID, requestID string) error {
	if messageID == "" {
		return errors.New("dynamostore: index message id: the message id is required")
	}
	if _, err := s.Request(ctx, requestID); err != nil {
		return fmt.Errorf("dynamostore: index message id %q: %w", messageID, err)
	}
	it := keyOf(msgIDPK(messageID), "MSGID")
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
		if err := s.decodeJoined(ctx, it, nil, &r); err != nil {
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
	// The query holds the conversations' part items too (parts.go).
	parts := map[string][]item{}
	for _, it := range items {
		if of := getS(it, attrPartOf); of != "" {
			parts[of] = append(parts[of], it)
		}
	}
	out := make([]request.Conversation, 0, len(items))
	for _, it := range items {
		if getS(it, attrPartOf) != "" {
			continue
		}
		var c request.Conversation
		if err := s.decodeJoined(ctx, it, parts, &c); err != nil {
			return nil, fmt.Errorf("dynamostore: conversations of request %s: %w", requestID, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// maxTransactItems is DynamoDB's limit on the items of one transaction.
const maxTransactItems = 100

// Commit stores an outcome in one transaction: the ledger entry
// (conditional on its version and on having no outcome yet), the request
// counter (conditional on the value read, so numbers have no gaps and a
// refused commit uses none), the new or updated request, the conversation
// (with a check that its request exists) and the Message-ID index.
// Semantics are boltstore's: when o.Entry.RequestID is empty it is set to
// the request the outcome created or touched, and o.Entry.Conversation to
// the conversation's ID; MessageIDs are indexed to the new request, else
// the conversation's, else UpdateRequest, else o.Entry.RequestID.
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
	var counter item // the counter as last seen; nil: read it
	if o.NewRequest != nil {
		// Commits of this Store that number a request take turns: they
		// would only refuse each other at the counter. The counter each
		// leaves is where the next starts; other processes are caught by
		// the counter's condition.
		s.numbering.Lock()
		defer s.numbering.Unlock()
		counter, s.counter = s.counter, nil
	}
	for attempt := 0; ; attempt++ {
		out, retry, err := s.commitOnce(ctx, o, &counter)
		if err != nil {
			return store.Outcome{}, fmt.Errorf("%s: %w", what, err)
		}
		if !retry {
			if out.NewRequest != nil {
				s.counter = keyOf("COUNTER", "REQUEST")
				s.counter["n"] = num(out.NewRequest.Number)
			}
			return out, nil
		}
		if attempt >= 100 {
			return store.Outcome{}, fmt.Errorf("%s: the request counter stayed contended: %w", what, store.ErrConflict)
		}
		// Another commit took the number: back off a little and read again.
		if err := backoff(ctx, attempt); err != nil {
			return store.Outcome{}, fmt.Errorf("%s: %w", what, err)
		}
	}
}

// refusal tells why the ledger entry stored as old (nil: none) refuses an
// outcome for e, in boltstore's order: ErrNotFound, ErrFinal, ErrConflict.
func refusal(old item, e ledger.Entry) error {
	if old == nil {
		return store.ErrNotFound
	}
	stored, err := decodeEntry(old)
	switch {
	case err != nil:
		return err
	case stored.State.Final():
		return store.ErrFinal
	case stored.Version != e.Version:
		return store.ErrConflict
	}
	return nil
}

// entryRefusal reads the entry and tells whether it refuses an outcome.
func (s *Store) entryRefusal(ctx context.Context, e ledger.Entry) error {
	old, err := s.get(ctx, ledgerPK(e.JobID), e.Key)
	if err != nil {
		return fmt.Errorf("read ledger entry: %w", err)
	}
	return refusal(old, e)
}

// commitOnce tries one transaction; retry is true when only the counter
// moved under it, or another transaction held one of its items. counter is
// the counter item to number from, read when nil; a counter moved under
// the transaction is left there for the next try.
func (s *Store) commitOnce(ctx context.Context, o store.Outcome, counter *item) (out store.Outcome, retry bool, err error) {
	e := o.Entry
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
	// putAll puts an item under cond with the parts its data spilled into.
	putAll := func(it item, parts []item, cond string) {
		put(it, cond, nil)
		for _, p := range parts {
			put(p, "", nil)
		}
	}

	// Requests named by the outcome must exist; a transaction may name an
	// item once, so the checks skip a request it writes.
	target := e.RequestID
	writes := map[string]bool{}
	if o.UpdateRequest != nil {
		old, err := s.Request(ctx, o.UpdateRequest.ID)
		if errors.Is(err, store.ErrNotFound) {
			// The ledger entry's refusal comes first, as in boltstore.
			if rerr := s.entryRefusal(ctx, e); rerr != nil {
				return out, false, rerr
			}
			return out, false, fmt.Errorf("request %s to update: %w", o.UpdateRequest.ID, store.ErrNotFound)
		}
		if err != nil {
			return out, false, err
		}
		r := *o.UpdateRequest
		r.Number = old.Number // the number never changes
		it, parts, err := requestItem(r)
		if err != nil {
			return out, false, err
		}
		putAll(it, parts, "attribute_exists(PK)")
		writes[r.ID] = true
		out.UpdateRequest = &r
		target = r.ID
	}
	counterAt := -1
	if o.NewRequest != nil {
		cit := *counter
		if cit == nil {
			if cit, err = s.get(ctx, "COUNTER", "REQUEST"); err != nil {
				return out, false, fmt.Errorf("read request counter: %w", err)
			}
		}
		*counter = nil
		cur := getN(cit, "n")
		r := *o.NewRequest
		r.Number = cur + 1
		r.ID = strconv.FormatInt(r.Number, 10)
		next := keyOf("COUNTER", "REQUEST")
		next["n"] = num(r.Number)
		counterAt = len(ops)
		if cit == nil {
			put(next, "attribute_not_exists(PK)", nil)
		} else {
			put(next, "n = :cur", item{":cur": num(cur)})
		}
		ops[counterAt].Put.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
		it, parts, err := requestItem(r)
		if err != nil {
			return out, false, err
		}
		putAll(it, parts, "attribute_not_exists(PK)")
		writes[r.ID] = true
		out.NewRequest = &r
	}
	checkAt := -1
	if o.Conversation != nil {
		c := *o.Conversation
		if c.RequestID == "" {
			c.RequestID = out.NewRequest.ID
		}
		if !writes[c.RequestID] {
			checkAt = len(ops)
			ops = append(ops, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
				TableName: aws.String(s.table), Key: keyOf(reqPK(c.RequestID), "REQ"),
				ConditionExpression: aws.String("attribute_exists(PK)"),
			}})
		}
		b, err := json.Marshal(c)
		if err != nil {
			return out, false, err
		}
		it := keyOf(reqPK(c.RequestID), convSK(c))
		parts := withPackedData(it, string(b))
		putAll(it, parts, "")
		out.Conversation = &c
		target = c.RequestID
	}
	if out.NewRequest != nil {
		target = out.NewRequest.ID
	}
	seen := map[string]bool{}
	for _, id := range o.MessageIDs {
		if id == "" || seen[id] {
			continue
		}
		if target == "" {
			return out, false, errors.New("message ids to index but no request")
		}
		seen[id] = true
		it := keyOf(msgIDPK(id), "MSGID")
		it["requestId"] = str(target)
		put(it, "", nil)
	}
	if out.Entry.RequestID == "" {
		out.Entry.RequestID = target
	}
	if out.Entry.Conversation == "" && out.Conversation != nil {
		out.Entry.Conversation = out.Conversation.ID
	}
	out.Entry.Version = e.Version + 1
	eit, err := s.entryItem(out.Entry)
	if err != nil {
		return out, false, err
	}
	ledgerAt := len(ops)
	ops = append(ops, types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(s.table), Item: eit,
		// Entries without an outcome are exactly those in the unfinished index.
		ConditionExpression:                 aws.String("version = :v AND begins_with(GSI1PK, :unfinished)"),
		ExpressionAttributeValues:           item{":v": num(e.Version), ":unfinished": str("UNFINISHED#")},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}})
	if o.Event != nil {
		it, err := outboxItem(o, &out, s.o.Now())
		if err != nil {
			return out, false, err
		}
		put(it, "", nil)
	}
	if len(ops) > maxTransactItems {
		return out, false, fmt.Errorf("%d Message-IDs are more than one transaction holds", len(seen))
	}

	_, err = s.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: ops})
	if err == nil {
		return out, false, nil
	}
	reasons := cancellation(err)
	if len(reasons) != len(ops) {
		return out, false, err
	}
	switch {
	case reasons[ledgerAt].failed:
		rerr := refusal(reasons[ledgerAt].item, e)
		if reasons[ledgerAt].item == nil { // none stored, or a service that sends no old item
			rerr = s.entryRefusal(ctx, e)
		}
		if rerr == nil { // it changed back meanwhile: still not what this commit saw
			rerr = store.ErrConflict
		}
		return out, false, rerr
	case counterAt >= 0 && reasons[counterAt].failed:
		*counter = reasons[counterAt].item // nil (read it again) if the service sent none
		return out, true, nil
	case anyConflict(reasons):
		return out, true, nil
	case counterAt >= 0 && reasons[counterAt+1].failed:
		// The counter was behind the requests (restored from an old backup?).
		return out, false, fmt.Errorf("request %s exists already: the request counter is behind", out.NewRequest.ID)
	case ledgerAt > 0 && reasons[0].failed && out.UpdateRequest != nil:
		return out, false, fmt.Errorf("request %s to update: %w", out.UpdateRequest.ID, store.ErrNotFound)
	case checkAt >= 0 && reasons[checkAt].failed:
		return out, false, fmt.Errorf("request %s of conversation %s: %w", out.Conversation.RequestID, out.Conversation.ID, store.ErrNotFound)
	}
	return out, false, err
}
