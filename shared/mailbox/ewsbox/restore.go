package ewsbox

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"mailconnector/shared/mailbox"
)

var _ mailbox.Restorer = (*Session)(nil)

// restorePage is the FindItem page size (IndexedPageItemView) of a
// look-up, and the most items one MoveItem moves.
const restorePage = 100

// Restore moves the messages of folder whose InternetMessageId is
// "<ids[i]>" into the session's folder: the folder is resolved as a move
// target is, without creating it; each Message-ID is looked up with
// FindItem restricted by IsEqualTo on message:InternetMessageId
// (https://learn.microsoft.com/exchange/client-developer/web-service-reference/finditem-operation,
// .../isequalto), and what is found is moved with MoveItem
// (https://learn.microsoft.com/exchange/client-developer/web-service-reference/moveitem-operation).
// A folder that does not exist holds none of them (mailbox.ErrGone for
// each).
func (s *Session) Restore(ctx context.Context, folder string, ids []string) []error {
	errs := make([]error, len(ids))
	if len(ids) == 0 {
		return errs
	}
	fail := func(err error) []error { return mailbox.FillErrors(errs, err) }
	from, _, err := s.resolve(ctx, folder, false)
	switch {
	case isCode(err, "ErrorFolderNotFound"):
		return mailbox.FillErrors(errs, fmt.Errorf("ews: move back from %q: %v: %w", folder, err, mailbox.ErrGone))
	case err != nil:
		return fail(fmt.Errorf("ews: move back from %q: %w", folder, err))
	case from == s.folderID:
		return fail(fmt.Errorf("ews: move back from %q: it is the job's folder", folder))
	}
	var items []string // item ids to move
	var owner []int    // the index in ids of each
	for i, id := range ids {
		found, err := s.findByMessageID(ctx, from, "<"+strings.Trim(id, "<>")+">")
		switch {
		case ctx.Err() != nil:
			return fail(fmt.Errorf("ews: move back from %q: %w", folder, ctx.Err()))
		case isCode(err, "ErrorFolderNotFound"):
			errs[i] = fmt.Errorf("ews: look for <%s> in %q: the folder is gone: %w", id, folder, mailbox.ErrGone)
		case err != nil:
			errs[i] = fmt.Errorf("ews: look for <%s> in %q: %w", id, folder, err)
		case len(found) == 0:
			errs[i] = fmt.Errorf("ews: <%s> is not in %q: %w", id, folder, mailbox.ErrGone)
		}
		for _, f := range found {
			items, owner = append(items, f), append(owner, i)
		}
	}
	moved := make([]bool, len(ids))
	for start := 0; start < len(items); start += restorePage {
		end := min(start+restorePage, len(items))
		var b strings.Builder
		b.WriteString(`<m:MoveItem><m:ToFolderId><t:FolderId Id="` + esc(s.folderID) + `"/></m:ToFolderId><m:ItemIds>`)
		for _, it := range items[start:end] {
			b.WriteString(`<t:ItemId Id="` + esc(it) + `"/>`)
		}
		b.WriteString(`</m:ItemIds></m:MoveItem>`)
		ms, err := s.c.call(ctx, "MoveItem", b.String())
		for j := start; j < end; j++ {
			i := owner[j]
			var why error
			switch {
			case err != nil:
				why = err
			case j-start >= len(ms):
				why = errors.New("ews MoveItem: no response message for the item")
			default:
				why = codeOf("MoveItem", ms[j-start])
			}
			switch {
			case why == nil:
				moved[i] = true
			case isCode(why, "ErrorItemNotFound"):
				if errs[i] == nil {
					errs[i] = fmt.Errorf("ews: move <%s> from %q back: %w", ids[i], folder, mailbox.ErrGone)
				}
			case errs[i] == nil || errors.Is(errs[i], mailbox.ErrGone):
				// A failure other than "gone" outranks "gone".
				errs[i] = fmt.Errorf("ews: move <%s> from %q back: %w", ids[i], folder, why)
			}
		}
	}
	for i := range ids {
		if moved[i] {
			errs[i] = nil
		}
	}
	return errs
}

// findByMessageID returns the ids of the items of folder whose
// InternetMessageId is messageID, reading every page.
func (s *Session) findByMessageID(ctx context.Context, folder, messageID string) ([]string, error) {
	var out []string
	for offset := 0; ; {
		m, err := s.c.callOne(ctx, "FindItem", `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>`+
			`<m:IndexedPageItemView MaxEntriesReturned="`+strconv.Itoa(restorePage)+`" Offset="`+strconv.Itoa(offset)+`" BasePoint="Beginning"/>`+
			`<m:Restriction><t:IsEqualTo><t:FieldURI FieldURI="message:InternetMessageId"/><t:FieldURIOrConstant><t:Constant Value="`+esc(messageID)+`"/></t:FieldURIOrConstant></t:IsEqualTo></m:Restriction>`+
			`<m:ParentFolderIds><t:FolderId Id="`+esc(folder)+`"/></m:ParentFolderIds></m:FindItem>`)
		if err != nil {
			return nil, err
		}
		page := m.findAll("ItemId")
		for _, it := range page {
			if id := it.attr("Id"); id != "" {
				out = append(out, id)
			}
		}
		root := m.find("RootFolder")
		if len(page) == 0 || !strings.EqualFold(root.attr("IncludesLastItemInRange"), "false") {
			return out, nil
		}
		next, err := strconv.Atoi(root.attr("IndexedPagingOffset"))
		if err != nil || next <= offset {
			return out, nil
		}
		offset = next
	}
}
