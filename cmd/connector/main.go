// Command connector is the operator's tool and the local runner of Mail
// Connector: it runs jobs (or the embedded demo), tests a job's
// connection, fetches a sample message, shows runs and requests, and
// preprocesses one .eml file to JSON.
//
//	connector run [--jobs FILE] [--state DIR] [--once] [--job ID]
//	connector test JOB [--jobs FILE]
//	connector sample JOB [--jobs FILE]
//	connector runs JOB [--limit N]
//	connector requests [ID] [--job ID] [--limit N]
//	connector preprocess FILE.eml [--jobs FILE --job ID]
//	connector rules test --jobs FILE --job ID FILE.eml
//	connector oauth login JOB [--jobs FILE]
//
// Every command takes --jobs FILE (default $CONNECTOR_JOBS) and --state DIR
// (default $CONNECTOR_STATE, else ./.connector).
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
	"syscall"

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

const usage = `usage: connector <command> [arguments]

commands:
  run [--once] [--job ID]     run the jobs file's jobs (no --jobs: the embedded demo)
  test JOB                    test a job's connection (exit 0 when it works)
  sample JOB                  show the oldest message of a job's folder; changes nothing
  runs JOB                    show a job's recent runs and their errors
  requests [ID]               list requests, or show one with its conversations
  preprocess FILE.eml         print the preprocessed message as JSON
  rules test --job ID FILE.eml  what the job's statements would do with a message; changes nothing
  oauth login JOB             sign in as the mailbox's user (device code); stores the refresh token in the job's secret

every command takes --jobs FILE and --state DIR`

// realMain runs one command. Everything it writes, and the error it
// returns, has every secret value masked (redact): the secret resolvers
// and the token code register each value they see.
func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	// Header-derived text may hold terminal escapes (a value stored
	// before normalization stripped them): nothing reaches the terminal raw.
	stdout, stderr = controlchar.Writer(stdout), controlchar.Writer(stderr)
	stdout, stderr = redact.Writer(stdout), redact.Writer(stderr)
	defer func() {
		var ee *exitError
		if errors.As(err, &ee) {
			ee.msg = redact.String(ee.msg)
			return
		}
		err = redact.Error(err)
	}()
	if len(args) == 0 {
		return &exitError{code: 2, msg: usage}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return cmdRun(ctx, rest, stdout, stderr)
	case "test":
		return cmdTest(ctx, rest, stdout, stderr)
	case "sample":
		return cmdSample(ctx, rest, stdout, stderr)
	case "runs":
		return cmdRuns(ctx, rest, stdout, stderr)
	case "requests":
		return cmdRequests(ctx, rest, stdout, stderr)
	case "preprocess":
		return cmdPreprocess(ctx, rest, stdout, stderr)
	case "rules":
		return cmdRules(ctx, rest, stdout, stderr)
	case "oauth":
		return cmdOAuth(ctx, rest, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return &exitError{code: 2, msg: fmt.Sprintf("connector: unknown command %q\n%s", cmd, usage)}
}
