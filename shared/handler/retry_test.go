package handler_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"mailconnector/shared/blob"
	"mailconnector/shared/blob/sealed"
	"mailconnector/shared/blob/sealed/kmskeys"
	"mailconnector/shared/fetch"
	"mailconnector/shared/handler"
	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/queue/sqsqueue"
	"mailconnector/shared/store"
)

// TestRetryThroughSQS is the retry flow on the AWS adapters (DynamoDB, S3,
// SQS): a message the allow-list rejects goes to the error folder and is
// found by its sender and Message-ID; once the allow-list is widened, a
// retry makes one request, and a second retry of the same message makes
// none and says why.
func TestRetryThroughSQS(t *testing.T) {
	s := newStack(t, func(j *job.Job) {
		j.Processing.AllowNewRequestsFrom = []string{"*@contoso.example"}
	}, nil)
	ctx := context.Background()
	raw := "From: Stranger <stranger@outside.example>\r\nTo: support@contoso.example\r\nSubject: Printer on fire\r\n" +
		"Message-ID: <s1@outside.example>\r\nDate: Sat, 05 Dec 2026 10:00:00 +0000\r\n\r\nPlease help.\r\n"
	if err := dovecot.Deliver(s.user, "INBOX", []byte(raw)); err != nil {
		t.Fatal(err)
	}
	s.startPollers()
	if _, err := s.invoke(handler.SchedulerPayload{JobID: "support"}); err != nil {
		t.Fatal(err)
	}
	s.drain()
	if _, err := s.invoke(handler.SchedulerPayload{JobID: "support"}); err != nil { // disposes of it
		t.Fatal(err)
	}
	found, err := s.store.FindMessages(ctx, "STRANGER@outside.example", 0)
	if err != nil || len(found) != 1 {
		t.Fatalf("FindMessages by sender: got %d entries (err %v), want 1", len(found), err)
	}
	e := found[0]
	if e.State != ledger.Rejected || !e.InErrorFolder || e.Subject != "Printer on fire" || e.Reason == "" {
		t.Fatalf("rejected entry: got %+v, want rejected in the error folder with subject and reason", e)
	}
	if byID, err := s.store.FindMessages(ctx, "<s1@outside.example>", 0); err != nil || len(byID) != 1 || byID[0].Key != e.Key {
		t.Errorf("FindMessages by Message-ID: got %v (err %v), want %s", byID, err, e.Key)
	}

	s.jobs.Jobs[0].Processing.AllowNewRequestsFrom = []string{"*@contoso.example", "*@outside.example"}
	svc := fetch.New(fetch.Options{Store: s.store, Blobs: s.blobs, Queue: sqsqueue.New(s.sqs, s.prepURL), Logger: s.log})
	res, err := svc.Retry(ctx, &s.jobs.Jobs[0], []string{e.Key})
	if err != nil || len(res) != 1 || res[0].NewKey == "" {
		t.Fatalf("Retry: got %+v, %v", res, err)
	}
	s.drain()
	retry, err := s.store.Entry(ctx, "support", res[0].NewKey)
	if err != nil || retry.Outcome() != ledger.OutcomeCreated || retry.RetryOf != e.Key {
		t.Fatalf("retry: got %+v (err %v), want created, retryOf %s", retry, err, e.Key)
	}

	res, err = svc.Retry(ctx, &s.jobs.Jobs[0], []string{e.Key, retry.Key})
	if err != nil || len(res) != 2 || !strings.Contains(res[1].Note, "already made request "+retry.RequestID) {
		t.Fatalf("second retry: got %+v, %v", res, err)
	}
	s.drain()
	again, err := s.store.Entry(ctx, "support", res[0].NewKey)
	if err != nil || again.Outcome() != ledger.OutcomeIgnored || !strings.Contains(again.Reason, "no second request") {
		t.Errorf("retry of a message that made a request: got %+v (err %v), want ignored, saying so", again, err)
	}
	reqs, err := s.store.ListRequests(ctx, "support", 0)
	if err != nil || len(reqs) != 1 {
		t.Errorf("requests: got %d (err %v), want 1", len(reqs), err)
	}
	created, err := s.store.Messages(ctx, store.MessageQuery{JobID: "support", Status: "created"})
	if err != nil || len(created) != 1 || created[0].Key != retry.Key {
		t.Errorf("Messages created: got %v (err %v), want %s", created, err, retry.Key)
	}
}

