package ewsbox

import (
	"context"
	"fmt"
	"strings"

	"mailconnector/shared/mailbox"
)

type folderRef struct{ id, name string }

// resolve returns the id and display path ("Inbox/Done") of a folder
// path: a first level "inbox" is the distinguished inbox, any other path
// starts at the root of the mailbox. With create, missing levels are
// created (CreateFolder).
func (s *Session) resolve(ctx context.Context, path string, create bool) (string, string, error) {
	levels := mailbox.SplitFolderPath(path)
	key := strings.ToLower(strings.Join(levels, "/"))
	if f, ok := s.folders[key]; ok {
		return f.id, f.name, nil
	}
	parent := s.c.distinguished("msgfolderroot")
	var names []string
	id := ""
	if strings.EqualFold(levels[0], "inbox") {
		m, err := s.c.callOne(ctx, "GetFolder", `<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="folder:DisplayName"/></t:AdditionalProperties></m:FolderShape><m:FolderIds>`+s.c.distinguished("inbox")+`</m:FolderIds></m:GetFolder>`)
		if err != nil {
			return "", "", err
		}
		id = m.find("FolderId").attr("Id")
		names = append(names, m.text("DisplayName"))
		parent = `<t:FolderId Id="` + esc(id) + `"/>`
		levels = levels[1:]
	}
	for _, level := range levels {
		child, name, err := s.child(ctx, parent, level, create)
		if err != nil {
			return "", "", fmt.Errorf("folder %s: %w", path, err)
		}
		id = child
		names = append(names, name)
		parent = `<t:FolderId Id="` + esc(id) + `"/>`
	}
	f := folderRef{id: id, name: strings.Join(names, "/")}
	s.folders[key] = f
	return f.id, f.name, nil
}

// child finds (or creates) the child folder name of parent.
func (s *Session) child(ctx context.Context, parent, name string, create bool) (string, string, error) {
	for attempt := 0; attempt < 2; attempt++ {
		m, err := s.c.callOne(ctx, "FindFolder", `<m:FindFolder Traversal="Shallow"><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="folder:DisplayName"/></t:AdditionalProperties></m:FolderShape><m:ParentFolderIds>`+parent+`</m:ParentFolderIds></m:FindFolder>`)
		if err != nil {
			return "", "", err
		}
		for _, f := range m.findAll("Folder") {
			if strings.EqualFold(f.text("DisplayName"), name) {
				return f.find("FolderId").attr("Id"), f.text("DisplayName"), nil
			}
		}
		if !create {
			return "", "", &ResponseError{Op: "FindFolder", Code: "ErrorFolderNotFound", Text: "no folder named " + name}
		}
		m, err = s.c.callOne(ctx, "CreateFolder", `<m:CreateFolder><m:ParentFolderId>`+parent+`</m:ParentFolderId><m:Folders><t:Folder><t:DisplayName>`+esc(name)+`</t:DisplayName></t:Folder></m:Folders></m:CreateFolder>`)
		if isCode(err, "ErrorFolderExists") {
			continue // created meanwhile: find it
		}
		if err != nil {
			return "", "", err
		}
		return m.find("FolderId").attr("Id"), name, nil
	}
	return "", "", &ResponseError{Op: "CreateFolder", Code: "ErrorFolderExists", Text: name}
}
