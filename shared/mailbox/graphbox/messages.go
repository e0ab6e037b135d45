package graphbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"mailconnector/shared/ledger"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/mailconn"
)

// pageSize is the delta page size asked for (odata.maxpagesize).
const pageSize = 100

// callTimeout bounds one call that is not a message download: the
// server's timeout plus the time it may spend waiting out throttling.
func (s *Session) callTimeout() time.Duration {
	t := s.cfg.Timeout()
	if t <= 0 {
		t = 30 * time.Second
	}
	return t + s.http.Transport.(*transport).maxWait
}

// resyncNeeded reports whether a delta link was refused so that only a
// full resync helps (https://learn.microsoft.com/graph/delta-query-overview#synchronization-reset).
func resyncNeeded(err error) bool {
	switch statusOf(err) {
	case http.StatusGone:
		return true
	case http.StatusBadRequest, http.StatusNotFound:
		code := strings.ToLower(codeOf(err))
		return strings.Contains(code, "syncstate") || strings.Contains(code, "resync") || strings.Contains(code, "token")
	}
	return false
}

// deltaPage is one page of a delta query on a folder's messages
// (https://learn.microsoft.com/graph/api/message-delta): the messages
// added or changed, with @removed on those that left the folder, and
// either the next page's link or, on the last page, the delta link.
type deltaPage struct {
	Value []struct {
		ID       string          `json:"id"`
		Received string          `json:"receivedDateTime"`
		Removed  json.RawMessage `json:"@removed"`
	} `json:"value"`
	Next  string `json:"@odata.nextLink"`
	Delta string `json:"@odata.deltaLink"`
}

// Scan runs one delta round: from the cursor (a delta link) or, with "",
// over the whole folder.
func (s *Session) Scan(ctx context.Context, cursor string) (*mailbox.Scan, error) {
	link, reset := cursor, false
	if link != "" && !strings.Contains(link, "/mailFolders/"+s.folder+"/") {
		// Another folder's delta link: the job changed its folder.
		link, reset = "", true
	}
	type found struct {
		id       string
		received time.Time
	}
	seen := map[string]found{}
	var delta string
	for {
		target := link
		if target == "" {
			target = s.folderPath(s.folder) + "/messages/delta?$select=id,receivedDateTime,isRead"
		}
		var page deltaPage
		cctx, cancel := context.WithTimeout(ctx, s.callTimeout())
		err := s.call(cctx, http.MethodGet, target, nil, &page, "Prefer", "odata.maxpagesize="+strconv.Itoa(pageSize))
		cancel()
		if err != nil {
			if link != "" && !reset && resyncNeeded(err) {
				s.cfg.logger().Warn("graph refused the delta link; resyncing the folder", "mailbox", s.user, "folder", s.info.Folder, "err", err)
				link, reset, seen = "", true, map[string]found{}
				continue
			}
			return nil, s.opError("list new mail (delta)", err)
		}
		for _, m := range page.Value {
			if m.Removed != nil || m.ID == "" {
				continue
			}
			f := found{id: m.ID}
			if t, err := time.Parse(time.RFC3339, m.Received); err == nil {
				f.received = t
			}
			seen[m.ID] = f
		}
		if page.Next != "" {
			link = page.Next
			continue
		}
		if page.Delta == "" {
			return nil, s.opError("list new mail (delta)", errors.New("the delta round ended without a delta link"))
		}
		delta = page.Delta
		break
	}
	list := make([]found, 0, len(seen))
	for _, f := range seen {
		list = append(list, f)
	}
	sort.Slice(list, func(i, j int) bool {
		if !list[i].received.Equal(list[j].received) {
			return list[i].received.Before(list[j].received)
		}
		return list[i].id < list[j].id
	})
	// The delta link covers the whole round, so it may be stored only once
	// every item is recorded: the items before the last keep the cursor the
	// round started from ("" after a reset).
	before := cursor
	if reset {
		before = ""
	}
	sizes, err := s.sizes(ctx, list2ids(list, func(f found) string { return f.id }))
	if err != nil {
		return nil, s.opError("read message sizes", err)
	}
	sc := &mailbox.Scan{Cursor: delta, Reset: reset}
	s.rank = make(map[string]int, len(list))
	for i, f := range list {
		s.rank[f.id] = i
		it := mailbox.Item{Source: ledger.Source{Protocol: "graph", Folder: s.info.Folder, ID: f.id}, Size: sizes[f.id], Cursor: before}
		if i == len(list)-1 {
			it.Cursor = delta
		}
		sc.Items = append(sc.Items, it)
	}
	return sc, nil
}

