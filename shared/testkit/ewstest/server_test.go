package ewstest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// soap posts one EWS request body as user and returns the response.
func soap(t *testing.T, client *http.Client, base, user, pass, body string) (int, string) {
	t.Helper()
	env := fmt.Sprintf(`<soap:Envelope xmlns:soap="%s" xmlns:t="%s" xmlns:m="%s"><soap:Body>%s</soap:Body></soap:Envelope>`, nsSoap, nsTypes, nsMessages, body)
	req, _ := http.NewRequest(http.MethodPost, base+"/EWS/Exchange.asmx", strings.NewReader(env))
	req.SetBasicAuth(user, pass)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func msg(id string) []byte {
	return []byte("Message-ID: <" + id + ">\r\nSubject: x\r\n\r\nbody\r\n")
}

func TestFindItemPagesOldestFirst(t *testing.T) {
	s := Start(t)
	s.AddUser("u@x.example", "pw", "u@x.example")
	for i := 0; i < 5; i++ {
		s.Deliver("u@x.example", "Inbox", msg(fmt.Sprintf("m%d@x", i)))
	}
	page := func(offset int) string {
		_, body := soap(t, http.DefaultClient, s.URL(), "u@x.example", "pw", fmt.Sprintf(`<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:IndexedPageItemView MaxEntriesReturned="2" Offset="%d" BasePoint="Beginning"/><m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem>`, offset))
		return body
	}
	first, last := page(0), page(4)
	if !strings.Contains(first, `IncludesLastItemInRange="false"`) || strings.Count(first, "<t:Message>") != 2 || !strings.Contains(first, "m0@x") || !strings.Contains(first, "m1@x") {
		t.Errorf("first page: got %s, want m0 and m1 and more to come", first)
	}
	if !strings.Contains(last, `IncludesLastItemInRange="true"`) || strings.Count(last, "<t:Message>") != 1 || !strings.Contains(last, "m4@x") {
		t.Errorf("last page: got %s, want m4 and the end", last)
	}
}

func TestDeleteAndFolders(t *testing.T) {
	s := Start(t)
	s.AddUser("u@x.example", "pw", "u@x.example")
	a := s.Deliver("u@x.example", "Inbox", msg("a@x"))
	b := s.Deliver("u@x.example", "Inbox/Support", msg("b@x"))
	call := func(body string) string {
		_, r := soap(t, http.DefaultClient, s.URL(), "u@x.example", "pw", body)
		return r
	}
	call(`<m:DeleteItem DeleteType="MoveToDeletedItems"><m:ItemIds><t:ItemId Id="` + a + `"/></m:ItemIds></m:DeleteItem>`)
	call(`<m:DeleteItem DeleteType="HardDelete"><m:ItemIds><t:ItemId Id="` + b + `"/></m:ItemIds></m:DeleteItem>`)
	got := s.Messages("u@x.example")
	if len(got) != 1 || got[0].MessageID != "a@x" || !got[0].Deleted || got[0].Folder != "Deleted Items" {
		t.Errorf("got %+v, want a@x in Deleted Items and b@x gone", got)
	}
	if r := call(`<m:CreateFolder><m:ParentFolderId><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderId><m:Folders><t:Folder><t:DisplayName>support</t:DisplayName></t:Folder></m:Folders></m:CreateFolder>`); !strings.Contains(r, "ErrorFolderExists") {
		t.Errorf("create of an existing folder: got %s, want ErrorFolderExists", r)
	}
	if r := call(`<m:FindFolder Traversal="Deep"><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:ParentFolderIds><t:DistinguishedFolderId Id="msgfolderroot"/></m:ParentFolderIds></m:FindFolder>`); !strings.Contains(r, "<t:DisplayName>Support</t:DisplayName>") || !strings.Contains(r, "<t:DisplayName>Deleted Items</t:DisplayName>") {
		t.Errorf("deep FindFolder: got %s, want Support and Deleted Items", r)
	}
	if r := call(`<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:ItemIds><t:ItemId Id="` + a + `"/></m:ItemIds></m:GetItem>`); !strings.Contains(r, "ErrorItemNotFound") {
		t.Errorf("GetItem of a moved item's old id: got %s, want ErrorItemNotFound", r)
	}
}

func TestAuthAndBusy(t *testing.T) {
	s, _ := StartTLS(t)
	s.AddUser("u@x.example", "pw", "u@x.example")
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: s.TLSConfig()}}
	const getInbox = `<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder>`
	if code, _ := soap(t, client, s.TLSURL(), "u@x.example", "wrong", getInbox); code != http.StatusUnauthorized {
		t.Errorf("wrong password: got %d, want 401", code)
	}
	code, body := soap(t, client, s.TLSURL(), "u@x.example", "pw", getInbox)
	if code != http.StatusOK || !strings.Contains(body, `Version="V2017_07_11"`) || !strings.Contains(body, "<t:DisplayName>Inbox</t:DisplayName>") {
		t.Errorf("over TLS: got %d %s, want the inbox and ServerVersionInfo", code, body)
	}
	s.Busy(1, 2*time.Second)
	code, body = soap(t, client, s.TLSURL(), "u@x.example", "pw", getInbox)
	if code != http.StatusInternalServerError || !strings.Contains(body, `<t:Value Name="BackOffMilliseconds">2000</t:Value>`) {
		t.Errorf("busy: got %d %s, want a fault with BackOffMilliseconds 2000", code, body)
	}
	if code, _ := soap(t, client, s.TLSURL(), "u@x.example", "pw", getInbox); code != http.StatusOK {
		t.Errorf("after the busy answer: got %d, want 200", code)
	}
	// The 401 is counted as a request, not as an operation.
	if s.Count("GetFolder") != 3 || s.Requests() != 4 {
		t.Errorf("got %d GetFolder of %d requests, want 3 of 4", s.Count("GetFolder"), s.Requests())
	}
}

func TestNTLMChallenge(t *testing.T) {
	var c [8]byte
	copy(c[:], "12345678")
	m := challengeMessage(c)
	if !bytes.HasPrefix(m, []byte("NTLMSSP\x00\x02\x00\x00\x00")) || !bytes.Equal(m[24:32], c[:]) {
		t.Errorf("got challenge message %x, want type 2 carrying the challenge at offset 24", m)
	}
}
