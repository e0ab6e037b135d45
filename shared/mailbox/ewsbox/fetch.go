package ewsbox

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"

	"mailconnector/shared/mailbox"
)

// maxHead bounds what is read of a GetItem response before its
// MimeContent (the envelope and the response message's start).
const maxHead = 1 << 20

// Fetch streams each item's MIME content (GetItem, IncludeMimeContent),
// one request per item. encoding/xml hands a text node over whole, which
// for a 20 MB message is 27 MB of base64 in memory; so the response is
// scanned up to the MimeContent start tag, and the element's text is
// base64 decoded while fn reads it. Base64 holds no markup or entities:
// the text ends at the next '<'.
func (s *Session) Fetch(ctx context.Context, items []mailbox.Item, fn func(mailbox.Item, io.Reader) error) error {
	// Oldest first: in the order Scan listed them (an item it did not
	// list keeps its place after those it did).
	items = slices.Clone(items)
	slices.SortStableFunc(items, func(a, b mailbox.Item) int {
		ra, oka := s.rank[a.Source.ID]
		rb, okb := s.rank[b.Source.ID]
		switch {
		case oka && okb:
			return ra - rb
		case oka:
			return -1
		case okb:
			return 1
		}
		return 0
	})
	for _, it := range items {
		if it.Source.Protocol != "ews" || it.Source.Folder != s.info.Folder {
			if err := fn(it, nil); err != nil {
				return err
			}
			continue
		}
		if err := s.fetchOne(ctx, it, fn); err != nil {
			return err
		}
	}
	return nil
}

func (s *Session) fetchOne(ctx context.Context, it mailbox.Item, fn func(mailbox.Item, io.Reader) error) error {
	body := `<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:IncludeMimeContent>true</t:IncludeMimeContent></m:ItemShape><m:ItemIds><t:ItemId Id="` + esc(it.Source.ID) + `"/></m:ItemIds></m:GetItem>`
	resp, err := s.c.post(ctx, "GetItem", body)
	if err != nil {
		return fmt.Errorf("ews: fetch %s: %w", it.Source, err)
	}
	defer resp.Body.Close()
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	var head bytes.Buffer
	found, err := toMimeContent(br, &head)
	if err != nil {
		return fmt.Errorf("ews: fetch %s: %w", it.Source, err)
	}
	if !found {
		// No content: an error response, read whole (it is small).
		var env node
		if err := xml.Unmarshal(head.Bytes(), &env); err != nil {
			return fmt.Errorf("ews: fetch %s: read the response: %w", it.Source, err)
		}
		s.c.noteVersion(&env)
		ms := env.messages()
		if len(ms) == 0 {
			return fmt.Errorf("ews: fetch %s: no response message", it.Source)
		}
		err := codeOf("GetItem", ms[0])
		if isCode(err, "ErrorItemNotFound", "ErrorInvalidIdMalformed") {
			return fn(it, nil)
		}
		if err == nil {
			err = errors.New("the response holds no MimeContent")
		}
		return fmt.Errorf("ews: fetch %s: %w", it.Source, err)
	}
	return fn(it, base64.NewDecoder(base64.StdEncoding, &textReader{br: br}))
}

// toMimeContent reads br up to and including the MimeContent start tag,
// copying what it reads to head; found is false when the response ends
// without one (head then holds the whole response).
func toMimeContent(br *bufio.Reader, head *bytes.Buffer) (found bool, err error) {
	for {
		b, err := br.ReadBytes('<')
		head.Write(b)
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		tag, err := br.ReadBytes('>')
		head.Write(tag)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return false, err
		}
		if head.Len() > maxHead {
			return false, fmt.Errorf("no MimeContent in the first %d bytes of the response", maxHead)
		}
		name := tag
		if i := bytes.IndexAny(name, " \t\r\n/>"); i >= 0 {
			name = name[:i]
		}
		if i := bytes.IndexByte(name, ':'); i >= 0 {
			name = name[i+1:]
		}
		if string(name) == "MimeContent" && !bytes.HasSuffix(tag, []byte("/>")) {
			return true, nil
		}
	}
}

// textReader reads an element's text up to the next '<'.
type textReader struct {
	br      *bufio.Reader
	pending []byte
	done    bool
}

func (t *textReader) Read(p []byte) (int, error) {
	for len(t.pending) == 0 {
		if t.done {
			return 0, io.EOF
		}
		chunk, err := t.br.ReadSlice('<')
		switch {
		case err == nil:
			chunk = chunk[:len(chunk)-1]
			t.done = true
		case errors.Is(err, bufio.ErrBufferFull):
		case err == io.EOF:
			return 0, fmt.Errorf("the MimeContent ends early: %w", io.ErrUnexpectedEOF)
		default:
			return 0, err
		}
		t.pending = chunk
	}
	n := copy(p, t.pending)
	t.pending = t.pending[n:]
	return n, nil
}
