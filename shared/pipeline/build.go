package pipeline

import (
	"context"
	"log/slog"
	"time"

	"mailconnector/shared/blob"
	"mailconnector/shared/event"
	"mailconnector/shared/fetch"
	"mailconnector/shared/job"
	"mailconnector/shared/notify"
	"mailconnector/shared/preprocess"
	"mailconnector/shared/queue/memqueue"
	"mailconnector/shared/rules"
	"mailconnector/shared/store"
)

// Config is what Build needs: the state and the mailboxes.
type Config struct {
	Jobs      *job.File
	Store     store.Store
	Blobs     blob.Store
	Opener    fetch.Opener
	Notifier  notify.Notifier
	Publisher event.Publisher
	Logger    *slog.Logger

	// ErrorDetails keeps the sealed details of mails moved to the error
	// folder (fetch.Options.ErrorDetails); nil keeps their raw copies.
	ErrorDetails blob.Store

	// Workers per queue (default 4), Visibility of a received message
	// (default 30s), MaxReceives before the dead-letter queue (default 3).
	Workers     int
	Visibility  time.Duration
	MaxReceives int
	// LeaseTTL overrides how long a fetch run holds its job (tests).
	LeaseTTL time.Duration
	// Crash injects crashes into fetch runs (tests).
	Crash func(step fetch.Step, keys []string) error
	Now   func() time.Time
	// Progress receives each fetch run's advance after every batch.
	Progress func(fetch.Progress)
}

// Build wires the stages with in-process queues.
func Build(c Config) *Local {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxReceives == 0 {
		c.MaxReceives = 3
	}
	prepDLQ := memqueue.New(nil)
	rulesDLQ := memqueue.New(nil)
	prepQ := memqueue.New(&memqueue.Options{MaxReceives: c.MaxReceives, DeadLetter: prepDLQ})
	rulesQ := memqueue.New(&memqueue.Options{MaxReceives: c.MaxReceives, DeadLetter: rulesDLQ})
	var local *Local
	f := fetch.New(fetch.Options{
		Throttle: func(ctx context.Context) error { return local.throttle(ctx) },
		Store:    c.Store, Blobs: c.Blobs, Queue: prepQ, Opener: c.Opener,
		Notifier: c.Notifier, Logger: c.Logger, Crash: c.Crash, Now: c.Now, LeaseTTL: c.LeaseTTL,
		Progress:     c.Progress,
		ErrorDetails: c.ErrorDetails,
	})
	p := preprocess.NewStage(preprocess.StageOptions{
		Store: c.Store, Blobs: c.Blobs, Jobs: c.Jobs, Next: rulesQ, Logger: c.Logger, Now: c.Now,
	})
	r := rules.NewStage(rules.StageOptions{
		Store: c.Store, Blobs: c.Blobs, Jobs: c.Jobs, Publisher: c.Publisher, Notifier: c.Notifier, Logger: c.Logger, Now: c.Now,
	})
	local = New(Options{
		Jobs: c.Jobs, Store: c.Store, Fetch: f, Preprocess: p, Rules: r,
		PreprocessQueue: prepQ, RulesQueue: rulesQ, PreprocessDLQ: prepDLQ, RulesDLQ: rulesDLQ,
		Logger: c.Logger, Workers: c.Workers, Visibility: c.Visibility,
	})
	return local
}