func list2ids[T any](list []T, id func(T) string) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = id(v)
	}
	return out
}

// sizeProperty is PidTagMessageSize as a Graph extended property: the
// message's size, which no message property carries in v1.0.
const sizeProperty = "singleValueExtendedProperties($filter=id eq 'Integer 0x0E08')"

// sizes reads the size of each message, 20 to a JSON batch. A message
// that vanished meanwhile has no size (Fetch then reports it gone).
func (s *Session) sizes(ctx context.Context, ids []string) (map[string]int64, error) {
	out := make(map[string]int64, len(ids))
	for start := 0; start < len(ids); start += batchSize {
		chunk := ids[start:min(start+batchSize, len(ids))]
		reqs := make([]batchRequest, len(chunk))
		for i, id := range chunk {
			reqs[i] = batchRequest{ID: strconv.Itoa(i), Method: http.MethodGet,
				URL: s.messagePath(id) + "?$select=id&$expand=" + url.QueryEscape(sizeProperty)}
		}
		res, err := s.batch(ctx, reqs)
		if err != nil {
			return nil, err
		}
		for i, id := range chunk {
			r, ok := res[strconv.Itoa(i)]
			if !ok || r.Status != http.StatusOK {
				continue
			}
			var body struct {
				Props []struct{ ID, Value string } `json:"singleValueExtendedProperties"`
			}
			if json.Unmarshal(r.Body, &body) != nil {
				continue
			}
			for _, p := range body.Props {
				if strings.EqualFold(p.ID, "Integer 0xe08") {
					out[id], _ = strconv.ParseInt(p.Value, 10, 64)
				}
			}
		}
	}
	return out, nil
}

// opError names the operation; the error it wraps stays one that
// errors.Is and errors.As find (mailbox.ErrThrottled, *GraphError).
func (s *Session) opError(op string, err error) error {
	return fmt.Errorf("graph: %s: %w", op, err)
}

func (s *Session) messageURL(id string) string {
	return s.root + s.messagePath(id)
}

// Fetch streams each message's MIME content from $value, oldest first
// (in the order of the last Scan).
func (s *Session) Fetch(ctx context.Context, items []mailbox.Item, fn func(mailbox.Item, io.Reader) error) error {
	sorted := append([]mailbox.Item(nil), items...)
	sort.SliceStable(sorted, func(i, j int) bool {
		ri, oki := s.rank[sorted[i].Source.ID]
		rj, okj := s.rank[sorted[j].Source.ID]
		if oki != okj {
			return oki
		}
		return ri < rj
	})
	for _, it := range sorted {
		if err := s.fetchOne(ctx, it, fn); err != nil {
			return err
		}
	}
	return nil
}

func (s *Session) fetchOne(ctx context.Context, it mailbox.Item, fn func(mailbox.Item, io.Reader) error) error {
	// A download may be long; a stalled one ends with the run's context or
	// after this bound.
	ctx, cancel := context.WithTimeout(ctx, max(10*s.callTimeout(), 10*time.Minute))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.messageURL(it.Source.ID)+"/$value", nil)
	if err != nil {
		return err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("graph: fetch %s: %w", it.Source, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fn(it, nil)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("graph: fetch %s: %w", it.Source, readError(resp))
	}
	return fn(it, resp.Body)
}

// readError turns an error answer into a *GraphError.
func readError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return odataError(resp.StatusCode, body)
}

// batchSize is Graph's limit of requests in one JSON batch.
const batchSize = 20

