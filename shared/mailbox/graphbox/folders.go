package graphbox

import (
	"context"
	"net/http"
	"strings"

	"mailconnector/shared/mailbox"
)

// wellKnown maps the names a job may use for a top-level folder to Graph's
// well-known folder names
// (https://learn.microsoft.com/graph/api/resources/mailfolder#well-known-folder-names).
var wellKnown = map[string]string{
	"inbox": "inbox", "archive": "archive", "deleted items": "deleteditems", "deleteditems": "deleteditems",
	"junk email": "junkemail", "junkemail": "junkemail", "sent items": "sentitems", "sentitems": "sentitems",
	"drafts": "drafts",
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// resolveFolder returns the id of a folder path, creating the missing
// levels when create is set. A top-level well-known name is read by that
// name; every other level is looked up among its parent's folders with
// $filter=displayName eq '…'
// (https://learn.microsoft.com/graph/api/user-list-mailfolders,
// https://learn.microsoft.com/graph/api/mailfolder-list-childfolders)
// and created with a POST of its displayName to the same collection.
func (s *Session) resolveFolder(ctx context.Context, path string, create bool) (string, error) {
	parts := mailbox.SplitFolderPath(path)
	key := strings.ToLower(strings.Join(parts, "/"))
	if id, ok := s.ids[key]; ok {
		return id, nil
	}
	var id string
	var names []string
	for i, name := range parts {
		collection := s.userPath() + "/mailFolders"
		if i == 0 {
			if wk, ok := wellKnown[strings.ToLower(name)]; ok {
				var f mailFolder
				if err := s.call(ctx, http.MethodGet, s.folderPath(wk), nil, &f); err != nil {
					return "", err
				}
				id = f.ID
				names = append(names, f.DisplayName)
				continue
			}
		} else {
			collection = s.folderPath(id) + "/childFolders"
		}
		f, err := s.findOrCreate(ctx, collection, name, create)
		if err != nil {
			return "", err
		}
		if f.ID == "" {
			return "", &errFolderMissing{path: strings.Join(parts[:i+1], "/")}
		}
		id = f.ID
		names = append(names, f.DisplayName)
	}
	s.ids[key] = id
	s.names[key] = strings.Join(names, "/")
	return id, nil
}

// folderName is the server's name of a resolved folder path, levels
// separated by "/".
func (s *Session) folderName(path string) string {
	return s.names[strings.ToLower(strings.Join(mailbox.SplitFolderPath(path), "/"))]
}

// findOrCreate returns the folder of the collection named name, or the
// one it creates there; a zero mailFolder when there is none and create
// is off. A folder created meanwhile by another run (409
// ErrorFolderExists) is looked up again.
func (s *Session) findOrCreate(ctx context.Context, collection, name string, create bool) (mailFolder, error) {
	list := func() (mailFolder, error) {
		var page struct {
			Value []mailFolder `json:"value"`
		}
		err := s.call(ctx, http.MethodGet, collection+"?$filter="+queryEscape("displayName eq "+quote(name)), nil, &page)
		if err != nil || len(page.Value) == 0 {
			return mailFolder{}, err
		}
		return page.Value[0], nil
	}
	f, err := list()
	if err != nil || f.ID != "" || !create {
		return f, err
	}
	err = s.call(ctx, http.MethodPost, collection, map[string]string{"displayName": name}, &f)
	if statusOf(err) == http.StatusConflict {
		return list()
	}
	return f, err
}
