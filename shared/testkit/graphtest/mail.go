package graphtest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/mail"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

type mailbox struct {
	user    string
	folders map[string]*folder  // id → folder
	msgs    map[string]*message // immutable id → message
	gone    []tombstone
	seq     int64
}

type folder struct {
	id, name, parent, wellKnown string
}

type message struct {
	id, immutable, folder string
	raw                   []byte
	read                  bool
	received              time.Time
	seq                   int64 // change number of the last change
	msgID, subject, from  string
}

type tombstone struct {
	folder, id, immutable string
	seq                   int64
}

// Message is a message as the server holds it, for assertions.
type Message struct {
	ID, ImmutableID, Folder, InternetMessageID, Subject string
	IsRead                                              bool
	Raw                                                 []byte
}

var wellKnown = []string{"inbox", "sentitems", "deleteditems", "drafts", "junkemail", "archive"}

var displayNames = map[string]string{"inbox": "Inbox", "sentitems": "Sent Items", "deleteditems": "Deleted Items", "drafts": "Drafts", "junkemail": "Junk Email", "archive": "Archive"}

// AddMailbox creates user's mailbox with the well-known folders; user may
// later be addressed by this name in any case.
func (s *Server) AddMailbox(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := &mailbox{user: strings.ToLower(user), folders: map[string]*folder{}, msgs: map[string]*message{}}
	for _, wk := range wellKnown {
		id := "AQMk" + randomID(12)
		b.folders[id] = &folder{id: id, name: displayNames[wk], wellKnown: wk}
	}
	s.boxes[b.user] = b
}

func (b *mailbox) byWellKnown(name string) *folder {
	for _, f := range b.folders {
		if f.wellKnown == strings.ToLower(name) {
			return f
		}
	}
	return nil
}

func (b *mailbox) child(parent, name string) *folder {
	for _, f := range b.folders {
		if f.parent == parent && strings.EqualFold(f.name, name) {
			return f
		}
	}
	return nil
}

func (b *mailbox) path(f *folder) string {
	if f.parent == "" {
		return f.name
	}
	return b.path(b.folders[f.parent]) + "/" + f.name
}

// folderByPath finds or creates "Inbox/Support".
func (b *mailbox) folderByPath(path string) *folder {
	parts := strings.Split(path, "/")
	f := b.byWellKnown(parts[0])
	if f == nil {
		for _, c := range b.folders {
			if c.parent == "" && strings.EqualFold(c.name, parts[0]) {
				f = c
			}
		}
	}
	if f == nil {
		f = &folder{id: "AQMk" + randomID(12), name: parts[0]}
		b.folders[f.id] = f
	}
	for _, name := range parts[1:] {
		c := b.child(f.id, name)
		if c == nil {
			c = &folder{id: "AQMk" + randomID(12), name: name, parent: f.id}
			b.folders[c.id] = c
		}
		f = c
	}
	return f
}

// Deliver puts raw into user's folder (a path such as "Inbox/Support",
// created if missing) and notifies subscriptions on that folder.
func (s *Server) Deliver(user, folderPath string, raw []byte) string {
	s.mu.Lock()
	b := s.boxes[strings.ToLower(user)]
	if b == nil {
		s.mu.Unlock()
		panic("graphtest: no mailbox " + user)
	}
	f := b.folderByPath(folderPath)
	b.seq++
	m := &message{id: "AAMk" + randomID(16), immutable: "AAkAL" + randomID(16), folder: f.id, raw: append([]byte(nil), raw...), received: time.Now().UTC(), seq: b.seq}
	if h, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		m.msgID, m.subject, m.from = h.Header.Get("Message-Id"), h.Header.Get("Subject"), h.Header.Get("From")
	}
	// Distinct, increasing receivedDateTime even within one clock tick.
	for _, o := range b.msgs {
		if !m.received.After(o.received) {
			m.received = o.received.Add(time.Millisecond)
		}
	}
	b.msgs[m.immutable] = m
	s.notifyCreated(b, f, m)
	s.mu.Unlock()
	return m.id
}

