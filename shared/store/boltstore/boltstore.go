// Package boltstore implements store.Store in one embedded bbolt file, for
// the local runner and tests. It passes the storetest suite, so it behaves
// as the DynamoDB adapter does.
//
// Values are JSON. Keys that belong to a job start with the job ID
// prefixed by its length, so no job ID can be a prefix of another's keys.
// Secondary indexes (fingerprint, undisposed, unfinished, runs by start,
// requests by number and by job, Message-IDs) are buckets maintained in the
// same transaction as the record they point to.
//
// Commit and Update, which many goroutines call at once, go through a
// group commit: the calls waiting at the same time share one transaction
// and one fsync, with no timed delay for a lone caller (bbolt's DB.Batch
// waits MaxBatchDelay for company; this only yields the processor once).
// Every write is durable when its call returns.
package boltstore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"mailconnector/shared/store"
)

// Bucket names.
var (
	bucketLeases       = []byte("leases")
	bucketCursors      = []byte("cursors")
	bucketLedger       = []byte("ledger")            // job+key → entry
	bucketFingerprints = []byte("ledgerFingerprint") // job+fingerprint → key
	bucketUndisposed   = []byte("ledgerUndisposed")  // job+updatedAt+key → nil
	bucketUnfinished   = []byte("ledgerUnfinished")  // job+updatedAt+key → nil
	bucketErrorFolder  = []byte("ledgerErrorFolder") // job+updatedAt+key → nil
	bucketRuns         = []byte("runs")              // job+run id → run
	bucketRunsByStart  = []byte("runsByStart")       // job+startedAt+run id → nil
	bucketRequests     = []byte("requests")          // id → request; its sequence numbers requests
	bucketReqByNumber  = []byte("requestsByNumber")  // number → id
	bucketReqByJob     = []byte("requestsByJob")     // job+number → id
	bucketConvs        = []byte("conversations")     // request+createdAt+conversation id → conversation
	bucketMessageIDs   = []byte("messageIds")        // Message-ID → request id
	bucketJobStates    = []byte("jobStates")         // job → state
	bucketLedgerMsgIDs = []byte("ledgerMessageIds")  // job+Message-ID → key
)

var allBuckets = [][]byte{
	bucketLeases, bucketCursors, bucketLedger, bucketFingerprints, bucketLedgerMsgIDs,
	bucketUndisposed, bucketUnfinished, bucketErrorFolder, bucketRuns, bucketRunsByStart,
	bucketRequests, bucketReqByNumber, bucketReqByJob, bucketConvs,
	bucketMessageIDs, bucketJobStates, bucketSubscriptions, bucketPushPending, bucketOnce, bucketJobControls,
}

// ordered are the buckets whose new keys come after most of the existing
// ones (request numbers, times, IMAP UIDs). bbolt fills a page to half
// when a commit splits it, which suits keys that arrive in any order;
// these buckets' pages are filled to fillOrdered instead, so the file and
// the pages a run touches (its mapped, resident part) are smaller.
var ordered = [][]byte{bucketLedger, bucketRuns, bucketRunsByStart, bucketRequests, bucketReqByNumber, bucketReqByJob, bucketConvs, bucketLedgerByTime}

const fillOrdered = 0.9

// update runs fn in a read-write transaction, the ordered buckets' pages
// filled to fillOrdered.
func (s *Store) update(fn func(tx *bolt.Tx) error) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range ordered {
			if b := tx.Bucket(name); b != nil {
				b.FillPercent = fillOrdered
			}
		}
		return fn(tx)
	})
	s.used.Store(true)
	return err
}

// view runs fn in a read transaction.
func (s *Store) view(fn func(tx *bolt.Tx) error) error {
	err := s.db.View(fn)
	s.used.Store(true) // after: the pages it mapped are dropped next turn
	return err
}

// dropper lets go of the file's mapped pages every dropEvery while the
// store is in use (see dropMapped), until quit is closed. It is best
// effort: the pages stay mapped if it fails.
func (s *Store) dropper() {
	defer close(s.dropStopped)
	t := time.NewTicker(s.dropEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if s.used.Swap(false) {
				_ = dropMapped(s.db)
			}
		case <-s.quit:
			return
		}
	}
}