type batchRequest struct {
	ID      string            `json:"id"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    any               `json:"body,omitempty"`
}

type batchResponse struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

var _ mailbox.Folders = (*Session)(nil)

// HasFolders says that a Graph mailbox has mail folders
// (https://learn.microsoft.com/graph/api/resources/mailfolder).
func (s *Session) HasFolders() {}

// DisposesBetweenFetches marks the session a mailbox.Interleaver: Fetch
// asks for messages by their immutable ids, which moving other messages
// leaves alone.
func (s *Session) DisposesBetweenFetches() {}

// Dispose applies the dispositions in JSON batches of up to 20.
func (s *Session) Dispose(ctx context.Context, ds []mailbox.Disposition) []error {
	errs := make([]error, len(ds))
	var reqs []batchRequest
	for i, d := range ds {
		path := s.messagePath(d.Source.ID)
		if d.Source.Protocol != "graph" {
			errs[i] = fmt.Errorf("graph: dispose %s: %w", d.Source, mailbox.ErrStaleSource)
			continue
		}
		switch d.Action {
		case mailbox.MarkRead:
			reqs = append(reqs, batchRequest{Method: http.MethodPatch, URL: path, Headers: map[string]string{"Content-Type": "application/json"}, Body: map[string]any{"isRead": true}})
		case mailbox.Delete:
			reqs = append(reqs, batchRequest{Method: http.MethodDelete, URL: path})
		case mailbox.Move:
			cctx, cancel := context.WithTimeout(ctx, s.callTimeout())
			dst, err := s.resolveFolder(cctx, d.Folder, true)
			cancel()
			if err != nil {
				errs[i] = fmt.Errorf("graph: move %s to %q: %w", d.Source, d.Folder, s.opError("resolve folder", err))
				continue
			}
			reqs = append(reqs, batchRequest{Method: http.MethodPost, URL: path + "/move", Headers: map[string]string{"Content-Type": "application/json"}, Body: map[string]any{"destinationId": dst}})
		default:
			errs[i] = fmt.Errorf("graph: dispose %s: unknown action %q", d.Source, d.Action)
			continue
		}
		reqs[len(reqs)-1].ID = strconv.Itoa(i)
	}
	for start := 0; start < len(reqs); start += batchSize {
		chunk := reqs[start:min(start+batchSize, len(reqs))]
		res, err := s.batch(ctx, chunk)
		for _, r := range chunk {
			i, _ := strconv.Atoi(r.ID)
			d := ds[i]
			switch br, ok := res[r.ID]; {
			case err != nil:
				errs[i] = fmt.Errorf("graph: %s %s: %w", d.Action, d.Source, err)
			case !ok:
				errs[i] = fmt.Errorf("graph: %s %s: no answer in the batch", d.Action, d.Source)
			case br.Status == http.StatusNotFound:
				errs[i] = fmt.Errorf("graph: %s %s: %w", d.Action, d.Source, mailbox.ErrGone)
			case br.Status >= 300:
				errs[i] = fmt.Errorf("graph: %s %s: %w", d.Action, d.Source, batchError(br))
			}
		}
	}
	return errs
}

// batch sends one JSON batch; requests answered 429 or 503 inside it are
// sent again after their Retry-After, within the throttling budget.
func (s *Session) batch(ctx context.Context, reqs []batchRequest) (map[string]batchResponse, error) {
	out := map[string]batchResponse{}
	pending := reqs
	var waited time.Duration
	for attempt := 0; len(pending) > 0; attempt++ {
		body, err := json.Marshal(map[string]any{"requests": pending})
		if err != nil {
			return nil, err
		}
		cctx, cancel := context.WithTimeout(ctx, s.callTimeout())
		req, err := http.NewRequestWithContext(cctx, http.MethodPost, s.root+"/$batch", bytes.NewReader(body))
		if err != nil {
			cancel()
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := s.http.Do(req)
		if err != nil {
			cancel()
			return nil, err
		}
		var res struct {
			Responses []batchResponse `json:"responses"`
		}
		if resp.StatusCode != http.StatusOK {
			err = readError(resp)
		} else {
			err = json.NewDecoder(resp.Body).Decode(&res)
		}
		resp.Body.Close()
		cancel()
		if err != nil {
			return nil, err
		}
		var again []batchRequest
		var delay time.Duration
		byID := map[string]batchRequest{}
		for _, r := range pending {
			byID[r.ID] = r
		}
		for _, r := range res.Responses {
			if r.Status == http.StatusTooManyRequests || r.Status == http.StatusServiceUnavailable {
				again = append(again, byID[r.ID])
				d := time.Second << min(attempt, 5)
				if n, err := strconv.Atoi(r.Headers["Retry-After"]); err == nil {
					d = time.Duration(n) * time.Second
				}
				delay = max(delay, d)
				continue
			}
			out[r.ID] = r
		}
		if len(again) == 0 {
			break
		}
		limit := s.http.Transport.(*transport).maxWait
		if waited+delay > limit {
			return out, &ThrottledError{Waited: waited, RetryAfter: delay}
		}
		if err := mailconn.Sleep(ctx, delay); err != nil {
			return out, err
		}
		waited += delay
		pending = again
	}
	return out, nil
}
