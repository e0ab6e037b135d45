package mailconn

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"mailconnector/shared/mailbox/mailtrace"
)

// BodyOutlineLimit bounds the bytes of a body an HTTP trace looks at.
const BodyOutlineLimit = 16 << 10

// TraceTransport records each request and response of an EWS or Graph
// session: method, URL, status, headers, and an outline of XML and JSON
// bodies. It never records what carries a credential or a message, by
// construction: the values of Authorization, Proxy-Authorization, Cookie,
// Set-Cookie and the authentication challenges are replaced by a
// placeholder, and a body outline holds element and member names with the
// text of only a few known fields (response codes and messages, counts,
// paging), so MimeContent, message bodies, $value and tokens never appear.
type TraceTransport struct {
	Base http.RoundTripper
	Rec  *mailtrace.Recorder
}

// Trace wraps base with a TraceTransport recording into rec; base itself
// when rec is nil.
func Trace(base http.RoundTripper, rec *mailtrace.Recorder) http.RoundTripper {
	if rec == nil {
		return base
	}
	return &TraceTransport{Base: base, Rec: rec}
}

var secretHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
	"Www-Authenticate": true, "Proxy-Authenticate": true, "X-Ms-Client-Request-Id": false,
}

func (t *TraceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	u := *req.URL
	u.User = nil
	t.Rec.Line("http", "C", req.Method+" "+u.String())
	t.headers("C", req.Header)
	if req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
		if b, err := req.GetBody(); err == nil {
			data, _ := io.ReadAll(io.LimitReader(b, BodyOutlineLimit))
			b.Close()
			t.outline("C", req.Header.Get("Content-Type"), data, req.ContentLength)
		}
	}
	resp, err := t.Base.RoundTrip(req)
	if err != nil {
		t.Rec.Line("http", "*", "request failed: "+err.Error())
		return nil, err
	}
	t.Rec.Line("http", "S", resp.Proto+" "+resp.Status)
	t.headers("S", resp.Header)
	resp.Body = &outlineBody{ReadCloser: resp.Body, t: t, ctype: resp.Header.Get("Content-Type"), length: resp.ContentLength}
	return resp, nil
}

func (t *TraceTransport) headers(dir string, h http.Header) {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		for _, v := range h[k] {
			if secretHeaders[http.CanonicalHeaderKey(k)] {
				v = "[not recorded]"
			}
			t.Rec.Line("http", dir, k+": "+v)
		}
	}
}

// outlineBody keeps the first BodyOutlineLimit bytes read and records
// their outline when the body is closed or read to its end.
type outlineBody struct {
	io.ReadCloser
	t      *TraceTransport
	ctype  string
	length int64
	buf    bytes.Buffer
	total  int64
	done   bool
}

func (b *outlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.total += int64(n)
	if room := BodyOutlineLimit - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(n, room)])
	}
	if errors.Is(err, io.EOF) {
		b.finish()
	}
	return n, err
}

func (b *outlineBody) Close() error {
	b.finish()
	return b.ReadCloser.Close()
}

func (b *outlineBody) finish() {
	if b.done {
		return
	}
	b.done = true
	length := b.length
	if length < 0 {
		length = b.total
	}
	b.t.outline("S", b.ctype, b.buf.Bytes(), length)
}

// outline records what a body is, and for XML and JSON its outline.
func (t *TraceTransport) outline(dir, ctype string, data []byte, length int64) {
	mt, _, _ := mime.ParseMediaType(ctype)
	size := strconv.FormatInt(length, 10) + " bytes"
	if length < 0 {
		size = "size unknown"
	}
	switch {
	case len(data) == 0:
		return
	case strings.HasSuffix(mt, "xml"):
		t.Rec.Line("http", dir, "body ("+mt+", "+size+"): "+xmlOutline(data))
	case strings.HasSuffix(mt, "json"):
		t.Rec.Line("http", dir, "body ("+mt+", "+size+"): "+jsonOutline(data))
	default:
		t.Rec.Line("http", dir, "body ("+mt+", "+size+") not recorded")
	}
}

// textFields are the elements and members whose text a body outline
// keeps: outcomes, error codes and messages, counts and paging.
var textFields = map[string]bool{
	"ResponseCode": true, "MessageText": true, "faultcode": true, "faultstring": true, "ErrorCode": true,
	"TotalItemsInView": true, "IncludesLastItemInRange": true, "IncludesLastItemInChange": true,
	"TotalCount": true, "UnreadCount": true, "ChildFolderCount": true, "Url": false,
	"code": true, "message": true, "error": false, "@odata.count": true, "totalItemCount": true, "unreadItemCount": true,
}

// textAttrs are the XML attributes whose value an outline keeps.
var textAttrs = map[string]bool{
	"ResponseClass": true, "Traversal": true, "BasePoint": true, "Offset": true, "MaxEntriesReturned": true,
	"MajorVersion": true, "MinorVersion": true, "MajorBuildNumber": true, "Version": true, "DeleteType": true,
	"BackOffMilliseconds": false, "IndexedPagingOffset": true, "TotalItemsInView": true, "IncludesLastItemInRange": true,
}

// xmlOutline is the element structure of an XML document, with the
// text of textFields and the values of textAttrs only.
func xmlOutline(data []byte) string {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = false
	var b strings.Builder
	var stack []string
	for b.Len() < 4*mailtrace.MaxLine {
		tok, err := d.RawToken()
		if err != nil {
			break
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			b.WriteString("<" + tok.Name.Local)
			for _, a := range tok.Attr {
				if textAttrs[a.Name.Local] {
					b.WriteString(" " + a.Name.Local + "=" + strconv.Quote(a.Value))
				}
			}
			b.WriteString(">")
			stack = append(stack, tok.Name.Local)
		case xml.EndElement:
			b.WriteString("</" + tok.Name.Local + ">")
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			if len(stack) > 0 && textFields[stack[len(stack)-1]] {
				b.WriteString(strings.TrimSpace(string(tok)))
			}
		}
	}
	return b.String()
}

// jsonOutline is the member structure of a JSON document, with numbers,
// booleans and the strings of textFields only.
func jsonOutline(data []byte) string {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var b strings.Builder
	var kinds []json.Delim // the open containers
	key, expectKey := "", false
	for b.Len() < 4*mailtrace.MaxLine {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch v := tok.(type) {
		case json.Delim:
			b.WriteString(v.String())
			switch v {
			case '{', '[':
				kinds = append(kinds, v)
			default:
				if len(kinds) > 0 {
					kinds = kinds[:len(kinds)-1]
				}
			}
			expectKey = len(kinds) > 0 && kinds[len(kinds)-1] == '{' && v != '['
			continue
		case string:
			if expectKey {
				key, expectKey = v, false
				b.WriteString(strconv.Quote(v) + ":")
				continue
			}
			if textFields[key] {
				b.WriteString(strconv.Quote(v))
			} else {
				b.WriteString(`"…"`)
			}
		case json.Number:
			b.WriteString(v.String())
		case bool:
			b.WriteString(strconv.FormatBool(v))
		case nil:
			b.WriteString("null")
		}
		b.WriteString(" ")
		expectKey = len(kinds) > 0 && kinds[len(kinds)-1] == '{'
	}
	return b.String()
}
