// Package prune keeps the local state directory within the jobs file's
// retention, as the bucket's lifecycle rules do on AWS (infra/): it
// removes each job's raw messages and run traces older than
// retention.rawDays, and its normalized messages and attachments older
// than retention.normalizedDays, counted from when the object was written
// (its modification time, as S3 counts from an object's creation).
//
// Unlike the lifecycle rules, it asks the ledger first: an object that a
// message without a final outcome still needs is kept past retention,
// whatever its age — a message waiting in a queue, one whose outcome is not
// yet applied on the server, and one in the error folder, which may be
// retried. The ledger itself, the requests and the conversations are
// history, not objects: they stay. The sealed error details (err/) have no
// lifecycle rule on AWS, and stay here too.
package prune

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"mailconnector/shared/blob"
	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
)

// Class is a kind of object with a retention of its own.
type Class string

// The classes of objects, by what retention field keeps them.
const (
	Raw        Class = "raw"        // raw/<job>/: retention.rawDays
	Trace      Class = "trace"      // traces/<job>/: retention.rawDays
	Normalized Class = "normalized" // norm/<job>/ and att/<job>/: retention.normalizedDays
)

// Prefix is where one class of objects lives: Name/<job>/ in the blob
// directory, or in the bucket.
type Prefix struct {
	Name  string
	Class Class
	// Days is how long the retention keeps the class.
	Days func(job.Retention) int
}

// Prefixes is the layout retention applies to (ledger.RawKey,
// ledger.NormKey, ledger.AttachmentPrefix, mailtrace's traces/): the
// bucket's lifecycle rules (infra/) and Run alike.
var Prefixes = []Prefix{
	{"raw", Raw, func(r job.Retention) int { return r.RawDays }},
	{"traces", Trace, func(r job.Retention) int { return r.RawDays }},
	{"norm", Normalized, func(r job.Retention) int { return r.NormalizedDays }},
	{"att", Normalized, func(r job.Retention) int { return r.NormalizedDays }},
}

// Ledger finds the messages of a job that have no final outcome yet, or
// whose outcome still waits on the server.
type Ledger interface {
	Unfinished(ctx context.Context, jobID string, before time.Time, limit int) ([]ledger.Entry, error)
	Undisposed(ctx context.Context, jobID string, limit int) ([]ledger.Entry, error)
	ErrorFolder(ctx context.Context, jobID string, limit int) ([]ledger.Entry, error)
}

// Options say what to prune. Every field but Now and DryRun is required.
type Options struct {
	// Dir is the blob directory (fileblob's), walked for objects.
	Dir string
	// Blobs is the store over Dir: objects are removed through it, so a
	// cache in front of the directory forgets them too.
	Blobs  blob.Store
	Jobs   *job.File
	Ledger Ledger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// DryRun removes nothing and reports what it would remove.
	DryRun bool
}

// Tally counts objects and their bytes.
type Tally struct {
	Objects int
	Bytes   int64
}

func (t *Tally) add(n int64) { t.Objects++; t.Bytes += n }

// Kept is an object past retention kept for a message.
type Kept struct {
	Object string // its blob key
	Key    string // the ledger key of the message that needs it
	Why    string // what the message waits for
}

// Job is what a prune did in one job's objects.
type Job struct {
	ID string
	// Gone is true for a job no longer in the jobs file: its objects are
	// kept as long as the longest retention of the file.
	Gone      bool
	Retention job.Retention
	// Removed counts the objects removed (with DryRun: to remove) by class.
	Removed map[Class]Tally
	Kept    []Kept
}

// Total counts the objects removed in every class.
func (j Job) Total() Tally {
	var t Tally
	for _, c := range j.Removed {
		t.Objects += c.Objects
		t.Bytes += c.Bytes
	}
	return t
}

// Report is what one prune did, job by job in id order.
type Report struct {
	DryRun bool
	Jobs   []Job
}

// Total counts the objects removed and kept in every job.
func (r Report) Total() (removed Tally, kept int) {
	for _, j := range r.Jobs {
		t := j.Total()
		removed.Objects += t.Objects
		removed.Bytes += t.Bytes
		kept += len(j.Kept)
	}
	return removed, kept
}

// Run prunes the blob directory. On an error it returns what it did so
// far with it.
func Run(ctx context.Context, o Options) (Report, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	p := &pruner{o: o, now: o.Now(), jobs: map[string]*jobState{}}
	for i := range o.Jobs.Jobs {
		p.job(o.Jobs.Jobs[i].ID)
	}
	var err error
	for _, l := range Prefixes {
		if err = p.walk(ctx, l.Name, l.Class, l.Days); err != nil {
			break
		}
	}
	rep := Report{DryRun: o.DryRun}
	for _, js := range p.jobs {
		rep.Jobs = append(rep.Jobs, js.Job)
	}
	sort.Slice(rep.Jobs, func(a, b int) bool { return rep.Jobs[a].ID < rep.Jobs[b].ID })
	return rep, err
}

type pruner struct {
	o    Options
	now  time.Time
	jobs map[string]*jobState
}

