package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"mailconnector/shared/preprocess"
	"mailconnector/shared/request"
	"mailconnector/shared/rules"
	"mailconnector/shared/store"
)

// dryRun is the JSON contract of `connector rules test`.
type dryRun struct {
	Statement string `json:"statement"` // "" for the defaults
	Action    string `json:"action"`    // create, update, ignore, reject
	// Fields are the request fields a create would set.
	Fields map[string]string `json:"fields,omitempty"`
	// Request is the request an update would add the conversation to.
	Request *dryRequest `json:"request,omitempty"`
	Reason  string      `json:"reason,omitempty"`
	Why     []string    `json:"why"`
}

type dryRequest struct {
	ID         string `json:"id"`
	Number     int64  `json:"number"`
	Title      string `json:"title"`
	Status     string `json:"status"`
	ThreadedBy string `json:"threadedBy"`
}

// cmdRules is `connector rules test --jobs FILE --job ID FILE.eml`: the
// processing statements' decision on a saved message, changing nothing.
// Threading looks requests up in the state (local, or --aws).
func cmdRules(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "test" {
		return &exitError{code: 2, msg: "usage: connector rules test --jobs FILE --job ID FILE.eml"}
	}
	var c common
	fs := newFlagSet("rules test", stderr)
	c.register(fs)
	jobID := fs.String("job", "", "the job whose statements decide")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 || *jobID == "" {
		return &exitError{code: 2, msg: "usage: connector rules test --jobs FILE --job ID FILE.eml"}
	}
	jobs, err := c.loadJobs()
	if err != nil {
		return err
	}
	j, err := findJob(jobs, *jobID)
	if err != nil {
		return err
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("connector: %v", err)}
	}
	defer f.Close()
	m, err := preprocess.Process(ctx, f, &preprocess.Options{Job: j})
	if err != nil {
		return fmt.Errorf("preprocess %s: %w", pos[0], err)
	}
	var lookup rules.Lookup = emptyLookup{}
	if c.aws || stateExists(c.stateDir) {
		b, err := c.backend(ctx)
		if err != nil {
			return err
		}
		defer b.close()
		lookup = b.store
	}
	d, err := (&rules.Engine{Lookup: lookup}).Decide(ctx, j, m)
	if err != nil {
		return fmt.Errorf("decide: %w", err)
	}
	out := dryRun{Statement: d.Statement, Action: d.Action, Fields: d.Fields, Reason: d.Reason, Why: d.Why}
	if d.Action == rules.Update {
		r, err := lookup.Request(ctx, d.RequestID)
		if err != nil {
			return fmt.Errorf("read request %s: %w", d.RequestID, err)
		}
		out.Request = &dryRequest{ID: r.ID, Number: r.Number, Title: r.Title, Status: string(r.Status), ThreadedBy: d.ThreadedBy}
	}
	if d.Action == rules.Create && out.Fields == nil {
		out.Fields = map[string]string{}
	}
	if d.Action == rules.Create {
		if _, ok := out.Fields["title"]; !ok {
			out.Fields["title"] = m.Subject
		}
		if _, ok := out.Fields["requester"]; !ok {
			out.Fields["requester"] = m.From.Address
		}
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func stateExists(dir string) bool {
	_, err := os.Stat(dir)
	return err == nil
}

// emptyLookup finds no request: a dry run without any state.
type emptyLookup struct{}

func (emptyLookup) Request(context.Context, string) (request.Request, error) {
	return request.Request{}, store.ErrNotFound
}
func (emptyLookup) RequestByNumber(context.Context, int64) (request.Request, error) {
	return request.Request{}, store.ErrNotFound
}
func (emptyLookup) RequestByMessageID(context.Context, string) (request.Request, error) {
	return request.Request{}, store.ErrNotFound
}
func (emptyLookup) ListRequests(context.Context, string, int) ([]request.Request, error) {
	return nil, nil
}