// Messages returns every message of user's mailbox.
func (s *Server) Messages(user string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.boxes[strings.ToLower(user)]
	if b == nil {
		return nil
	}
	var out []Message
	for _, m := range b.msgs {
		out = append(out, Message{ID: m.id, ImmutableID: m.immutable, Folder: b.path(b.folders[m.folder]), InternetMessageID: m.msgID, Subject: m.subject, IsRead: m.read, Raw: m.raw})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ImmutableID < out[j].ImmutableID })
	return out
}

// find resolves a message by its id or immutable id.
func (b *mailbox) find(id string) *message {
	if m := b.msgs[id]; m != nil {
		return m
	}
	for _, m := range b.msgs {
		if m.id == id {
			return m
		}
	}
	return nil
}

func (b *mailbox) folder(id string) *folder {
	if f := b.folders[id]; f != nil {
		return f
	}
	return b.byWellKnown(id)
}

func immutableIDs(r *http.Request) bool {
	for _, v := range r.Header.Values("Prefer") {
		if strings.Contains(v, `IdType="ImmutableId"`) {
			return true
		}
	}
	return false
}

func maxPageSize(r *http.Request) int {
	for _, v := range r.Header.Values("Prefer") {
		for _, part := range strings.Split(v, ",") {
			if n, ok := strings.CutPrefix(strings.TrimSpace(part), "odata.maxpagesize="); ok {
				if i, err := strconv.Atoi(n); err == nil && i > 0 {
					return i
				}
			}
		}
	}
	return 10
}

func (m *message) json(r *http.Request, b *mailbox) map[string]any {
	id := m.id
	if immutableIDs(r) {
		id = m.immutable
	}
	v := map[string]any{
		"@odata.type": "#microsoft.graph.message", "id": id, "internetMessageId": m.msgID, "subject": m.subject,
		"isRead": m.read, "receivedDateTime": m.received.Format(time.RFC3339Nano), "parentFolderId": m.folder,
		"from": map[string]any{"emailAddress": map[string]string{"address": m.from}},
	}
	// PidTagMessageSize, asked for as an extended property
	// (https://learn.microsoft.com/graph/api/singlevaluelegacyextendedproperty-get).
	if strings.Contains(strings.ToLower(r.URL.Query().Get("$expand")), "0x0e08") {
		v["singleValueExtendedProperties"] = []map[string]string{{"id": "Integer 0xe08", "value": strconv.Itoa(len(m.raw))}}
	}
	return v
}

func folderJSON(b *mailbox, f *folder) map[string]any {
	total, unread, children := 0, 0, 0
	for _, m := range b.msgs {
		if m.folder == f.id {
			total++
			if !m.read {
				unread++
			}
		}
	}
	for _, c := range b.folders {
		if c.parent == f.id {
			children++
		}
	}
	parent := f.parent
	if parent == "" {
		parent = "msgfolderroot"
	}
	return map[string]any{"id": f.id, "displayName": f.name, "parentFolderId": parent, "childFolderCount": children, "totalItemCount": total, "unreadItemCount": unread}
}

