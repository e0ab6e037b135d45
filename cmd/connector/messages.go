package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"mailconnector/shared/ledger"
	"mailconnector/shared/store"
)

// messageFlags are the selection of `connector messages JOB`.
type messageFlags struct {
	status, from, subject string
	since                 time.Duration
	limit                 int
	json                  bool
}

func newMessagesCmd(a *app) *cobra.Command {
	var f messageFlags
	cmd := command("messages JOB [--status S] [--since DURATION] [--from ADDR] [--subject TEXT] [--limit N] [--json] [--aws]",
		"what became of a job's messages: sender, subject, outcome, request, reason and where each went", exactArgs(1),
		func(cmd *cobra.Command, args []string) error {
			return cmdMessages(cmd.Context(), &a.common, args[0], f, a.stdout)
		})
	fs := cmd.Flags()
	fs.StringVar(&f.status, "status", "", "only this status: "+strings.Join(ledger.Statuses, ", "))
	fs.DurationVar(&f.since, "since", 0, "only messages fetched this long ago or later (e.g. 24h)")
	fs.StringVar(&f.from, "from", "", "only senders whose address or name holds this text")
	fs.StringVar(&f.subject, "subject", "", "only subjects that hold this text")
	fs.IntVar(&f.limit, "limit", 50, "how many messages at most, newest first (0: all)")
	fs.BoolVar(&f.json, "json", false, "print JSON, one object per message")
	cmd.AddCommand(newMessagesShowCmd(a), newMessagesFindCmd(a))
	return cmd
}

// messageStore is what the messages commands read.
type messageStore interface {
	store.Ledger
	store.Messages
}

// messages returns the backend's store as a messageStore.
func messages(b *backend) (messageStore, error) {
	m, ok := b.store.(messageStore)
	if !ok {
		return nil, fmt.Errorf("the store %T cannot look messages up", b.store)
	}
	return m, nil
}

func cmdMessages(ctx context.Context, c *common, id string, f messageFlags, stdout io.Writer) error {
	if f.status != "" {
		if err := ledger.CheckStatus(f.status); err != nil {
			return &exitError{code: 2, msg: "connector: messages --" + err.Error()}
		}
	}
	if f.since < 0 {
		return &exitError{code: 2, msg: "connector: messages --since must not be negative"}
	}
	b, err := c.jobState(ctx, id)
	if err != nil {
		return err
	}
	defer b.close()
	st, err := messages(b)
	if err != nil {
		return err
	}
	q := store.MessageQuery{JobID: id, Status: f.status, From: f.from, Subject: f.subject, Limit: f.limit}
	if f.since > 0 {
		q.Since = time.Now().Add(-f.since)
	}
	entries, err := st.Messages(ctx, q)
	if err != nil {
		return fmt.Errorf("list messages of job %s: %w", id, err)
	}
	if f.json {
		return writeMessagesJSON(stdout, entries)
	}
	if len(entries) == 0 {
		fmt.Fprintf(stdout, "job %s: no messages match in %s\n", id, where(c))
		return nil
	}
	tw := newTable("FETCHED", "FROM", "SUBJECT", "OUTCOME", "REQUEST", "WENT TO", "KEY")
	for _, e := range entries {
		tw.row(e.FetchedAt.Local().Format("2006-01-02 15:04"), truncate(sender(e), 40), truncate(e.Subject, 40),
			string(e.Outcome()), requestRef(e), truncate(wentTo(e), 40), shown(e.Key))
		if r := reasonOf(e); r != "" {
			tw.line("  reason: %s", truncate(r, 160))
		}
	}
	if err := tw.write(stdout); err != nil {
		return err
	}
	if f.limit > 0 && len(entries) == f.limit {
		fmt.Fprintf(stdout, "(the newest %d; --limit 0 shows all)\n", f.limit)
	}
	return nil
}

// messageJSON is one message as --json prints it: the ledger entry, its
// outcome, and where the source message went.
type messageJSON struct {
	ledger.Entry
	Outcome ledger.Outcome `json:"outcome"`
	WentTo  string         `json:"wentTo"`
}

func writeMessagesJSON(w io.Writer, entries []ledger.Entry) error {
	enc := json.NewEncoder(w)
	for _, e := range entries {
		if err := enc.Encode(messageJSON{Entry: e, Outcome: e.Outcome(), WentTo: wentTo(e)}); err != nil {
			return err
		}
	}
	return nil
}

// sender is the sender as a person reads it.
func sender(e ledger.Entry) string {
	switch {
	case e.From == "":
		return "-"
	case e.FromName == "":
		return e.From
	}
	return e.FromName + " <" + e.From + ">"
}

// requestRef is the request the message made or joined, "-" when none.
func requestRef(e ledger.Entry) string {
	if e.RequestID == "" {
		return "-"
	}
	return "#" + e.RequestID
}

// reasonOf is why the message ended as it did: its reason, a duplicate's
// original, a retry's earlier attempt.
func reasonOf(e ledger.Entry) string {
	var parts []string
	if e.Reason != "" {
		parts = append(parts, e.Reason)
	}
	if e.DuplicateOf != "" {
		parts = append(parts, "same message as "+e.DuplicateOf)
	}
	if e.RetryOf != "" {
		parts = append(parts, "a retry of "+e.RetryOf)
	}
	return strings.Join(parts, "; ")
}

// wentTo says, in an administrator's words, where the source message went
// on the mail server (the disposition done), or why it has not gone yet.
func wentTo(e ledger.Entry) string {
	if !e.Disposed {
		if e.Outcome() == ledger.OutcomePending {
			return "still in the mailbox (being processed)"
		}
		return "still in the mailbox (the next run disposes of it)"
	}
	d, rest, _ := strings.Cut(e.Disposition, "; ")
	switch {
	case d == "markRead":
		d = "marked read"
	case d == "delete":
		d = "deleted"
	case strings.HasPrefix(d, "move "):
		d = "moved to " + strings.TrimPrefix(d, "move ")
		if e.InErrorFolder {
			d += " (error folder)"
		}
	}
	if rest != "" {
		d += "; " + rest
	}
	return d
}