// Options tune the store; nil means defaults.
type Options struct {
	// Now is the clock for lease expiry; time.Now when nil.
	Now func() time.Time
	// OpenTimeout is how long Open waits for another process holding the
	// file; 1s when zero.
	OpenTimeout time.Duration
	// ReadOnly opens the file without writing to it (a dry run): reads
	// work, writes fail. Several read-only opens may share the file.
	ReadOnly bool
	// DropMappedEvery is how often the store lets go of the file's
	// mapped pages while it is in use (see dropMapped), so that the
	// resident memory of a long run stays bounded whatever the history;
	// 25ms when zero, never when negative.
	DropMappedEvery time.Duration
}

// Store is a store.Store in one bbolt file. It is safe for concurrent use.
type Store struct {
	db      *bolt.DB
	now     func() time.Time
	holder  holder // this open of the state, recorded in the leases it takes
	pidFile string // the pid file beside the state, removed on Close; "" when read-only
	// dropEvery is Options.DropMappedEvery, the pace of dropper; used
	// says a transaction ran since its last turn.
	dropEvery   time.Duration
	used        atomic.Bool
	dropStopped chan struct{} // closed when dropper has returned

	calls     chan *call    // to the writer goroutine
	quit      chan struct{} // closed by Close
	stopped   chan struct{} // closed when the writer has returned
	txns      atomic.Int64  // transactions the writer committed or tried
	closeOnce sync.Once
	closeErr  error
}

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("boltstore: store closed")

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the store file at path.
func Open(path string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.OpenTimeout <= 0 {
		o.OpenTimeout = time.Second
	}
	if o.DropMappedEvery == 0 {
		// At 100 ms a 50,000-message run held up to 46 MB of the file
		// mapped while it applied the dispositions of the messages it had
		// fetched (each an old entry, read and rewritten); at 25 ms, 27 MB,
		// and 8–9 MB instead of 10–12 MB the rest of the run, at the same
		// throughput (go run ./cmd/benchmark -scale 50000).
		o.DropMappedEvery = 25 * time.Millisecond
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: o.OpenTimeout,
		// The free list is written with each commit (a page or two), so
		// that opening the file reads it instead of walking every page of
		// the file to find the free ones: without it, each process start
		// cost time and memory in proportion to the history kept.
		NoFreelistSync: false,
		FreelistType:   bolt.FreelistMapType,
		ReadOnly:       o.ReadOnly,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("boltstore: open %s: another connector process holds the state directory (%s): %w", path, heldBy(path), err)
	}
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	missing := errors.New("missing")
	err = db.View(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("bucket %s %w", name, missing)
			}
		}
		return nil
	})
	switch {
	case errors.Is(err, missing) && o.ReadOnly:
		err = fmt.Errorf("%w (a state written by an older version: open it read-write once)", err)
	case errors.Is(err, missing):
		// A new state, or one written by an older version. A state that
		// has every bucket is opened without a write: a commit is two
		// syncs, a good part of a run that finds nothing new.
		err = db.Update(func(tx *bolt.Tx) error {
			for _, name := range allBuckets {
				if _, err := tx.CreateBucketIfNotExists(name); err != nil {
					return fmt.Errorf("create bucket %s: %w", name, err)
				}
			}
			return nil
		})
	}
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	var pidFile string
	if !o.ReadOnly {
		if err := writePID(path); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("boltstore: open %s: record the holding process: %w", path, err)
		}
		pidFile = pidPath(path)
	}
	s := &Store{
		db:        db,
		pidFile:   pidFile,
		now:       o.Now,
		holder:    newHolder(),
		dropEvery: o.DropMappedEvery,
		calls:     make(chan *call),
		quit:      make(chan struct{}),
		stopped:   make(chan struct{}),
	}
	go s.writer()
	s.dropStopped = make(chan struct{})
	if s.dropEvery > 0 {
		go s.dropper()
	} else {
		close(s.dropStopped)
	}
	return s, nil
}

// Close waits for the writes under way and closes the file.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.quit)
		<-s.stopped
		<-s.dropStopped
		if s.pidFile != "" {
			// Still under the lock: the next holder writes its own.
			_ = os.Remove(s.pidFile)
		}
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("boltstore: close: %w", err)
		}
	})
	return s.closeErr
}

