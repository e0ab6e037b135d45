package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"mailconnector/shared/blob/blobcache"
	"mailconnector/shared/blob/fileblob"
	"mailconnector/shared/connect"
	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/secrets"
	"mailconnector/shared/secrets/localsecrets"
	"mailconnector/shared/store/boltstore"
)

// common holds the flags every command takes.
type common struct {
	jobsFile string
	stateDir string
	verbose  bool
	aws      bool
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.jobsFile, "jobs", os.Getenv("CONNECTOR_JOBS"), "jobs file (YAML)")
	def := os.Getenv("CONNECTOR_STATE")
	if def == "" {
		def = ".connector"
	}
	fs.StringVar(&c.stateDir, "state", def, "state directory")
	fs.BoolVar(&c.verbose, "v", false, "log debug detail")
	fs.BoolVar(&c.aws, "aws", os.Getenv("CONNECTOR_AWS") == "1", "act on the deployed stack (CONNECTOR_TABLE, CONNECTOR_FETCH_FUNCTION, AWS credentials)")
}

// parse parses flags that may stand before or after the positional
// arguments, and returns the positional ones.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, &exitError{code: 2}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("connector "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func (c *common) logger(stderr io.Writer) *slog.Logger {
	lvl := slog.LevelInfo
	if c.verbose {
		lvl = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
}

// loadJobs reads the jobs file; it is required for every command but run.
func (c *common) loadJobs() (*job.File, error) {
	if c.jobsFile == "" {
		return nil, &exitError{code: 2, msg: "connector: --jobs FILE is required (or set CONNECTOR_JOBS)"}
	}
	f, err := job.LoadFile(c.jobsFile)
	if err != nil {
		return nil, &exitError{code: 1, msg: "connector: " + err.Error()}
	}
	return f, nil
}

func findJob(f *job.File, id string) (*job.Job, error) {
	j, ok := f.Job(id)
	if !ok {
		var ids []string
		for _, j := range f.Jobs {
			ids = append(ids, j.ID)
		}
		return nil, &exitError{code: 2, msg: fmt.Sprintf("connector: no job %q in the jobs file (jobs: %s)", id, strings.Join(ids, ", "))}
	}
	return j, nil
}

// local is the embedded state of one state directory.
type local struct {
	dir     string
	store   *boltstore.Store
	blobs   *blobcache.Store
	secrets secrets.Resolver
}

func openLocal(dir string) (*local, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	st, err := boltstore.Open(filepath.Join(dir, "state.db"), nil)
	if err != nil {
		return nil, fmt.Errorf("open state in %s: %w", dir, err)
	}
	blobs, err := fileblob.New(filepath.Join(dir, "blobs"))
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("open blob directory in %s: %w", dir, err)
	}
	// The next stage reads what the previous one just wrote: keep small
	// objects in memory (8 MB at most) so it does not touch the disk.
	cached := blobcache.New(blobs, 8<<20, 128<<10)
	return &local{dir: dir, store: st, blobs: cached, secrets: localsecrets.New(dir)}, nil
}

func (l *local) Close() error { return l.store.Close() }

// opener opens mailbox sessions for jobs.
type opener = connect.Opener

// openJob parses `connector NAME JOB` and opens the job's mailbox; done
// closes the session and the state. A connection failure is one line
// naming the job and the step that failed.
func openJob(ctx context.Context, name string, args []string, stderr io.Writer) (*job.Job, mailbox.Session, func(), error) {
	var c common
	fs := newFlagSet(name, stderr)
	c.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(pos) != 1 {
		return nil, nil, nil, &exitError{code: 2, msg: "usage: connector " + name + " JOB [--jobs FILE] [--state DIR] [--aws]"}
	}
	jobs, err := c.loadJobs()
	if err != nil {
		return nil, nil, nil, err
	}
	j, err := findJob(jobs, pos[0])
	if err != nil {
		return nil, nil, nil, err
	}
	b, err := c.backend(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	sess, err := opener{Secrets: b.secrets, Logger: c.logger(io.Discard)}.Open(ctx, j)
	if err != nil {
		b.close()
		var ce *mailbox.ConnectError
		if errors.As(err, &ce) {
			return nil, nil, nil, &exitError{code: 1, msg: fmt.Sprintf("job %s: %s failed: %v", j.ID, ce.Step, ce.Err)}
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "job "+j.ID+": ") {
			msg = "job " + j.ID + ": " + msg
		}
		return nil, nil, nil, &exitError{code: 1, msg: msg}
	}
	return j, sess, func() { sess.Close(); b.close() }, nil
}
