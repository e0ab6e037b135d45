package ewstest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// The EWS namespaces.
const (
	nsSoap     = "http://schemas.xmlsoap.org/soap/envelope/"
	nsTypes    = "http://schemas.microsoft.com/exchange/services/2006/types"
	nsMessages = "http://schemas.microsoft.com/exchange/services/2006/messages"
	nsErrors   = "http://schemas.microsoft.com/exchange/services/2006/errors"
)

// node is an XML element read from a request.
type node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []node     `xml:",any"`
	Text    string     `xml:",chardata"`
}

// find returns the first descendant (or n itself) named local.
func (n *node) find(local string) *node {
	if n == nil {
		return nil
	}
	if n.XMLName.Local == local {
		return n
	}
	for i := range n.Nodes {
		if f := n.Nodes[i].find(local); f != nil {
			return f
		}
	}
	return nil
}

// findAll returns every descendant named local.
func (n *node) findAll(local string) []*node {
	var out []*node
	if n == nil {
		return nil
	}
	for i := range n.Nodes {
		c := &n.Nodes[i]
		if c.XMLName.Local == local {
			out = append(out, c)
			continue
		}
		out = append(out, c.findAll(local)...)
	}
	return out
}

func (n *node) attr(name string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (n *node) text(local string) string {
	if f := n.find(local); f != nil {
		return strings.TrimSpace(f.Text)
	}
	return ""
}

func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// ServeHTTP serves EWS at /EWS/Exchange.asmx, POX Autodiscover at
// /autodiscover/autodiscover.xml and SOAP Autodiscover at
// /autodiscover/autodiscover.svc.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	path := strings.ToLower(r.URL.Path)
	if path != "/ews/exchange.asmx" && path != "/autodiscover/autodiscover.xml" && path != "/autodiscover/autodiscover.svc" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	acct := s.authenticate(w, r)
	if acct == nil {
		return
	}
	var env node
	if err := xml.Unmarshal(body, &env); err != nil {
		http.Error(w, "malformed XML: "+err.Error(), http.StatusBadRequest)
		return
	}
	if s.autodiscoverOff(path) {
		http.NotFound(w, r)
		return
	}
	if path == "/autodiscover/autodiscover.xml" {
		s.count("Autodiscover")
		s.autodiscover(w, r, &env)
		return
	}
	if path == "/autodiscover/autodiscover.svc" {
		s.count("GetUserSettings")
		s.getUserSettings(w, r, &env)
		return
	}
	s.serveEWS(w, acct, &env)
}

