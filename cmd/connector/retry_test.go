package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// mail is a message from one sender with its own Message-ID.
func mail(from, id, subject string) []byte {
	return []byte("From: " + from + "\r\nTo: support@contoso.example\r\nSubject: " + subject +
		"\r\nMessage-ID: <" + id + ">\r\nDate: Sat, 05 Dec 2026 10:00:00 +0000\r\nContent-Type: text/plain\r\n\r\n" +
		"Hello,\r\nplease help with " + subject + ".\r\n")
}

// listed runs `messages JOB --json` with args and returns the entries.
func listed(t *testing.T, args ...string) []messageJSON {
	t.Helper()
	out, errOut, err := cli(t, append([]string{"messages", "support", "--json"}, args...)...)
	if err != nil {
		t.Fatalf("messages %v: %v\n%s", args, err, errOut)
	}
	var got []messageJSON
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var m messageJSON
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("messages %v: %v\n%s", args, err, out)
		}
		got = append(got, m)
	}
	return got
}

func bySender(ms []messageJSON, from string) []messageJSON {
	var out []messageJSON
	for _, m := range ms {
		if m.From == from {
			out = append(out, m)
		}
	}
	return out
}

// TestRetryAfterFixingTheAllowList, against Dovecot: mail the allow-list
// rejects goes to the error folder and says why in `messages`; once the
// allow-list is widened, `retry` by key and by status makes one request
// each; a retry of a message that made a request makes none and says so;
// a message delivered twice makes one request.
func TestRetryAfterFixingTheAllowList(t *testing.T) {
	dup := mail("Alice <alice@contoso.example>", "dup@contoso.example", "VPN down")
	u := userWith(t,
		dup, dup,
		mail("Stranger <stranger@outside.example>", "s1@outside.example", "Printer on fire"),
		mail("Other <other@outside.example>", "s2@outside.example", "Invoice question"),
	)
	narrow := writeJobs(t, plain, u, "    processing: {allowNewRequestsFrom: [\"*@contoso.example\"]}\n")
	state := firstRun(t, narrow)

	all := listed(t)
	if len(all) != 4 {
		t.Fatalf("messages: got %d, want 4: %+v", len(all), all)
	}
	out, _, err := cli(t, "messages", "find", "dup@contoso.example")
	if err != nil || strings.Count(out, "created") != 1 || strings.Count(out, "duplicate") != 1 {
		t.Errorf("the message delivered twice: got %v\n%s\nwant one created and one duplicate", err, out)
	}
	rejected := listed(t, "--status", "rejected")
	if len(rejected) != 2 {
		t.Fatalf("messages --status rejected: got %+v, want the two strangers", rejected)
	}
	s1 := bySender(rejected, "stranger@outside.example")
	if len(s1) != 1 || s1[0].Subject != "Printer on fire" || s1[0].Reason == "" || !strings.Contains(s1[0].WentTo, "(error folder)") {
		t.Fatalf("rejected stranger: got %+v, want subject, reason and the error folder", s1)
	}
	key := s1[0].Key

	out, _, err = cli(t, "messages", "support", "--status", "error-folder")
	if err != nil || !strings.Contains(out, "Stranger <stranger@outside.example>") || !strings.Contains(out, "reason: ") ||
		!strings.Contains(out, "moved to Connector Errors (error folder)") {
		t.Errorf("messages --status error-folder: got %v\n%s", err, out)
	}
	out, _, err = cli(t, "messages", "find", "<S1@outside.example>")
	if err != nil || !strings.Contains(out, "support") || !strings.Contains(out, "rejected") {
		t.Errorf("messages find by Message-ID: got %v\n%s", err, out)
	}
	out, _, err = cli(t, "messages", "find", "Stranger@Outside.example")
	if err != nil || !strings.Contains(out, "Printer on fire") {
		t.Errorf("messages find by sender: got %v\n%s", err, out)
	}
	out, _, err = cli(t, "messages", "show", "support", key)
	for _, want := range []string{"outcome      rejected", "went to      moved to Connector Errors (error folder)", "please help with Printer on fire",
		"class        written by a person", "decision     reject", "message-id   s1@outside.example"} {
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("messages show: got %v, want %q in\n%s", err, want, out)
		}
	}

	wide := writeJobs(t, plain, u, "    processing: {allowNewRequestsFrom: [\"*@contoso.example\", \"*@outside.example\"]}\n")
	out, errOut, err := cli(t, "retry", "support", key, "--jobs", wide)
	if err != nil || !strings.Contains(out, key+": retried as "+key+"#retry1: created request #2") {
		t.Fatalf("retry by key: got %v\n%s\n%s", err, out, errOut)
	}
	out, _, err = cli(t, "retry", "support", "--status", "rejected", "--jobs", wide)
	if err != nil || !strings.Contains(out, "created request #3") || strings.Contains(out, key+":") {
		t.Errorf("retry --status rejected: got %v\n%s\nwant the other stranger only, making request #3", err, out)
	}
	out, _, err = cli(t, "retry", "support", key+"#retry1", "--jobs", wide)
	if err != nil || !strings.Contains(out, "not retried: already made request 2") {
		t.Errorf("retry of the retry that made a request: got %v\n%s", err, out)
	}
	out, _, err = cli(t, "retry", "support", key, "--jobs", wide)
	if err != nil || !strings.Contains(out, "ignored: already made request 2 (same Message-ID): no second request") {
		t.Errorf("second retry of the rejected message: got %v\n%s", err, out)
	}
	_, _, err = cli(t, "retry", "support", "imap/INBOX/1/999", "--jobs", wide)
	if code, msg := exitMsg(err); code != 1 || !strings.Contains(msg, "not in the ledger") {
		t.Errorf("retry of an unknown key: got exit %d %q", code, msg)
	}
	retries := 0
	for _, m := range listed(t, "--status", "created") {
		if m.RetryOf != "" {
			retries++
		}
	}
	if retries != 2 {
		t.Errorf("messages --status created: got %d retries, want 2", retries)
	}

	st := openState(t, state)
	defer st.Close()
	reqs, err := st.ListRequests(context.Background(), "support", 0)
	if err != nil || len(reqs) != 3 {
		t.Errorf("requests: got %d (err %v), want 3: Alice's once, and one per stranger", len(reqs), err)
	}
}
