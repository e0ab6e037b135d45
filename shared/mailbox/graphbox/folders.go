package graphbox

import (
	"context"
	"net/http"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

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
// levels when create is set.
func (s *Session) resolveFolder(ctx context.Context, path string, create bool) (string, error) {
	parts := mailbox.SplitFolderPath(path)
	key := strings.ToLower(strings.Join(parts, "/"))
	if id, ok := s.ids[key]; ok {
		return id, nil
	}
	mf := s.client.Users().ByUserId(s.user).MailFolders()
	var id string
	var names []string
	for i, name := range parts {
		filter := "displayName eq " + quote(name)
		var list func() ([]models.MailFolderable, error)
		var post func() (models.MailFolderable, error)
		nf := models.NewMailFolder()
		nf.SetDisplayName(&name)
		if i == 0 {
			if wk, ok := wellKnown[strings.ToLower(name)]; ok {
				f, err := mf.ByMailFolderId(wk).Get(ctx, nil)
				if err != nil {
					return "", err
				}
				id = deref(f.GetId())
				names = append(names, deref(f.GetDisplayName()))
				continue
			}
			conf := &users.ItemMailFoldersRequestBuilderGetRequestConfiguration{QueryParameters: &users.ItemMailFoldersRequestBuilderGetQueryParameters{Filter: &filter}}
			list = func() ([]models.MailFolderable, error) {
				r, err := mf.Get(ctx, conf)
				if err != nil {
					return nil, err
				}
				return r.GetValue(), nil
			}
			post = func() (models.MailFolderable, error) { return mf.Post(ctx, nf, nil) }
		} else {
			child := mf.ByMailFolderId(id).ChildFolders()
			conf := &users.ItemMailFoldersItemChildFoldersRequestBuilderGetRequestConfiguration{QueryParameters: &users.ItemMailFoldersItemChildFoldersRequestBuilderGetQueryParameters{Filter: &filter}}
			list = func() ([]models.MailFolderable, error) {
				r, err := child.Get(ctx, conf)
				if err != nil {
					return nil, err
				}
				return r.GetValue(), nil
			}
			post = func() (models.MailFolderable, error) { return child.Post(ctx, nf, nil) }
		}
		next, display, err := findOrCreate(list, post, create)
		if err != nil {
			return "", err
		}
		if next == "" {
			return "", &errFolderMissing{path: strings.Join(parts[:i+1], "/")}
		}
		id = next
		names = append(names, display)
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

// findOrCreate returns the id of the one folder list finds, or of the one
// post creates; "" when there is none and create is off. A folder created
// meanwhile by another run (409 ErrorFolderExists) is looked up again.
func findOrCreate(list func() ([]models.MailFolderable, error), post func() (models.MailFolderable, error), create bool) (id, name string, err error) {
	v, err := list()
	if err != nil {
		return "", "", err
	}
	if len(v) > 0 {
		return deref(v[0].GetId()), deref(v[0].GetDisplayName()), nil
	}
	if !create {
		return "", "", nil
	}
	f, err := post()
	if statusOf(err) == http.StatusConflict {
		if v, err = list(); err != nil || len(v) == 0 {
			return "", "", err
		}
		return deref(v[0].GetId()), deref(v[0].GetDisplayName()), nil
	}
	if err != nil {
		return "", "", err
	}
	return deref(f.GetId()), deref(f.GetDisplayName()), nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
