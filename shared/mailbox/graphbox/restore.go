package graphbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"mailconnector/shared/mailbox"
)

var _ mailbox.Restorer = (*Session)(nil)

// restorePage is how many messages one look-up asks for ($top); more
// copies of one Message-ID are read from @odata.nextLink.
const restorePage = 50

// Restore moves the messages of folder whose internetMessageId is
// "<ids[i]>" into the session's folder. The folder is resolved as a move
// target is, without creating it; each Message-ID is looked up with
// GET /users/{id}/mailFolders/{id}/messages?$filter=internetMessageId eq '<…>'
// (https://learn.microsoft.com/graph/api/mailfolder-list-messages, the
// literal's quotes doubled as OData wants), and each message found is
// moved with POST /messages/{id}/move
// (https://learn.microsoft.com/graph/api/message-move), both 20 to a JSON
// batch. A folder that does not exist holds none of them (mailbox.ErrGone
// for each).
func (s *Session) Restore(ctx context.Context, folder string, ids []string) []error {
	errs := make([]error, len(ids))
	if len(ids) == 0 {
		return errs
	}
	fail := func(err error) []error { return mailbox.FillErrors(errs, err) }
	cctx, cancel := context.WithTimeout(ctx, s.callTimeout())
	from, err := s.resolveFolder(cctx, folder, false)
	cancel()
	var fm *errFolderMissing
	switch {
	case errors.As(err, &fm), err != nil && statusOf(err) == http.StatusNotFound:
		return mailbox.FillErrors(errs, fmt.Errorf("graph: move back from %q: %v: %w", folder, err, mailbox.ErrGone))
	case err != nil:
		return fail(fmt.Errorf("graph: move back from %q: %w", folder, s.opError("resolve the folder", err)))
	case from == s.folder:
		return fail(fmt.Errorf("graph: move back from %q: it is the job's folder", folder))
	}
	found := s.lookUp(ctx, folder, from, ids, errs)
	s.moveBack(ctx, folder, ids, found, errs)
	return errs
}

// lookUp finds the messages of folder (id from) with each Message-ID. It
// sets errs[i] for an id it could not look up, or that has no message.
func (s *Session) lookUp(ctx context.Context, folder, from string, ids []string, errs []error) [][]string {
	found := make([][]string, len(ids))
	base := s.folderPath(from) + "/messages"
	for start := 0; start < len(ids); start += batchSize {
		var reqs []batchRequest
		for i := start; i < min(start+batchSize, len(ids)); i++ {
			filter := "internetMessageId eq " + quote("<"+strings.Trim(ids[i], "<>")+">")
			reqs = append(reqs, batchRequest{ID: strconv.Itoa(i), Method: http.MethodGet,
				URL: base + "?$filter=" + queryEscape(filter) + "&$select=id&$top=" + strconv.Itoa(restorePage)})
		}
		res, err := s.batch(ctx, reqs)
		for _, r := range reqs {
			i, _ := strconv.Atoi(r.ID)
			br, ok := res[r.ID]
			switch {
			case !ok && err != nil:
				errs[i] = fmt.Errorf("graph: look for <%s> in %q: %w", ids[i], folder, s.opError("list messages", err))
				continue
			case !ok:
				errs[i] = fmt.Errorf("graph: look for <%s> in %q: no answer in the batch", ids[i], folder)
				continue
			case br.Status == http.StatusNotFound:
				errs[i] = fmt.Errorf("graph: look for <%s> in %q: the folder is gone: %w", ids[i], folder, mailbox.ErrGone)
				continue
			case br.Status >= 300:
				errs[i] = fmt.Errorf("graph: look for <%s> in %q: %w", ids[i], folder, batchError(br))
				continue
			}
			msgs, err := s.pages(ctx, br.Body)
			if err != nil {
				errs[i] = fmt.Errorf("graph: look for <%s> in %q: %w", ids[i], folder, err)
				continue
			}
			if len(msgs) == 0 {
				errs[i] = fmt.Errorf("graph: <%s> is not in %q: %w", ids[i], folder, mailbox.ErrGone)
				continue
			}
			found[i] = msgs
		}
	}
	return found
}

// moveBack moves the messages found into the session's folder, 20 to a
// batch. An id is moved back when one of its messages moved; it is gone
// when every one of them had vanished meanwhile.
func (s *Session) moveBack(ctx context.Context, folder string, ids []string, found [][]string, errs []error) {
	var reqs []batchRequest
	owner := map[string]int{}
	for i, msgs := range found {
		for _, m := range msgs {
			id := strconv.Itoa(len(reqs))
			owner[id] = i
			reqs = append(reqs, batchRequest{ID: id, Method: http.MethodPost,
				URL:     s.messagePath(m) + "/move",
				Headers: map[string]string{"Content-Type": "application/json"}, Body: map[string]any{"destinationId": s.folder}})
		}
	}
	moved := make([]bool, len(ids))
	for start := 0; start < len(reqs); start += batchSize {
		chunk := reqs[start:min(start+batchSize, len(reqs))]
		res, err := s.batch(ctx, chunk)
		for _, r := range chunk {
			i := owner[r.ID]
			br, ok := res[r.ID]
			var why error
			switch {
			case !ok && err != nil:
				why = s.opError("move", err)
			case !ok:
				why = errors.New("no answer in the batch")
			case br.Status == http.StatusNotFound:
				why = mailbox.ErrGone
			case br.Status >= 300:
				why = batchError(br)
			default:
				moved[i] = true
				continue
			}
			// The first failure stands unless another copy moves; a
			// failure other than "gone" outranks "gone".
			if errs[i] == nil || (errors.Is(errs[i], mailbox.ErrGone) && !errors.Is(why, mailbox.ErrGone)) {
				errs[i] = fmt.Errorf("graph: move <%s> from %q back: %w", ids[i], folder, why)
			}
		}
	}
	for i := range ids {
		if moved[i] {
			errs[i] = nil
		}
	}
}

// pages reads the ids of a message listing and of the pages its
// @odata.nextLink leads to.
func (s *Session) pages(ctx context.Context, first json.RawMessage) ([]string, error) {
	var ids []string
	body := first
	for range 100 {
		var page struct {
			Value []struct {
				ID string `json:"id"`
			} `json:"value"`
			Next string `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return nil, fmt.Errorf("read the message list: %w", err)
		}
		for _, v := range page.Value {
			if v.ID != "" {
				ids = append(ids, v.ID)
			}
		}
		if page.Next == "" {
			return ids, nil
		}
		var err error
		if body, err = s.getJSON(ctx, page.Next); err != nil {
			return nil, err
		}
	}
	return nil, errors.New("the message list does not end")
}

// getJSON sends one GET to an absolute URL the service gave.
func (s *Session) getJSON(ctx context.Context, link string) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, s.callTimeout())
	defer cancel()
	var body json.RawMessage
	err := s.call(ctx, http.MethodGet, link, nil, &body)
	return body, err
}

// batchError is the *GraphError of one answer of a batch.
func batchError(br batchResponse) error { return odataError(br.Status, br.Body) }

// queryEscape escapes a query parameter value, a space as %20 rather
// than "+", as the Graph documentation writes $filter.
func queryEscape(v string) string {
	return strings.ReplaceAll(url.QueryEscape(v), "+", "%20")
}