// call is one function waiting for the writer.
type call struct {
	fn   func(*bolt.Tx) error
	err  error
	done chan struct{}
}

// batch runs fn in a transaction shared with the other callers waiting at
// the time (group commit): the writer goroutine takes every waiting call
// into one transaction and one fsync, and takes the calls that arrived
// meanwhile into the next. A lone caller waits for nobody.
//
// fn reports outcomes callers branch on (ErrConflict and the like) through
// its own variables and returns nil for them, so one caller's conflict does
// not roll back the others' writes; it returns an error only for a failed
// write, which rolls the group back, after which each function runs again
// alone. fn must therefore set its results afresh on every call.
func (s *Store) batch(fn func(tx *bolt.Tx) error) error {
	c := &call{fn: fn, done: make(chan struct{})}
	select {
	case s.calls <- c:
	case <-s.quit:
		return ErrClosed
	}
	<-c.done
	return c.err
}

// maxGroup bounds the calls one transaction takes.
const maxGroup = 1000

// writer runs the calls batch hands it until quit is closed.
func (s *Store) writer() {
	defer close(s.stopped)
	group := make([]*call, 0, maxGroup)
	for {
		select {
		case c := <-s.calls:
			group = append(group[:0], c)
		case <-s.quit:
			return
		}
		// Let the goroutines that are ready to run hand in their calls
		// before the group closes: a caller that has just been answered
		// is often about to write again, and without this yield it misses
		// the group by microseconds and pays for a commit of its own.
		// Measured in the end-to-end benchmark (5,000 messages, 8 workers
		// a stage): 4,218 commits for 25,153 calls before, 2,210 with it.
		runtime.Gosched()
	more:
		for len(group) < maxGroup {
			select {
			case c := <-s.calls:
				group = append(group, c)
			default:
				break more
			}
		}
		s.txns.Add(1)
		err := s.update(func(tx *bolt.Tx) error {
			for _, c := range group {
				if err := c.fn(tx); err != nil {
					return err
				}
			}
			return nil
		})
		for _, c := range group {
			if err != nil && len(group) > 1 {
				// Rolled back: find out whose it was by running each alone.
				c.err = s.update(c.fn)
			} else {
				c.err = err
			}
			close(c.done)
		}
	}
}

// jobKey is the job ID prefixed by its length, then parts appended.
func jobKey(jobID string, parts ...[]byte) []byte {
	n := binary.MaxVarintLen64 + len(jobID)
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n)
	k = binary.AppendUvarint(k, uint64(len(jobID)))
	k = append(k, jobID...)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

// timeLen is the length of timeKey's encoding.
const timeLen = 12

// timeKey encodes t so that byte order is time order: seconds since the
// epoch with the sign bit flipped, then nanoseconds, big-endian.
func timeKey(t time.Time) []byte {
	b := make([]byte, timeLen)
	binary.BigEndian.PutUint64(b, uint64(t.Unix())^(1<<63))
	binary.BigEndian.PutUint32(b[8:], uint32(t.Nanosecond()))
	return b
}

func numberKey(n int64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, uint64(n))
	return b
}

// successor returns the smallest key greater than every key starting with
// prefix, or nil when there is none.
func successor(prefix []byte) []byte {
	s := bytes.Clone(prefix)
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] < 0xff {
			s[i]++
			return s[:i+1]
		}
	}
	return nil
}

// scanDesc calls fn for keys with prefix, last first, until fn returns false.
func scanDesc(c *bolt.Cursor, prefix []byte, fn func(k, v []byte) (bool, error)) error {
	var k, v []byte
	if succ := successor(prefix); succ == nil {
		k, v = c.Last()
	} else if k, _ = c.Seek(succ); k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
		more, err := fn(k, v)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// scanAsc calls fn for keys with prefix, first first, until fn returns false.
func scanAsc(c *bolt.Cursor, prefix []byte, fn func(k, v []byte) (bool, error)) error {
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		more, err := fn(k, v)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("decode value of %q: %w", key, err)
	}
	return true, nil
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	if err := b.Put(key, data); err != nil {
		return fmt.Errorf("put: %w", err)
	}
	return nil
}

// errRequired reports an empty identifying field.
func errRequired(what string) error {
	return fmt.Errorf("boltstore: %s is required", what)
}
