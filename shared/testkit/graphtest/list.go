package graphtest

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// listMessages serves GET /users/{id}/mailFolders/{id}/messages
// (https://learn.microsoft.com/graph/api/mailfolder-list-messages): the
// folder's messages, newest first as Graph's default order, in pages of
// $top (default 10, at most 1000) linked by @odata.nextLink. The only
// $filter it models is an OData equality on internetMessageId
// (https://learn.microsoft.com/graph/filter-query-parameter), the string
// literal in single quotes with a quote inside written twice; any other
// filter answers 400 ErrorInvalidUrlQueryFilter. Exchange compares the
// value case-insensitively, and so does this server.
func (s *Server) listMessages(w http.ResponseWriter, r *http.Request, b *mailbox, f *folder) {
	q := r.URL.Query()
	var want *string
	if filter := q.Get("$filter"); filter != "" {
		v, ok := parseMessageIDFilter(filter)
		if !ok {
			graphError(w, http.StatusBadRequest, "ErrorInvalidUrlQueryFilter", "The query filter contains one or more invalid nodes.")
			return
		}
		want = &v
	}
	top := 10
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			graphError(w, http.StatusBadRequest, "BadRequest", "Invalid $top value.")
			return
		}
		top = min(n, 1000)
	}
	skip := 0
	if v := q.Get("$skip"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			graphError(w, http.StatusBadRequest, "BadRequest", "Invalid $skip value.")
			return
		}
		skip = n
	}
	var list []*message
	for _, m := range b.msgs {
		if m.folder == f.id && (want == nil || strings.EqualFold(m.msgID, *want)) {
			list = append(list, m)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].received.After(list[j].received) })
	end := min(skip+top, len(list))
	page := []map[string]any{}
	for _, m := range list[min(skip, len(list)):end] {
		page = append(page, m.json(r, b))
	}
	resp := map[string]any{"value": page}
	if end < len(list) {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("$top", strconv.Itoa(top))
		next.Set("$skip", strconv.Itoa(end))
		resp["@odata.nextLink"] = s.URL() + "/users/" + url.PathEscape(b.user) + "/mailFolders/" + f.id + "/messages?" + next.Encode()
	}
	writeJSON(w, http.StatusOK, resp)
}

// parseMessageIDFilter reads "internetMessageId eq '<literal>'" and
// returns the literal with its doubled quotes undone; ok is false for any
// other filter or a malformed literal.
func parseMessageIDFilter(filter string) (string, bool) {
	fields := strings.Fields(filter)
	if len(fields) < 3 || fields[0] != "internetMessageId" || fields[1] != "eq" {
		return "", false
	}
	rest := strings.TrimSpace(filter)
	rest = strings.TrimSpace(strings.TrimPrefix(rest, "internetMessageId"))
	rest = strings.TrimSpace(strings.TrimPrefix(rest, "eq"))
	if len(rest) < 2 || rest[0] != '\'' || rest[len(rest)-1] != '\'' {
		return "", false
	}
	inner := rest[1 : len(rest)-1]
	var out strings.Builder
	for i := 0; i < len(inner); i++ {
		if inner[i] != '\'' {
			out.WriteByte(inner[i])
			continue
		}
		if i+1 >= len(inner) || inner[i+1] != '\'' {
			return "", false // a lone quote ends the literal early
		}
		out.WriteByte('\'')
		i++
	}
	return out.String(), true
}