// TestSealedRetryThroughSQS is the retry flow as the deployed stack has it:
// the fetch function seals the details of a mail it moves to the error
// folder with data keys of the stack's KMS key and removes its plaintext
// copies from the bucket; a retry by an operator without the key says what
// it lacks, and with the key puts the raw copy back from the sealed one and
// makes the request.
func TestSealedRetryThroughSQS(t *testing.T) {
	s := newStack(t, func(j *job.Job) {
		j.Processing.AllowNewRequestsFrom = []string{"*@contoso.example"}
	}, nil)
	ctx := context.Background()
	km := kms.NewFromConfig(moto.Config())
	key, err := km.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("Mail Connector")})
	if err != nil {
		t.Fatal(err)
	}
	details := sealed.New(s.blobs, kmskeys.New(km, *key.KeyMetadata.KeyId, kmskeys.PurposeErrorDetails))
	// The fetch function of a stack that sets CONNECTOR_ERROR_KEY.
	svc := fetch.New(fetch.Options{Store: s.store, Blobs: s.blobs, Queue: sqsqueue.New(s.sqs, s.prepURL),
		Opener: fetch.OpenerFunc(s.open), Logger: s.log, ErrorDetails: details})
	s.fetchRunner = svc
	s.fetch = &handler.Fetch{Jobs: s.jobs, Runner: svc, Invoker: s, Logger: s.log}

	const canary = "canary-4b1d the printer is on fire"
	raw := "From: Stranger <stranger@outside.example>\r\nTo: support@contoso.example\r\nSubject: Printer\r\n" +
		"Message-ID: <s2@outside.example>\r\nDate: Sat, 05 Dec 2026 10:00:00 +0000\r\n\r\n" + canary + "\r\n"
	if err := dovecot.Deliver(s.user, "INBOX", []byte(raw)); err != nil {
		t.Fatal(err)
	}
	s.startPollers()
	for range 2 { // the second run disposes of it
		if _, err := s.invoke(handler.SchedulerPayload{JobID: "support"}); err != nil {
			t.Fatal(err)
		}
		s.drain()
	}
	found, err := s.store.FindMessages(ctx, "<s2@outside.example>", 0)
	if err != nil || len(found) != 1 || !found[0].InErrorFolder {
		t.Fatalf("FindMessages: got %+v (err %v), want one entry in the error folder", found, err)
	}
	e := found[0]
	if _, err := s.blobs.Get(ctx, e.RawKey); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("the raw copy in the bucket: got %v, want removed once sealed", err)
	}
	rc, err := s.blobs.Get(ctx, ledger.ErrorDetailKey(e.JobID, e.Key, fetch.DetailMessage))
	if err != nil {
		t.Fatalf("the sealed copy: %v", err)
	}
	stored, _ := io.ReadAll(rc)
	rc.Close()
	if len(stored) == 0 || strings.Contains(string(stored), canary) {
		t.Errorf("the sealed copy in the bucket (%d bytes) holds the message in the clear", len(stored))
	}

	s.jobs.Jobs[0].Processing.AllowNewRequestsFrom = []string{"*@contoso.example", "*@outside.example"}
	noKey := fetch.New(fetch.Options{Store: s.store, Blobs: s.blobs, Queue: sqsqueue.New(s.sqs, s.prepURL), Logger: s.log})
	if res, err := noKey.Retry(ctx, &s.jobs.Jobs[0], []string{e.Key}); err == nil && (len(res) != 1 || !strings.Contains(res[0].Note, "no key")) {
		t.Errorf("a retry without the key: got %+v, want it to say the sealed copy needs the key", res)
	} else if err != nil && !strings.Contains(err.Error(), "no key") {
		t.Errorf("a retry without the key: got %v, want it to say the sealed copy needs the key", err)
	}
	operator := fetch.New(fetch.Options{Store: s.store, Blobs: s.blobs, Queue: sqsqueue.New(s.sqs, s.prepURL), Logger: s.log, ErrorDetails: details})
	res, err := operator.Retry(ctx, &s.jobs.Jobs[0], []string{e.Key})
	if err != nil || len(res) != 1 || res[0].NewKey == "" {
		t.Fatalf("Retry with the key: got %+v, %v", res, err)
	}
	s.drain()
	retry, err := s.store.Entry(ctx, "support", res[0].NewKey)
	if err != nil || retry.Outcome() != ledger.OutcomeCreated {
		t.Fatalf("retry: got %+v (err %v), want created", retry, err)
	}
	if reqs, err := s.store.ListRequests(ctx, "support", 0); err != nil || len(reqs) != 1 {
		t.Errorf("requests: got %d (err %v), want 1", len(reqs), err)
	}
}
