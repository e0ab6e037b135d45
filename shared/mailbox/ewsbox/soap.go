package ewsbox

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"mailconnector/shared/mailbox"
)

// The EWS namespaces.
const (
	nsSoap     = "http://schemas.xmlsoap.org/soap/envelope/"
	nsTypes    = "http://schemas.microsoft.com/exchange/services/2006/types"
	nsMessages = "http://schemas.microsoft.com/exchange/services/2006/messages"
)

// maxResponse bounds a response read whole (every one but GetItem's
// MimeContent, which streams).
const maxResponse = 32 << 20

// node is an element of a response.
type node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []node     `xml:",any"`
	Text    string     `xml:",chardata"`
}

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

// findAll returns the outermost descendants named local.
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

// messages returns the response messages (…ResponseMessage elements).
func (n *node) messages() []*node {
	var out []*node
	if n == nil {
		return nil
	}
	for i := range n.Nodes {
		c := &n.Nodes[i]
		if strings.HasSuffix(c.XMLName.Local, "ResponseMessage") {
			out = append(out, c)
			continue
		}
		out = append(out, c.messages()...)
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

// ResponseError is an EWS response code other than NoError.
type ResponseError struct {
	Op, Code, Text string
}

func (e *ResponseError) Error() string {
	if e.Text != "" && e.Text != e.Code {
		return fmt.Sprintf("ews %s: %s: %s", e.Op, e.Code, e.Text)
	}
	return fmt.Sprintf("ews %s: %s", e.Op, e.Code)
}

// codeOf is the response code of a response message, or nil for NoError.
func codeOf(op string, m *node) error {
	code := m.text("ResponseCode")
	if code == "" || code == "NoError" {
		return nil
	}
	return &ResponseError{Op: op, Code: code, Text: m.text("MessageText")}
}

// isCode reports whether err is a ResponseError with one of codes.
func isCode(err error, codes ...string) bool {
	var re *ResponseError
	if !errors.As(err, &re) {
		return false
	}
	for _, c := range codes {
		if re.Code == c {
			return true
		}
	}
	return false
}

// ThrottledError is returned when the server kept answering
// ErrorServerBusy for longer than the session may wait; it wraps
// mailbox.ErrThrottled.
type ThrottledError struct {
	Waited  time.Duration
	BackOff time.Duration // what the server asked for last
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("ews kept answering ErrorServerBusy (waited %s, asked for %s more)", e.Waited.Round(time.Millisecond), e.BackOff.Round(time.Millisecond))
}

func (e *ThrottledError) Unwrap() error { return mailbox.ErrThrottled }

// HTTPError is an answer that is not SOAP (a 401, a proxy's 502).
type HTTPError struct {
	Status int
	Body   string
}

func (e *HTTPError) Error() string {
	if e.Status == http.StatusUnauthorized {
		return "the server refused the credentials (HTTP 401)"
	}
	return fmt.Sprintf("HTTP %d: %s", e.Status, e.Body)
}

// envelope wraps body in a SOAP envelope with the version the session
// asks for and, for another mailbox, the impersonation header.
func (c *client) envelope(body string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="%s" xmlns:t="%s" xmlns:m="%s"><soap:Header><t:RequestServerVersion Version="%s"/>`, nsSoap, nsTypes, nsMessages, c.version)
	if c.impersonate != "" {
		fmt.Fprintf(&b, `<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>%s</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>`, esc(c.impersonate))
	}
	fmt.Fprintf(&b, `</soap:Header><soap:Body>%s</soap:Body></soap:Envelope>`, body)
	return b.Bytes()
}

// client sends SOAP requests to one EWS endpoint.
type client struct {
	http        *http.Client
	url         string
	version     string // RequestServerVersion
	impersonate string
	delegate    string // the mailbox named in distinguished folder ids
	auth        func(*http.Request) error
	maxWait     time.Duration
	sleep       func(context.Context, time.Duration) error
	// serverVersion is the last ServerVersionInfo seen.
	serverVersion string
}

// post sends one request and returns the response with a SOAP body
// (status 200), retrying ErrorServerBusy after BackOffMilliseconds while
// the session may still wait. The caller closes the body.
func (c *client) post(ctx context.Context, op, body string) (*http.Response, error) {
	payload := c.envelope(body)
	var waited time.Duration
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		if err := c.auth(req); err != nil {
			return nil, err
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusOK {
			return resp, nil
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		var env node
		if resp.StatusCode != http.StatusInternalServerError || xml.Unmarshal(b, &env) != nil || env.find("Fault") == nil {
			return nil, &HTTPError{Status: resp.StatusCode, Body: strings.TrimSpace(string(b[:min(len(b), 200)]))}
		}
		f := env.find("Fault")
		code := f.text("ResponseCode")
		if code == "" {
			_, code, _ = strings.Cut(f.text("faultcode"), ":")
		}
		ferr := &ResponseError{Op: op, Code: code, Text: f.text("faultstring")}
		if code != "ErrorServerBusy" {
			return nil, ferr
		}
		delay := time.Second << min(attempt, 5)
		for _, v := range env.findAll("Value") {
			if v.attr("Name") == "BackOffMilliseconds" {
				if ms, err := strconv.Atoi(strings.TrimSpace(v.Text)); err == nil && ms >= 0 {
					delay = time.Duration(ms) * time.Millisecond
				}
			}
		}
		if waited+delay > c.maxWait {
			return nil, &ThrottledError{Waited: waited, BackOff: delay}
		}
		if err := c.sleep(ctx, delay); err != nil {
			return nil, err
		}
		waited += delay
	}
}

// call sends a request and reads the whole response; it returns the
// response messages, or the first one's error when errs is false.
func (c *client) call(ctx context.Context, op, body string) ([]*node, error) {
	resp, err := c.post(ctx, op, body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var env node
	if err := xml.NewDecoder(io.LimitReader(resp.Body, maxResponse)).Decode(&env); err != nil {
		return nil, fmt.Errorf("ews %s: read the response: %w", op, err)
	}
	c.noteVersion(&env)
	ms := env.messages()
	if len(ms) == 0 {
		return nil, fmt.Errorf("ews %s: no response message", op)
	}
	return ms, nil
}

// callOne is call for a request with one response message, whose error
// it returns.
func (c *client) callOne(ctx context.Context, op, body string) (*node, error) {
	ms, err := c.call(ctx, op, body)
	if err != nil {
		return nil, err
	}
	return ms[0], codeOf(op, ms[0])
}

// distinguished is a DistinguishedFolderId, naming the delegate's
// mailbox if there is one.
func (c *client) distinguished(id string) string {
	if c.delegate == "" {
		return `<t:DistinguishedFolderId Id="` + id + `"/>`
	}
	return `<t:DistinguishedFolderId Id="` + id + `"><t:Mailbox><t:EmailAddress>` + esc(c.delegate) + `</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId>`
}

func (c *client) noteVersion(env *node) {
	if v := env.find("ServerVersionInfo"); v != nil {
		c.serverVersion = fmt.Sprintf("%s.%s.%s.%s %s", v.attr("MajorVersion"), v.attr("MinorVersion"), v.attr("MajorBuildNumber"), v.attr("MinorBuildNumber"), v.attr("Version"))
	}
}