// authenticate returns the signed-in account, or answers 401 and
// returns nil.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) *account {
	s.mu.Lock()
	defer s.mu.Unlock()
	scheme, data, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if scheme != "" {
		s.count("auth " + strings.ToLower(scheme))
	}
	switch strings.ToLower(scheme) {
	case "basic":
		user, pass, _ := r.BasicAuth()
		if a := s.accounts[strings.ToLower(user)]; a != nil && a.password == pass {
			return a
		}
	case "bearer":
		if name, ok := s.tokens[data]; ok {
			return s.accounts[name]
		}
	case "ntlm", "negotiate":
		msg, err := base64.StdEncoding.DecodeString(data)
		if err != nil || len(msg) < 12 || string(msg[:8]) != "NTLMSSP\x00" {
			break
		}
		switch binary.LittleEndian.Uint32(msg[8:12]) {
		case 1:
			var challenge [8]byte
			_, _ = rand.Read(challenge[:])
			s.ntlm[r.RemoteAddr] = challenge[:]
			w.Header().Set("WWW-Authenticate", "NTLM "+base64.StdEncoding.EncodeToString(challengeMessage(challenge)))
			w.WriteHeader(http.StatusUnauthorized)
			return nil
		case 3:
			_, sent := s.ntlm[r.RemoteAddr]
			delete(s.ntlm, r.RemoteAddr)
			user, domain, nt, ok := parseAuthenticate(msg)
			if !sent || !ok || nt < 24 {
				break
			}
			for _, name := range []string{user, domain + `\` + user} {
				if a := s.accounts[strings.ToLower(name)]; a != nil {
					return a
				}
			}
		}
	}
	w.Header().Add("WWW-Authenticate", "NTLM")
	w.Header().Add("WWW-Authenticate", `Basic realm="ewstest"`)
	w.Header().Add("WWW-Authenticate", "Bearer")
	w.WriteHeader(http.StatusUnauthorized)
	return nil
}

// challengeMessage is an NTLM CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2) with
// Unicode, NTLM, extended session security and target info.
func challengeMessage(challenge [8]byte) []byte {
	name := utf16le("EWSTEST")
	var info bytes.Buffer
	_ = binary.Write(&info, binary.LittleEndian, []uint16{2, uint16(len(name))}) // MsvAvNbDomainName
	info.Write(name)
	_ = binary.Write(&info, binary.LittleEndian, []uint16{0, 0}) // MsvAvEOL
	const header = 56
	var b bytes.Buffer
	b.WriteString("NTLMSSP\x00")
	_ = binary.Write(&b, binary.LittleEndian, uint32(2))
	_ = binary.Write(&b, binary.LittleEndian, []uint16{0, 0})
	_ = binary.Write(&b, binary.LittleEndian, uint32(header))
	_ = binary.Write(&b, binary.LittleEndian, uint32(0x00000001|0x00000200|0x00080000|0x00800000))
	b.Write(challenge[:])
	b.Write(make([]byte, 8))
	_ = binary.Write(&b, binary.LittleEndian, []uint16{uint16(info.Len()), uint16(info.Len())})
	_ = binary.Write(&b, binary.LittleEndian, uint32(header))
	b.Write(make([]byte, 8)) // version
	b.Write(info.Bytes())
	return b.Bytes()
}

// parseAuthenticate reads the user, the domain and the length of the NT
// response of an AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3).
func parseAuthenticate(msg []byte) (user, domain string, ntLen int, ok bool) {
	field := func(off int) ([]byte, bool) {
		if len(msg) < off+8 {
			return nil, false
		}
		l := int(binary.LittleEndian.Uint16(msg[off:]))
		p := int(binary.LittleEndian.Uint32(msg[off+4:]))
		if p+l > len(msg) {
			return nil, false
		}
		return msg[p : p+l], true
	}
	nt, ok1 := field(20)
	d, ok2 := field(28)
	u, ok3 := field(36)
	return fromUTF16le(u), fromUTF16le(d), len(nt), ok1 && ok2 && ok3
}

func utf16le(s string) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.LittleEndian, utf16.Encode([]rune(s)))
	return b.Bytes()
}

func fromUTF16le(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// fault answers a SOAP fault carrying an EWS response code (HTTP 500).
func fault(w http.ResponseWriter, code, text string, backoff time.Duration) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	extra := ""
	if backoff > 0 {
		extra = fmt.Sprintf(`<t:MessageXml xmlns:t="%s"><t:Value Name="BackOffMilliseconds">%d</t:Value></t:MessageXml>`, nsTypes, backoff.Milliseconds())
	}
	fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="%s"><s:Body><s:Fault><faultcode xmlns:a="%s">a:%s</faultcode><faultstring xml:lang="en-US">%s</faultstring><detail><e:ResponseCode xmlns:e="%s">%s</e:ResponseCode><e:Message xmlns:e="%s">%s</e:Message>%s</detail></s:Fault></s:Body></s:Envelope>`,
		nsSoap, nsTypes, code, esc(text), nsErrors, code, nsErrors, esc(text), extra)
}

// serveEWS answers one SOAP request.
func (s *Server) serveEWS(w http.ResponseWriter, acct *account, env *node) {
	body := env.find("Body")
	if body == nil || len(body.Nodes) == 0 {
		fault(w, "ErrorInvalidRequest", "no SOAP body", 0)
		return
	}
	op := &body.Nodes[0]
	name := op.XMLName.Local
	s.count(name)
	s.mu.Lock()
	if s.busy > 0 {
		s.busy--
		backoff := s.backoff
		s.mu.Unlock()
		fault(w, "ErrorServerBusy", "The server cannot service this request right now. Try again later.", backoff)
		return
	}
	b, code := s.delegated(acct, op)
	if code != "" {
		s.mu.Unlock()
		fault(w, code, "The account does not have full access to the mailbox.", 0)
		return
	}
	if h := env.find("Header"); h != nil {
		if imp := h.find("ExchangeImpersonation"); imp != nil {
			addr := imp.text("PrimarySmtpAddress")
			target := s.boxes[strings.ToLower(addr)]
			switch {
			case strings.EqualFold(addr, acct.address):
			case !acct.impersonate:
				s.mu.Unlock()
				fault(w, "ErrorImpersonateUserDenied", "The account does not have permission to impersonate the requested user.", 0)
				return
			case target == nil:
				s.mu.Unlock()
				fault(w, "ErrorNonExistentMailbox", "No mailbox with such guid.", 0)
				return
			default:
				b = target
			}
		}
	}
	var out func(io.Writer)
	switch name {
	case "FindItem":
		out = s.findItem(b, op)
	case "SyncFolderItems":
		out = s.syncFolderItems(b, op)
	case "GetItem":
		out = s.getItem(b, op)
	case "UpdateItem":
		out = s.updateItem(b, op)
	case "MoveItem":
		out = s.moveItem(b, op)
	case "DeleteItem":
		out = s.deleteItem(b, op)
	case "FindFolder":
		out = s.findFolder(b, op)
	case "GetFolder":
		out = s.getFolder(b, op)
	case "CreateFolder":
		out = s.createFolder(b, op)
	default:
		s.mu.Unlock()
		fault(w, "ErrorInvalidRequest", "operation "+name+" is not served", 0)
		return
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="%s"><s:Header><h:ServerVersionInfo MajorVersion="%d" MinorVersion="%d" MajorBuildNumber="%d" MinorBuildNumber="4" Version="%s" xmlns:h="%s"/></s:Header><s:Body><m:%sResponse xmlns:m="%s" xmlns:t="%s"><m:ResponseMessages>`,
		nsSoap, MajorVersion, MinorVersion, BuildNumber, Version, nsTypes, name, nsMessages, nsTypes)
	out(w)
	fmt.Fprintf(w, `</m:ResponseMessages></m:%sResponse></s:Body></s:Envelope>`, name)
}

// delegated is the mailbox a request addresses without impersonation:
// one named in a DistinguishedFolderId's Mailbox, or the one holding the
// folder or item ids it names, among those the account may open; the
// account's own otherwise.
func (s *Server) delegated(acct *account, op *node) (*box, string) {
	own := s.mailbox(acct.address)
	if m := op.find("Mailbox"); m != nil {
		addr := strings.ToLower(m.text("EmailAddress"))
		switch {
		case addr == strings.ToLower(acct.address):
			return own, ""
		case !acct.delegate[addr] || s.boxes[addr] == nil:
			return nil, "ErrorAccessDenied"
		}
		return s.boxes[addr], ""
	}
	for _, n := range append(op.findAll("FolderId"), op.findAll("ItemId")...) {
		id := n.attr("Id")
		for addr := range acct.delegate {
			if b := s.boxes[addr]; b != nil && (b.folders[id] != nil || b.items[id] != nil) {
				return b, ""
			}
		}
	}
	return own, ""
}

// respond writes one response message: inner is nil for an error.
func respond(w io.Writer, op, code string, inner func(io.Writer)) {
	if code != "NoError" {
		fmt.Fprintf(w, `<m:%sResponseMessage ResponseClass="Error"><m:MessageText>%s</m:MessageText><m:ResponseCode>%s</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey></m:%sResponseMessage>`, op, code, code, op)
		return
	}
	fmt.Fprintf(w, `<m:%sResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>`, op)
	if inner != nil {
		inner(w)
	}
	fmt.Fprintf(w, `</m:%sResponseMessage>`, op)
}

// folders resolves the FolderId and DistinguishedFolderId children of n.
func (b *box) folderRefs(n *node) []*folder {
	var out []*folder
	if n == nil {
		return nil
	}
	for i := range n.Nodes {
		c := &n.Nodes[i]
		switch c.XMLName.Local {
		case "FolderId":
			out = append(out, b.folders[c.attr("Id")])
		case "DistinguishedFolderId":
			var found *folder
			for _, f := range b.folders {
				if f.distinguished == c.attr("Id") {
					found = f
				}
			}
			out = append(out, found)
		}
	}
	return out
}

func (b *box) folderXML(w io.Writer, f *folder) {
	total, unread, children := 0, 0, 0
	for _, it := range b.items {
		if it.folder == f.id {
			total++
			if !it.read {
				unread++
			}
		}
	}
	for _, c := range b.folders {
		if c.parent == f.id {
			children++
		}
	}
	fmt.Fprintf(w, `<t:Folder><t:FolderId Id="%s" ChangeKey="AQ"/><t:ParentFolderId Id="%s"/><t:FolderClass>IPF.Note</t:FolderClass><t:DisplayName>%s</t:DisplayName><t:TotalCount>%d</t:TotalCount><t:ChildFolderCount>%d</t:ChildFolderCount><t:UnreadCount>%d</t:UnreadCount></t:Folder>`,
		f.id, f.parent, esc(f.name), total, children, unread)
}

func itemXML(w io.Writer, it *item) {
	fmt.Fprintf(w, `<t:Message><t:ItemId Id="%s" ChangeKey="CQ"/><t:ParentFolderId Id="%s"/><t:Size>%d</t:Size><t:DateTimeReceived>%s</t:DateTimeReceived><t:IsRead>%t</t:IsRead><t:InternetMessageId>&lt;%s&gt;</t:InternetMessageId></t:Message>`,
		it.id, it.folder, len(it.mime), it.received.UTC().Format(time.RFC3339), it.read, esc(it.messageID))
}

func (s *Server) findItem(b *box, op *node) func(io.Writer) {
	fs := b.folderRefs(op.find("ParentFolderIds"))
	if len(fs) != 1 || fs[0] == nil {
		return func(w io.Writer) { respond(w, "FindItem", "ErrorFolderNotFound", nil) }
	}
	items := b.sorted(fs[0].id)
	if r := op.find("Restriction"); r != nil {
		keep, code := restrict(r, items)
		if code != "" {
			return func(w io.Writer) { respond(w, "FindItem", code, nil) }
		}
		items = keep
	}
	offset, limit := 0, len(items)
	if v := op.find("IndexedPageItemView"); v != nil {
		offset, _ = strconv.Atoi(v.attr("Offset"))
		if n, err := strconv.Atoi(v.attr("MaxEntriesReturned")); err == nil && n > 0 {
			limit = n
		}
	}
	page := items[min(offset, len(items)):min(offset+limit, len(items))]
	last := offset+len(page) >= len(items)
	return func(w io.Writer) {
		respond(w, "FindItem", "NoError", func(w io.Writer) {
			fmt.Fprintf(w, `<m:RootFolder IndexedPagingOffset="%d" TotalItemsInView="%d" IncludesLastItemInRange="%t"><t:Items>`, offset+len(page), len(items), last)
			for _, it := range page {
				itemXML(w, it)
			}
			fmt.Fprint(w, `</t:Items></m:RootFolder>`)
		})
	}
}

func syncState(f *folder, gen, seq int) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "ewstest:%s:%d:%d", f.id, gen, seq))
}

func (s *Server) syncFolderItems(b *box, op *node) func(io.Writer) {
	const name = "SyncFolderItems"
	fs := b.folderRefs(op.find("SyncFolderId"))
	if len(fs) != 1 || fs[0] == nil {
		return func(w io.Writer) { respond(w, name, "ErrorFolderNotFound", nil) }
	}
	f := fs[0]
	after := 0
	if st := op.text("SyncState"); st != "" {
		raw, err := base64.StdEncoding.DecodeString(st)
		parts := strings.Split(string(raw), ":")
		if err != nil || len(parts) != 4 || parts[0] != "ewstest" || parts[1] != f.id || parts[2] != strconv.Itoa(b.gen) {
			return func(w io.Writer) { respond(w, name, "ErrorInvalidSyncStateData", nil) }
		}
		after, _ = strconv.Atoi(parts[3])
	}
	limit := 512
	if n, err := strconv.Atoi(op.text("MaxChangesReturned")); err == nil && n > 0 {
		limit = min(n, 512)
	}
	var changes []*item
	for _, it := range b.sorted(f.id) {
		if it.seq > after {
			changes = append(changes, it)
		}
	}
	last := len(changes) <= limit
	changes = changes[:min(limit, len(changes))]
	upTo := after
	if len(changes) > 0 {
		upTo = changes[len(changes)-1].seq
	} else {
		upTo = max(upTo, s.seq)
	}
	state := syncState(f, b.gen, upTo)
	return func(w io.Writer) {
		respond(w, name, "NoError", func(w io.Writer) {
			fmt.Fprintf(w, `<m:SyncState>%s</m:SyncState><m:IncludesLastItemInRange>%t</m:IncludesLastItemInRange><m:Changes>`, state, last)
			for _, it := range changes {
				fmt.Fprint(w, `<t:Create>`)
				itemXML(w, it)
				fmt.Fprint(w, `</t:Create>`)
			}
			fmt.Fprint(w, `</m:Changes>`)
		})
	}
}

func (s *Server) getItem(b *box, op *node) func(io.Writer) {
	mime := strings.EqualFold(op.text("IncludeMimeContent"), "true")
	var items []*item
	for _, id := range op.find("ItemIds").findAll("ItemId") {
		items = append(items, b.items[id.attr("Id")])
	}
	return func(w io.Writer) {
		for _, it := range items {
			if it == nil {
				respond(w, "GetItem", "ErrorItemNotFound", nil)
				continue
			}
			respond(w, "GetItem", "NoError", func(w io.Writer) {
				fmt.Fprint(w, `<m:Items><t:Message>`)
				if mime {
					fmt.Fprint(w, `<t:MimeContent CharacterSet="UTF-8">`)
					enc := base64.NewEncoder(base64.StdEncoding, w)
					_, _ = enc.Write(it.mime)
					_ = enc.Close()
					fmt.Fprint(w, `</t:MimeContent>`)
				}
				fmt.Fprintf(w, `<t:ItemId Id="%s" ChangeKey="CQ"/><t:Size>%d</t:Size><t:IsRead>%t</t:IsRead></t:Message></m:Items>`, it.id, len(it.mime), it.read)
			})
		}
	}
}

func (s *Server) updateItem(b *box, op *node) func(io.Writer) {
	var codes []string
	var ids []string
	for _, ch := range op.findAll("ItemChange") {
		it := b.items[ch.find("ItemId").attr("Id")]
		if it == nil {
			codes, ids = append(codes, "ErrorItemNotFound"), append(ids, "")
			continue
		}
		for _, set := range ch.findAll("SetItemField") {
			if set.find("FieldURI").attr("FieldURI") == "message:IsRead" {
				it.read = strings.EqualFold(set.text("IsRead"), "true")
			}
		}
		codes, ids = append(codes, "NoError"), append(ids, it.id)
	}
	return func(w io.Writer) {
		for i, code := range codes {
			respond(w, "UpdateItem", code, func(w io.Writer) {
				fmt.Fprintf(w, `<m:Items><t:Message><t:ItemId Id="%s" ChangeKey="CQ"/></t:Message></m:Items><m:ConflictResults><t:Count>0</t:Count></m:ConflictResults>`, ids[i])
			})
		}
	}
}

// move gives it a new id in folder to, as Exchange does.
func (s *Server) move(b *box, it *item, to *folder) *item {
	delete(b.items, it.id)
	s.seq++
	moved := *it
	moved.id, moved.folder, moved.seq = s.newID("I"), to.id, s.seq
	b.items[moved.id] = &moved
	return &moved
}

func (s *Server) moveItem(b *box, op *node) func(io.Writer) {
	fs := b.folderRefs(op.find("ToFolderId"))
	var codes, ids []string
	for _, id := range op.find("ItemIds").findAll("ItemId") {
		it := b.items[id.attr("Id")]
		switch {
		case len(fs) != 1 || fs[0] == nil:
			codes, ids = append(codes, "ErrorFolderNotFound"), append(ids, "")
		case it == nil:
			codes, ids = append(codes, "ErrorItemNotFound"), append(ids, "")
		default:
			codes, ids = append(codes, "NoError"), append(ids, s.move(b, it, fs[0]).id)
		}
	}
	return func(w io.Writer) {
		for i, code := range codes {
			respond(w, "MoveItem", code, func(w io.Writer) {
				fmt.Fprintf(w, `<m:Items><t:Message><t:ItemId Id="%s" ChangeKey="CQ"/></t:Message></m:Items>`, ids[i])
			})
		}
	}
}

func (s *Server) deleteItem(b *box, op *node) func(io.Writer) {
	var deleted *folder
	for _, f := range b.folders {
		if f.distinguished == "deleteditems" {
			deleted = f
		}
	}
	kind := op.attr("DeleteType")
	var codes []string
	for _, id := range op.find("ItemIds").findAll("ItemId") {
		it := b.items[id.attr("Id")]
		switch {
		case it == nil:
			codes = append(codes, "ErrorItemNotFound")
		case kind == "MoveToDeletedItems" && it.folder != deleted.id:
			s.move(b, it, deleted)
			codes = append(codes, "NoError")
		default: // HardDelete, SoftDelete, or already in Deleted Items
			delete(b.items, it.id)
			codes = append(codes, "NoError")
		}
	}
	return func(w io.Writer) {
		for _, code := range codes {
			respond(w, "DeleteItem", code, nil)
		}
	}
}

func (s *Server) findFolder(b *box, op *node) func(io.Writer) {
	fs := b.folderRefs(op.find("ParentFolderIds"))
	if len(fs) != 1 || fs[0] == nil {
		return func(w io.Writer) { respond(w, "FindFolder", "ErrorFolderNotFound", nil) }
	}
	deep := op.attr("Traversal") == "Deep"
	var found []*folder
	var walk func(parent string)
	walk = func(parent string) {
		for _, f := range b.folders {
			if f.parent == parent {
				found = append(found, f)
				if deep {
					walk(f.id)
				}
			}
		}
	}
	walk(fs[0].id)
	return func(w io.Writer) {
		respond(w, "FindFolder", "NoError", func(w io.Writer) {
			fmt.Fprintf(w, `<m:RootFolder TotalItemsInView="%d" IncludesLastItemInRange="true"><t:Folders>`, len(found))
			for _, f := range found {
				b.folderXML(w, f)
			}
			fmt.Fprint(w, `</t:Folders></m:RootFolder>`)
		})
	}
}

func (s *Server) getFolder(b *box, op *node) func(io.Writer) {
	fs := b.folderRefs(op.find("FolderIds"))
	return func(w io.Writer) {
		for _, f := range fs {
			if f == nil {
				respond(w, "GetFolder", "ErrorFolderNotFound", nil)
				continue
			}
			respond(w, "GetFolder", "NoError", func(w io.Writer) {
				fmt.Fprint(w, `<m:Folders>`)
				b.folderXML(w, f)
				fmt.Fprint(w, `</m:Folders>`)
			})
		}
	}
}

func (s *Server) createFolder(b *box, op *node) func(io.Writer) {
	fs := b.folderRefs(op.find("ParentFolderId"))
	if len(fs) != 1 || fs[0] == nil {
		return func(w io.Writer) { respond(w, "CreateFolder", "ErrorParentFolderNotFound", nil) }
	}
	var made []*folder
	var codes []string
	for _, fn := range op.find("Folders").findAll("Folder") {
		name := fn.text("DisplayName")
		exists := false
		for _, f := range b.folders {
			exists = exists || (f.parent == fs[0].id && strings.EqualFold(f.name, name))
		}
		if exists || name == "" {
			codes, made = append(codes, "ErrorFolderExists"), append(made, nil)
			continue
		}
		codes, made = append(codes, "NoError"), append(made, s.newFolder(b, fs[0].id, name, ""))
	}
	return func(w io.Writer) {
		for i, code := range codes {
			respond(w, "CreateFolder", code, func(w io.Writer) {
				fmt.Fprintf(w, `<m:Folders><t:Folder><t:FolderId Id="%s" ChangeKey="AQ"/></t:Folder></m:Folders>`, made[i].id)
			})
		}
	}
}

// autodiscover answers a POX Autodiscover request with the EWS URL of the
// listener the request came in on.
func (s *Server) autodiscover(w http.ResponseWriter, r *http.Request, req *node) {
	addr := req.text("EMailAddress")
	s.mu.Lock()
	_, ok := s.boxes[strings.ToLower(addr)]
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	const ns = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
	if !ok {
		fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="%s"><Response><Error Time="%s" Id="1"><ErrorCode>500</ErrorCode><Message>The email address can't be found.</Message><DebugData/></Error></Response></Autodiscover>`, ns, time.Now().UTC().Format("15:04:05.0000000"))
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	ews := scheme + "://" + r.Host + "/EWS/Exchange.asmx"
	fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="%s"><Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"><User><DisplayName>%s</DisplayName><AutoDiscoverSMTPAddress>%s</AutoDiscoverSMTPAddress></User><Account><AccountType>email</AccountType><Action>settings</Action><Protocol><Type>EXCH</Type><Server>ewstest</Server><ASUrl>%s</ASUrl><EwsUrl>%s</EwsUrl></Protocol><Protocol><Type>EXPR</Type><Server>127.0.0.1</Server><EwsUrl>%s</EwsUrl></Protocol></Account></Response></Autodiscover>`,
		ns, esc(addr), esc(addr), ews, ews, ews)
}
