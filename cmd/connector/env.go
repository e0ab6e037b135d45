package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

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
	quiet    bool
	// logFormat is text or json.
	logFormat string
	aws       bool
}

func (c *common) register(fs *pflag.FlagSet) {
	fs.StringVar(&c.jobsFile, "jobs", os.Getenv("CONNECTOR_JOBS"), "jobs file (YAML)")
	def := os.Getenv("CONNECTOR_STATE")
	if def == "" {
		def = ".connector"
	}
	fs.StringVar(&c.stateDir, "state", def, "state directory")
	fs.BoolVarP(&c.verbose, "verbose", "v", false, "log debug detail")
	fs.BoolVarP(&c.quiet, "quiet", "q", false, "log warnings and errors only")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.BoolVar(&c.aws, "aws", os.Getenv("CONNECTOR_AWS") == "1", "act on the deployed stack (CONNECTOR_TABLE, CONNECTOR_FETCH_FUNCTION, AWS credentials)")
}

func (c *common) logger(stderr io.Writer) *slog.Logger {
	lvl := slog.LevelInfo
	if c.quiet {
		lvl = slog.LevelWarn
	}
	if c.verbose {
		lvl = slog.LevelDebug
	}
	return c.loggerAt(stderr, lvl)
}

// loggerAt is a logger in the chosen format at level lvl.
func (c *common) loggerAt(stderr io.Writer, lvl slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: lvl}
	if c.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(stderr, opts))
	}
	return slog.New(slog.NewTextHandler(stderr, opts))
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

// job loads the jobs file and finds the job named id in it.
func (c *common) job(id string) (*job.Job, error) {
	jobs, err := c.loadJobs()
	if err != nil {
		return nil, err
	}
	return findJob(jobs, id)
}

// knownJob checks, when a jobs file is given, that id names one of its
// jobs; without one any id is taken, as the state may hold jobs no file
// at hand names.
func (c *common) knownJob(id string) error {
	if c.jobsFile == "" {
		return nil
	}
	_, err := c.job(id)
	return err
}

// jobState opens the state for a command about the stored history of job
// id, after knownJob.
func (c *common) jobState(ctx context.Context, id string) (*backend, error) {
	if err := c.knownJob(id); err != nil {
		return nil, err
	}
	return c.backend(ctx)
}

// jobBackend finds the job named id in the jobs file and opens the state.
func (c *common) jobBackend(ctx context.Context, id string) (*job.Job, *backend, error) {
	j, err := c.job(id)
	if err != nil {
		return nil, nil, err
	}
	b, err := c.backend(ctx)
	if err != nil {
		return nil, nil, err
	}
	return j, b, nil
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
	blobs, err := fileblob.New(blobDir(dir))
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

// blobDir is the blob directory of the state directory dir.
func blobDir(dir string) string { return filepath.Join(dir, "blobs") }

// opener opens mailbox sessions for jobs.
type opener = connect.Opener

// openJob finds the job named id and opens its mailbox; done closes the
// session and the state. A connection failure is one line naming the job
// and the step that failed.
func openJob(ctx context.Context, c *common, id string) (*job.Job, mailbox.Session, func(), error) {
	j, b, err := c.jobBackend(ctx, id)
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
