package ewstest

import (
	"net/http"
	"strings"
	"testing"
)

// TestFindItemRestrictionOnInternetMessageID: IsEqualTo on
// message:InternetMessageId finds the folder's items with that
// Message-ID (angle brackets included, any case, XML escapes undone);
// a restriction the server does not model is refused, not ignored.
func TestFindItemRestrictionOnInternetMessageID(t *testing.T) {
	s := Start(t)
	s.AddUser("u@x.example", "pw", "u@x.example")
	s.Deliver("u@x.example", "Inbox/Errors", msg("a@x"))
	s.Deliver("u@x.example", "Inbox/Errors", msg("o'b&c@x"))
	s.Deliver("u@x.example", "Inbox/Errors", msg("c@x"))
	s.Deliver("u@x.example", "Inbox", msg("inbox@x"))
	_, folders := soap(t, http.DefaultClient, s.URL(), "u@x.example", "pw", `<m:FindFolder Traversal="Shallow"><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindFolder>`)
	_, after, _ := strings.Cut(folders, `<t:FolderId Id="`)
	errorsID, _, _ := strings.Cut(after, `"`)
	find := func(restriction string) string {
		_, body := soap(t, http.DefaultClient, s.URL(), "u@x.example", "pw", `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:Restriction>`+restriction+`</m:Restriction><m:ParentFolderIds><t:FolderId Id="`+errorsID+`"/></m:ParentFolderIds></m:FindItem>`)
		return body
	}
	eq := func(v string) string {
		return `<t:IsEqualTo><t:FieldURI FieldURI="message:InternetMessageId"/><t:FieldURIOrConstant><t:Constant Value="` + v + `"/></t:FieldURIOrConstant></t:IsEqualTo>`
	}
	for _, tc := range []struct {
		name, restriction string
		want              []string // Message-IDs found; nil with code
		code              string
	}{
		{"a match", eq("&lt;a@x&gt;"), []string{"a@x"}, ""},
		{"escaped characters", eq("&lt;o&apos;b&amp;c@x&gt;"), []string{"o&#39;b&amp;c@x"}, ""},
		{"another case", eq("&lt;A@X&gt;"), []string{"a@x"}, ""},
		{"without angle brackets", eq("a@x"), nil, ""},
		{"in another folder", eq("&lt;inbox@x&gt;"), nil, ""},
		{"another property", `<t:IsEqualTo><t:FieldURI FieldURI="item:Subject"/><t:FieldURIOrConstant><t:Constant Value="x"/></t:FieldURIOrConstant></t:IsEqualTo>`, nil, "ErrorInvalidRestriction"},
		{"another expression", `<t:Contains ContainmentMode="Substring" ContainmentComparison="IgnoreCase"><t:FieldURI FieldURI="message:InternetMessageId"/><t:Constant Value="a@x"/></t:Contains>`, nil, "ErrorInvalidRestriction"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := find(tc.restriction)
			if tc.code != "" {
				if !strings.Contains(body, "<m:ResponseCode>"+tc.code+"</m:ResponseCode>") {
					t.Errorf("got %s, want %s", body, tc.code)
				}
				return
			}
			if got := strings.Count(body, "<t:Message>"); got != len(tc.want) {
				t.Errorf("got %d items (%s), want %d", got, body, len(tc.want))
			}
			for _, id := range tc.want {
				if !strings.Contains(body, "&lt;"+id+"&gt;") {
					t.Errorf("got %s, want %s", body, id)
				}
			}
		})
	}
}
