package graphbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxAnswer bounds a JSON answer read into memory (a page of a listing,
// a folder, a subscription); only $value is streamed.
const maxAnswer = 16 << 20

// call sends one request and decodes its JSON answer into out (nil: the
// answer is read and dropped). target is a path below the service root
// ("/users/…") or an absolute link the service gave (@odata.nextLink,
// @odata.deltaLink). in, when not nil, is sent as JSON. header holds
// name, value pairs. An answer other than 2xx is a *GraphError with the
// OData error's code and message.
func (s *Session) call(ctx context.Context, method, target string, in, out any, header ...string) error {
	link := target
	if strings.HasPrefix(target, "/") {
		link = s.root + target
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, link, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return readError(resp)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
		return nil
	}
	err = json.NewDecoder(io.LimitReader(resp.Body, maxAnswer)).Decode(out)
	if errors.Is(err, io.EOF) {
		return nil // a success without a body (202 Accepted): out stays as it was
	}
	return err
}

// userPath is the path of the job's mailbox below the service root.
func (s *Session) userPath() string { return "/users/" + url.PathEscape(s.user) }

// messagePath is the path of a message below the service root.
func (s *Session) messagePath(id string) string {
	return s.userPath() + "/messages/" + url.PathEscape(id)
}

// odataError is the *GraphError of an error answer: its status, and the
// code and message of its OData error body when it has one
// (https://learn.microsoft.com/graph/errors).
func odataError(status int, body []byte) *GraphError {
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return &GraphError{Status: status, Code: e.Error.Code, Message: e.Error.Message}
}

// folderPath is the path of a mail folder (an id or a well-known name).
func (s *Session) folderPath(id string) string {
	return s.userPath() + "/mailFolders/" + url.PathEscape(id)
}

// mailFolder is the part of a mailFolder resource the adapter reads
// (https://learn.microsoft.com/graph/api/resources/mailfolder).
type mailFolder struct {
	ID              string `json:"id"`
	DisplayName     string `json:"displayName"`
	TotalItemCount  *int   `json:"totalItemCount"`
	UnreadItemCount *int   `json:"unreadItemCount"`
}