// mail serves /v1.0/users/{user}/...
func (s *Server) mail(w http.ResponseWriter, r *http.Request, t token, user string, p []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.boxes[strings.ToLower(user)]
	if b == nil {
		graphError(w, http.StatusNotFound, "ErrorInvalidUser", "The requested user '"+user+"' is invalid.")
		return
	}
	if t.user != "" && t.user != b.user {
		graphError(w, http.StatusForbidden, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
		return
	}
	switch p[0] {
	case "mailFolders":
		s.folders(w, r, b, p[1:])
	case "messages":
		if len(p) < 2 {
			graphError(w, http.StatusBadRequest, "BadRequest", "Listing every message is not modelled.")
			return
		}
		s.messageOp(w, r, b, p[1], p[2:])
	default:
		graphError(w, http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+p[0]+"'.")
	}
}

func (s *Server) folders(w http.ResponseWriter, r *http.Request, b *mailbox, p []string) {
	if len(p) == 0 {
		switch r.Method {
		case http.MethodPost:
			s.createFolder(w, r, b, "")
		case http.MethodGet:
			s.listFolders(w, r, b, "")
		default:
			graphError(w, http.StatusMethodNotAllowed, "BadRequest", "Method not allowed.")
		}
		return
	}
	f := b.folder(p[0])
	if f == nil {
		graphError(w, http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
		return
	}
	switch {
	case len(p) == 1 && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, folderJSON(b, f))
	case len(p) == 2 && p[1] == "childFolders" && r.Method == http.MethodGet:
		s.listFolders(w, r, b, f.id)
	case len(p) == 2 && p[1] == "childFolders" && r.Method == http.MethodPost:
		s.createFolder(w, r, b, f.id)
	case len(p) == 2 && p[1] == "messages" && r.Method == http.MethodGet:
		s.listMessages(w, r, b, f)
	case len(p) == 3 && p[1] == "messages" && (p[2] == "delta" || p[2] == "delta()" || p[2] == "microsoft.graph.delta()") && r.Method == http.MethodGet:
		s.delta(w, r, b, f)
	default:
		graphError(w, http.StatusBadRequest, "BadRequest", "Unsupported segment.")
	}
}

func (s *Server) listFolders(w http.ResponseWriter, r *http.Request, b *mailbox, parent string) {
	filter := r.URL.Query().Get("$filter")
	var want string
	if filter != "" {
		v, ok := strings.CutPrefix(filter, "displayName eq '")
		if !ok || !strings.HasSuffix(v, "'") {
			graphError(w, http.StatusBadRequest, "ErrorInvalidUrlQueryFilter", "The filter is not supported.")
			return
		}
		want = strings.ReplaceAll(strings.TrimSuffix(v, "'"), "''", "'")
	}
	var out []map[string]any
	for _, f := range b.folders {
		if f.parent == parent && (filter == "" || strings.EqualFold(f.name, want)) {
			out = append(out, folderJSON(b, f))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["displayName"].(string) < out[j]["displayName"].(string) })
	if out == nil {
		out = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": out})
}

func (s *Server) createFolder(w http.ResponseWriter, r *http.Request, b *mailbox, parent string) {
	var body struct {
		DisplayName string `json:"displayName"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || strings.TrimSpace(body.DisplayName) == "" {
		graphError(w, http.StatusBadRequest, "ErrorInvalidRequest", "displayName is required.")
		return
	}
	if b.child(parent, body.DisplayName) != nil {
		graphError(w, http.StatusConflict, "ErrorFolderExists", "A folder with the specified name already exists.")
		return
	}
	f := &folder{id: "AQMk" + randomID(12), name: body.DisplayName, parent: parent}
	b.folders[f.id] = f
	writeJSON(w, http.StatusCreated, folderJSON(b, f))
}

// deltaState is what a nextLink or deltaLink carries.
type deltaState struct {
	Folder string `json:"f"`
	Since  int64  `json:"s"` // changes after this change number
	Upto   int64  `json:"u"` // ... up to this one (the round's snapshot)
	Skip   int    `json:"k"`
	Epoch  int    `json:"e"`
}

func encodeState(st deltaState) string {
	b, _ := json.Marshal(st)
	return encodeBase64URL(b)
}

func (s *Server) delta(w http.ResponseWriter, r *http.Request, b *mailbox, f *folder) {
	q := r.URL.Query()
	st := deltaState{Folder: f.id, Upto: b.seq, Epoch: s.epoch}
	for _, name := range []string{"$skiptoken", "$deltatoken"} {
		if v := q.Get(name); v != "" {
			raw, err := base64URL(v)
			if err != nil || json.Unmarshal(raw, &st) != nil || st.Folder != f.id {
				graphError(w, http.StatusBadRequest, "BadRequest", "The delta token is not valid.")
				return
			}
			if st.Epoch != s.epoch {
				graphError(w, http.StatusGone, "SyncStateNotFound", "The sync state generation is not found. Please restart the sync.")
				return
			}
			if name == "$deltatoken" {
				st.Since, st.Upto, st.Skip = st.Upto, b.seq, 0
			}
		}
	}
	initial := st.Since == 0
	var changes []map[string]any
	var list []*message
	for _, m := range b.msgs {
		if m.folder == f.id && m.seq > st.Since && m.seq <= st.Upto {
			list = append(list, m)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].seq < list[j].seq })
	for _, m := range list {
		changes = append(changes, m.json(r, b))
	}
	if !initial {
		for _, g := range b.gone {
			if g.folder == f.id && g.seq > st.Since && g.seq <= st.Upto {
				id := g.id
				if immutableIDs(r) {
					id = g.immutable
				}
				changes = append(changes, map[string]any{"id": id, "@removed": map[string]string{"reason": "deleted"}})
			}
		}
	}
	size := maxPageSize(r)
	end := min(st.Skip+size, len(changes))
	page := changes[min(st.Skip, len(changes)):end]
	if page == nil {
		page = []map[string]any{}
	}
	base := s.URL() + "/users/" + url.PathEscape(b.user) + "/mailFolders/" + f.id + "/messages/delta"
	resp := map[string]any{"value": page}
	if end < len(changes) {
		next := st
		next.Skip = end
		resp["@odata.nextLink"] = base + "?$skiptoken=" + encodeState(next)
	} else {
		done := st
		done.Skip = 0
		resp["@odata.deltaLink"] = base + "?$deltatoken=" + encodeState(done)
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) messageOp(w http.ResponseWriter, r *http.Request, b *mailbox, id string, p []string) {
	m := b.find(id)
	if m == nil {
		graphError(w, http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
		return
	}
	switch {
	case len(p) == 0 && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, m.json(r, b))
	case len(p) == 1 && p[0] == "$value" && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", strconv.Itoa(len(m.raw)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(m.raw)
	case len(p) == 0 && r.Method == http.MethodPatch:
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			graphError(w, http.StatusBadRequest, "BadRequest", "Invalid JSON.")
			return
		}
		if v, ok := body["isRead"].(bool); ok {
			m.read = v
			b.seq++
			m.seq = b.seq
		}
		writeJSON(w, http.StatusOK, m.json(r, b))
	case len(p) == 1 && p[0] == "move" && r.Method == http.MethodPost:
		var body struct {
			DestinationID string `json:"destinationId"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			graphError(w, http.StatusBadRequest, "BadRequest", "Invalid JSON.")
			return
		}
		dst := b.folder(body.DestinationID)
		if dst == nil {
			graphError(w, http.StatusNotFound, "ErrorItemNotFound", "The specified folder was not found in the store.")
			return
		}
		s.moveTo(b, m, dst)
		writeJSON(w, http.StatusCreated, m.json(r, b))
	case len(p) == 0 && r.Method == http.MethodDelete:
		s.moveTo(b, m, b.byWellKnown("deleteditems"))
		w.WriteHeader(http.StatusNoContent)
	case len(p) == 1 && p[0] == "permanentDelete" && r.Method == http.MethodPost:
		b.seq++
		b.gone = append(b.gone, tombstone{folder: m.folder, id: m.id, immutable: m.immutable, seq: b.seq})
		delete(b.msgs, m.immutable)
		w.WriteHeader(http.StatusNoContent)
	default:
		graphError(w, http.StatusBadRequest, "BadRequest", "Unsupported segment.")
	}
}

// moveTo moves m: a new (mutable) id, the same immutable id.
func (s *Server) moveTo(b *mailbox, m *message, dst *folder) {
	if m.folder == dst.id {
		return
	}
	b.seq++
	b.gone = append(b.gone, tombstone{folder: m.folder, id: m.id, immutable: m.immutable, seq: b.seq})
	m.folder, m.id, m.seq = dst.id, "AAMk"+randomID(16), b.seq
}