// jobState is one job's report and, once an object of it is past
// retention, what its pending messages need.
type jobState struct {
	Job
	needs *needs
}

func (p *pruner) job(id string) *jobState {
	js, ok := p.jobs[id]
	if !ok {
		_, inFile := p.o.Jobs.Job(id)
		js = &jobState{Job: Job{ID: id, Gone: !inFile, Retention: p.o.Jobs.RetentionOf(id), Removed: map[Class]Tally{}}}
		p.jobs[id] = js
	}
	return js
}

// walk prunes the objects under prefix/<job>/ of class, past the days
// the job's retention gives them.
func (p *pruner) walk(ctx context.Context, prefix string, class Class, days func(job.Retention) int) error {
	root := filepath.Join(p.o.Dir, prefix)
	dirs, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("prune: list %s: %w", root, err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		js := p.job(d.Name())
		cutoff := p.now.Add(-time.Duration(days(js.Retention)) * 24 * time.Hour)
		// The directories below the job's that may be empty now (a
		// message's attachments), parents first. The job's own stays: a
		// Put may be about to write into it.
		var emptied []string
		top := filepath.Join(root, d.Name())
		err := filepath.WalkDir(top, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if e.IsDir() {
				if path != top {
					emptied = append(emptied, path)
				}
				return nil
			}
			if strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
				return nil // a Put still writing, or not an object
			}
			info, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed meanwhile
			}
			if err != nil {
				return err
			}
			if !info.ModTime().Before(cutoff) {
				return nil
			}
			rel, err := filepath.Rel(p.o.Dir, path)
			if err != nil {
				return err
			}
			return p.expire(ctx, js, filepath.ToSlash(rel), class, info.Size())
		})
		if err != nil {
			return fmt.Errorf("prune: %s/%s: %w", prefix, d.Name(), err)
		}
		if !p.o.DryRun {
			for i := len(emptied) - 1; i >= 0; i-- {
				_ = os.Remove(emptied[i]) // only succeeds when empty
			}
		}
	}
	return nil
}

// expire removes the object key, past retention, unless a message that
// is not final needs it.
func (p *pruner) expire(ctx context.Context, js *jobState, key string, class Class, size int64) error {
	if js.needs == nil {
		n, err := p.needsOf(ctx, js.ID)
		if err != nil {
			return err
		}
		js.needs = n
	}
	if k, ok := js.needs.of(key); ok {
		k.Object = key
		js.Kept = append(js.Kept, k)
		return nil
	}
	if !p.o.DryRun {
		if err := p.o.Blobs.Delete(ctx, key); err != nil {
			return err
		}
	}
	t := js.Removed[class]
	t.add(size)
	js.Removed[class] = t
	return nil
}

// needs are the objects a job's messages without a final outcome need.
type needs struct {
	objects  map[string]Kept // by blob key
	prefixes map[string]Kept // attachment prefixes
}

func (n *needs) of(key string) (Kept, bool) {
	if k, ok := n.objects[key]; ok {
		return k, true
	}
	if i := strings.LastIndexByte(key, '/'); i >= 0 {
		k, ok := n.prefixes[key[:i+1]]
		return k, ok
	}
	return Kept{}, false
}

// needsOf asks the ledger which messages of the job are not final: their
// raw and normalized objects and attachments are needed (a retry's raw
// object is the one it retries).
func (p *pruner) needsOf(ctx context.Context, jobID string) (*needs, error) {
	n := &needs{objects: map[string]Kept{}, prefixes: map[string]Kept{}}
	add := func(es []ledger.Entry, why func(ledger.Entry) string) {
		for _, e := range es {
			k := Kept{Key: e.Key, Why: why(e)}
			for _, obj := range []string{e.RawKey, ledger.RawKey(jobID, e.Key), e.NormKey, ledger.NormKey(jobID, e.Key)} {
				if _, seen := n.objects[obj]; obj != "" && !seen {
					n.objects[obj] = k
				}
			}
			if pre := ledger.AttachmentPrefix(jobID, e.Key); n.prefixes[pre] == (Kept{}) {
				n.prefixes[pre] = k
			}
		}
	}
	l := p.o.Ledger
	es, err := l.Unfinished(ctx, jobID, p.now.Add(24*time.Hour), 0)
	if err != nil {
		return nil, fmt.Errorf("list the messages not processed yet: %w", err)
	}
	add(es, func(e ledger.Entry) string { return "not processed yet (" + string(e.State) + ")" })
	if es, err = l.Undisposed(ctx, jobID, 0); err != nil {
		return nil, fmt.Errorf("list the messages whose outcome waits on the server: %w", err)
	}
	add(es, func(e ledger.Entry) string {
		return "outcome (" + string(e.Outcome()) + ") not yet applied on the server"
	})
	if es, err = l.ErrorFolder(ctx, jobID, 0); err != nil {
		return nil, fmt.Errorf("list the messages in the error folder: %w", err)
	}
	add(es, func(e ledger.Entry) string {
		return "in the error folder (" + string(e.Outcome()) + "), may be retried"
	})
	return n, nil
}
