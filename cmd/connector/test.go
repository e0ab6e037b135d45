package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/spf13/cobra"

	"mailconnector/shared/connect"
	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/mailtrace"
)

func newTestCmd(a *app) *cobra.Command {
	var trace bool
	cmd := command("test JOB [--trace] [--jobs FILE] [--state DIR] [--aws]", "test a job's connection (exit 0 when it works)", exactArgs(1),
		func(cmd *cobra.Command, args []string) error {
			ctx, rec := cmd.Context(), (*mailtrace.Recorder)(nil)
			if trace {
				rec = mailtrace.New(0)
				ctx = mailtrace.With(ctx, rec)
			}
			j, sess, done, err := openJob(ctx, &a.common, args[0])
			if err == nil {
				err = cmdTest(ctx, j, sess, a.stdout)
				done()
			}
			if trace {
				// After the session ended, so that its LOGOUT or QUIT is
				// there; also when the connection failed.
				fmt.Fprint(a.stdout, "protocol trace (no passwords, tokens or message bodies):\n"+rec.String())
			}
			return err
		})
	cmd.Flags().BoolVar(&trace, "trace", false, "print the protocol conversation (commands, responses, HTTP headers; no secrets or message bodies)")
	return cmd
}

// cmdTest is Test Connection: connect, secure, authenticate, open the
// folder, and report what the server offers. On failure it prints one
// line naming the step that failed and exits 1.
func cmdTest(ctx context.Context, j *job.Job, sess mailbox.Session, stdout io.Writer) error {
	info := sess.Info()
	fmt.Fprintf(stdout, "job %s: connection OK\n", j.ID)
	fmt.Fprintf(stdout, "  server:       %s (%s, security %s)\n", info.Server, info.Protocol, info.Security)
	if p := j.Server.Proxy; p != "" && p != job.ProxyDirect {
		host, _, _ := net.SplitHostPort(info.Server)
		fmt.Fprintf(stdout, "  proxy:        %s\n", connect.Route(j, host))
	}
	if info.Auth != "" {
		fmt.Fprintf(stdout, "  signed in:    %s\n", info.Auth)
	}
	fmt.Fprintf(stdout, "  folder:       %s (delimiter %q)\n", info.Folder, info.Delimiter)
	unseen := fmt.Sprint(info.Unseen)
	if info.Unseen < 0 {
		unseen = "unknown"
	}
	fmt.Fprintf(stdout, "  messages:     %d (%s unseen)\n", info.Messages, unseen)
	fmt.Fprintf(stdout, "  capabilities: %s\n", strings.Join(info.Capabilities, " "))
	for _, n := range info.Notes {
		if w, ok := strings.CutPrefix(n, "warning: "); ok {
			fmt.Fprintf(stdout, "  warning:      %s\n", w)
			continue
		}
		fmt.Fprintf(stdout, "  note:         %s\n", n)
	}
	if j.Server.WeakTLS() {
		fmt.Fprintf(stdout, "  warning:      server.minTLS %s accepts TLS versions with known weaknesses (RFC 8996 deprecates TLS 1.0 and 1.1): upgrade the server and remove minTLS\n", j.Server.MinTLS)
	}
	return nil
}
