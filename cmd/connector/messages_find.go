package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

func newMessagesFindCmd(a *app) *cobra.Command {
	var limit int
	var asJSON bool
	cmd := command("find MESSAGE-ID|ADDRESS [--limit N] [--json] [--aws]", "where is my mail? the messages of every job with that Message-ID or sender address",
		exactArgs(1), func(cmd *cobra.Command, args []string) error {
			return cmdMessagesFind(cmd.Context(), &a.common, args[0], limit, asJSON, a.stdout)
		})
	cmd.Flags().IntVar(&limit, "limit", 50, "how many messages at most, newest first (0: all)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON, one object per message")
	return cmd
}

func cmdMessagesFind(ctx context.Context, c *common, who string, limit int, asJSON bool, stdout io.Writer) error {
	b, err := c.backend(ctx)
	if err != nil {
		return err
	}
	defer b.close()
	st, err := messages(b)
	if err != nil {
		return err
	}
	entries, err := st.FindMessages(ctx, who, limit)
	if err != nil {
		return fmt.Errorf("find messages of %q: %w", who, err)
	}
	if asJSON {
		return writeMessagesJSON(stdout, entries)
	}
	if len(entries) == 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("connector: no message with Message-ID or sender %q in %s", shown(who), where(c))}
	}
	tw := newTable("FETCHED", "JOB", "FROM", "SUBJECT", "OUTCOME", "REQUEST", "WENT TO", "KEY")
	for _, e := range entries {
		tw.row(e.FetchedAt.Local().Format("2006-01-02 15:04"), e.JobID, truncate(sender(e), 40), truncate(e.Subject, 40),
			string(e.Outcome()), requestRef(e), truncate(wentTo(e), 40), shown(e.Key))
		if r := reasonOf(e); r != "" {
			tw.line("  reason: %s", truncate(r, 160))
		}
	}
	return tw.write(stdout)
}
