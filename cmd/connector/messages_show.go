package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"mailconnector/shared/blob"
	"mailconnector/shared/fetch"
	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/message"
	"mailconnector/shared/preprocess"
	"mailconnector/shared/store"
)

func newMessagesShowCmd(a *app) *cobra.Command {
	return command("show JOB KEY [--aws]", "the whole story of one message: fetched, class, text, attachments, the statements' decision and where it went",
		exactArgs(2), func(cmd *cobra.Command, args []string) error {
			return cmdMessagesShow(cmd.Context(), &a.common, args[0], args[1], a.stdout)
		})
}

// visibleLines is how much of the visible text show prints.
const visibleLines = 8

// cmdMessagesShow prints what is stored of one message: its ledger entry
// and, when the blob store is at hand, its normalized message.
func cmdMessagesShow(ctx context.Context, c *common, id, key string, stdout io.Writer) error {
	b, err := c.backend(ctx)
	if err != nil {
		return err
	}
	defer b.close()
	e, err := b.store.Entry(ctx, id, key)
	if errors.Is(err, store.ErrNotFound) {
		return &exitError{code: 1, msg: fmt.Sprintf("connector: job %s has no message %q in %s (connector messages %s lists the keys)", id, key, where(c), id)}
	}
	if err != nil {
		return fmt.Errorf("read message %s of job %s: %w", key, id, err)
	}
	var w strings.Builder
	field := func(name, format string, args ...any) {
		fmt.Fprintf(&w, "  %-12s %s\n", name, shown(fmt.Sprintf(format, args...)))
	}
	fmt.Fprintf(&w, "Message %s of job %s\n", shown(e.Key), e.JobID)
	field("fetched", "%s from %s, %s (run %s)", e.FetchedAt.Local().Format("2006-01-02 15:04:05"), e.Source, size(e.Size), orDash(e.RunID))
	field("from", "%s", sender(e))
	field("subject", "%s", orDash(e.Subject))
	if !e.Date.IsZero() {
		field("date", "%s", e.Date.Local().Format("2006-01-02 15:04:05"))
	}
	field("message-id", "%s", orDash(e.MessageID))
	field("class", "%s", classOf(e))
	field("outcome", "%s", e.Outcome())
	if r := reasonOf(e); r != "" {
		field("reason", "%s", r)
	}
	if e.RequestID != "" {
		field("request", "%s", requestRef(e))
	}
	if e.Action != "" {
		st := e.Statement
		if st == "" {
			st = "the job's defaults"
		}
		field("decision", "%s by %s", e.Action, st)
	}
	for i, why := range e.Why {
		name := ""
		if i == 0 {
			name = "why"
		}
		field(name, "- %s", why)
	}
	for i, warn := range e.Warnings {
		name := ""
		if i == 0 {
			name = "warnings"
		}
		field(name, "- %s", warn)
	}
	field("went to", "%s", wentTo(e))
	m, note := normalized(ctx, b, e)
	if m == nil && sealedAway(ctx, b, e) {
		m, note = fromSealed(ctx, c, b, e)
	}
	if m == nil {
		field("text", "(%s)", note)
	} else {
		writeNormalized(m, field)
	}
	_, err = io.WriteString(stdout, w.String())
	return err
}

// normalized reads the message's normalized form, or says why it cannot.
func normalized(ctx context.Context, b *backend, e ledger.Entry) (*message.Message, string) {
	if e.NormKey == "" {
		return nil, "not preprocessed: no normalized message stored"
	}
	if b.blobs == nil {
		return nil, "set CONNECTOR_BUCKET (the stack's BucketName output) to read the message itself"
	}
	rc, err := b.blobs.Get(ctx, e.NormKey)
	if err != nil {
		return nil, fmt.Sprintf("normalized message unreadable: %v", err)
	}
	defer rc.Close()
	var m message.Message
	if err := json.NewDecoder(rc).Decode(&m); err != nil {
		return nil, fmt.Sprintf("normalized message unreadable: %v", err)
	}
	return &m, ""
}

func writeNormalized(m *message.Message, field func(name, format string, args ...any)) {
	lines := strings.Split(strings.TrimSpace(m.VisibleText), "\n")
	more := len(lines) - visibleLines
	if more > 0 {
		lines = lines[:visibleLines]
	}
	for i, l := range lines {
		name := ""
		if i == 0 {
			name = "text"
		}
		field(name, "| %s", truncate(l, 100))
	}
	if more > 0 {
		field("", "| … %d more lines", more)
	}
	if len(m.Attachments) == 0 {
		field("attachments", "none")
	}
	for i, a := range m.Attachments {
		name := ""
		if i == 0 {
			name = "attachments"
		}
		verdict := "kept"
		if a.Dropped != "" {
			verdict = "dropped: " + a.Dropped
		}
		inline := ""
		if a.Inline {
			inline = ", inline"
		}
		field(name, "%s (%s, %s%s) %s", orDash(a.Filename), a.ContentType, size(a.Size), inline, verdict)
	}
}

// classOf names the message's class: auto-generated mail, or a person's.
func classOf(e ledger.Entry) string {
	switch {
	case e.Class != "":
		return e.Class
	case e.NormKey == "":
		return "- (not preprocessed)"
	}
	return "written by a person"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// sealedAway reports whether the normalized message is gone because the
// mail's details were sealed when it went to the error folder.
func sealedAway(ctx context.Context, b *backend, e ledger.Entry) bool {
	if b.blobs == nil || e.NormKey == "" {
		return false
	}
	rc, err := b.blobs.Get(ctx, e.NormKey)
	if err == nil {
		rc.Close()
	}
	return errors.Is(err, blob.ErrNotFound)
}

// fromSealed preprocesses the sealed copy of a mail in the error folder
// again (under the job's preprocessing rules when the jobs file is given)
// to show its text and attachments; it needs the error details' key, as
// `connector errors export` does, and stores nothing.
func fromSealed(ctx context.Context, c *common, b *backend, e ledger.Entry) (*message.Message, string) {
	stores, err := c.errorDetails(ctx, b, false)
	if err != nil {
		return nil, fmt.Sprintf("sealed with the error details; unreadable here: %v", err)
	}
	rc, err := stores.details.Get(ctx, ledger.ErrorDetailKey(e.JobID, e.Key, fetch.DetailMessage))
	if err != nil {
		return nil, fmt.Sprintf("sealed with the error details; unreadable here: %v", err)
	}
	defer rc.Close()
	var j *job.Job
	if c.jobsFile != "" {
		j, _ = c.job(e.JobID)
	}
	m, err := preprocess.Process(ctx, rc, &preprocess.Options{Job: j})
	if err != nil {
		return nil, fmt.Sprintf("sealed with the error details; preprocess it again: %v", err)
	}
	return m, ""
}
