// Command connector is the operator's tool and the local runner of Mail
// Connector: it runs jobs (or the embedded demo), tests a job's
// connection, fetches a sample message, shows runs and requests, and
// preprocesses one .eml file to JSON.
//
//	connector run [--jobs FILE] [--state DIR] [--once] [--job ID]
//	connector test JOB [--jobs FILE]
//	connector sample JOB [--newest | --uid ID] [--save FILE.eml [--force]] [--rules] [--json]
//	connector runs JOB [--limit N]
//	connector jobs
//	connector disable JOB [--reason TEXT]
//	connector enable JOB
//	connector messages JOB [--status S] [--since D] [--from ADDR] [--subject TEXT] [--json]
//	connector messages show JOB KEY
//	connector messages find MESSAGE-ID|ADDRESS
//	connector retry JOB (KEY… | --status rejected|failed [--since D])
//	connector prune [--dry-run]
//	connector reset JOB [--yes]
//	connector requests [ID] [--job ID] [--limit N]
//	connector preprocess FILE.eml [--jobs FILE --job ID]
//	connector rules test --jobs FILE --job ID FILE.eml
//	connector oauth login JOB [--jobs FILE]
//	connector oauth link JOB --url WEBHOOK_URL [--jobs FILE]
//	connector migrate JOB --to graph [--jobs FILE]
//	connector schedules diff [JOB] [--aws]
//	connector schedules adopt JOB --aws
//	connector completion bash|zsh|fish|powershell
//	connector version
//
// Every command takes --jobs FILE (default $CONNECTOR_JOBS), --state DIR
// (default $CONNECTOR_STATE, else ./.connector), -v and --aws; flags may
// stand before or after the arguments.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"mailconnector/shared/controlchar"
	"mailconnector/shared/redact"
)

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		// Messages stream, so the live heap stays small whatever the
		// backlog; a soft limit keeps the collector from letting garbage
		// double it.
		debug.SetMemoryLimit(48 << 20)
	}
	if p := os.Getenv("CONNECTOR_CPUPROFILE"); p != "" {
		// For performance work: a CPU profile of the whole command.
		if f, err := os.Create(p); err == nil {
			_ = pprof.StartCPUProfile(f)
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := realMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		pprof.StopCPUProfile()
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.msg != "" {
				fmt.Fprintln(os.Stderr, controlchar.Escape(ee.msg, true))
			}
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "connector:", controlchar.Escape(err.Error(), true))
		os.Exit(1)
	}
}

// exitError ends the command with a code and a message.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// usageError is a command called with the wrong arguments: its usage
// line, exit code 2.
func usageError(cmd *cobra.Command) error {
	return &exitError{code: 2, msg: "usage: " + cmd.UseLine()}
}

// exactArgs accepts n positional arguments, else fails with the usage line.
func exactArgs(n int) cobra.PositionalArgs { return argsBetween(n, n) }

// argsBetween accepts min to max positional arguments, else fails with
// the usage line.
func argsBetween(min, max int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min || len(args) > max {
			return usageError(cmd)
		}
		return nil
	}
}

// command is a command that does one thing.
func command(use, short string, args cobra.PositionalArgs, run func(*cobra.Command, []string) error) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: args, RunE: run}
}

// group is a command that only holds subcommands: called alone, or with
// an unknown subcommand, it fails with their usage.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	g := &cobra.Command{
		Use:   use,
		Short: short,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var lines []string
			for _, sub := range cmd.Commands() {
				lines = append(lines, sub.UseLine())
			}
			return &exitError{code: 2, msg: "usage: " + strings.Join(lines, "\n       ")}
		},
	}
	g.AddCommand(subs...)
	return g
}

// realMain runs one command. Everything it writes, and the error it
// returns, has every secret value masked (redact): the secret resolvers
// and the token code register each value they see.
func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	// Header-derived text may hold terminal escapes (a value stored
	// before normalization stripped them): nothing reaches the terminal raw.
	// Progress rewrites its line on a terminal: it alone writes a
	// carriage return there, through the raw stderr.
	term, tty := stderr, isTerminal(stderr)
	stdout, stderr = controlchar.Writer(stdout), controlchar.Writer(stderr)
	stdout, stderr = redact.Writer(stdout), redact.Writer(stderr)
	if !tty {
		term = stderr
	}
	ctx = withProgressOut(ctx, redact.Writer(term), tty)
	defer func() {
		var ee *exitError
		if errors.As(err, &ee) {
			ee.msg = redact.String(ee.msg)
			return
		}
		err = redact.Error(err)
	}()
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

// app is what every command shares: the common flags and the output.
type app struct {
	common
	stdout, stderr io.Writer
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	a := &app{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "connector",
		Short:         "Run and inspect Mail Connector jobs",
		SilenceErrors: true,
		SilenceUsage:  true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return &exitError{code: 2, msg: fmt.Sprintf("connector: unknown command %q\n%s", args[0], cmd.UsageString())}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return &exitError{code: 2, msg: cmd.UsageString()}
		},
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if a.logFormat != "text" && a.logFormat != "json" {
				return cmd.FlagErrorFunc()(cmd, fmt.Errorf("--log-format %q: want text or json", a.logFormat))
			}
			return nil
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &exitError{code: 2, msg: fmt.Sprintf("%s: %v\n%s", cmd.CommandPath(), err, cmd.UsageString())}
	})
	a.register(root.PersistentFlags())
	root.AddCommand(newRunCmd(a), newTestCmd(a), newSampleCmd(a), newRunsCmd(a), newRequestsCmd(a),
		newPreprocessCmd(a), newRulesCmd(a), newOAuthCmd(a), newErrorsCmd(a), newMessagesCmd(a), newRetryCmd(a), newMigrateCmd(a), newVersionCmd(a), newSchedulesCmd(a),
		newJobsCmd(a), newDisableCmd(a), newEnableCmd(a),
		newPruneCmd(a), newResetCmd(a))
	var plain func(*cobra.Command)
	plain = func(c *cobra.Command) {
		// Each Use spells out its flags.
		c.DisableFlagsInUseLine = true
		for _, sub := range c.Commands() {
			plain(sub)
		}
	}
	plain(root)
	return root
}
