package pipeline_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"mailconnector/shared/job"
	"mailconnector/shared/notify"
	"mailconnector/shared/notify/notifytest"
	"mailconnector/shared/pipeline"
)

func TestNoticesForDroppedAttachmentsAndRejectedSenders(t *testing.T) {
	e := newEnv(t, func(j *job.Job) {
		j.Attachments.BlockExtensions = []string{"exe"}
		j.Attachments.NotifyOnDrop = job.NotifyOnDrop{Sender: true}
		j.Processing.AllowNewRequestsFrom = []string{"*@customer.example"}
		j.Notifications.NotifySenderOnReject = true
	})
	// Notices go only to senders whose domain passes DMARC (or aligned SPF)
	// in the trusted Authentication-Results (RFC 8601).
	withExe := "Authentication-Results: mx.desk.example; dmarc=pass header.from=customer.example\r\n" +
		"Message-ID: <exe@customer.example>\r\nFrom: ann@customer.example\r\nSubject: tool\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n" +
		"--b\r\nContent-Type: application/octet-stream; name=setup.exe\r\nContent-Disposition: attachment; filename=setup.exe\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--b--\r\n"
	stranger := "Authentication-Results: mx.desk.example; dmarc=pass header.from=elsewhere.example\r\n" +
		"Message-ID: <who@elsewhere.example>\r\nFrom: bob@elsewhere.example\r\nSubject: hello\r\n\r\nhi\r\n"
	bounce := "Message-ID: <ooo@elsewhere.example>\r\nFrom: carl@elsewhere.example\r\nAuto-Submitted: auto-replied\r\nSubject: Out of office\r\n\r\naway\r\n"
	e.deliver([]byte(withExe), []byte(stranger), []byte(bounce))
	box := &notifytest.Recorder{}
	r := e.start(pipeline.Config{Notifier: box})
	runJob(t, r, e)
	var got []string
	for _, n := range box.Notices() {
		if n.Kind == notify.ErrorFolder {
			continue // the administrators' notice of the rejected mail
		}
		got = append(got, n.Kind+" to "+strings.Join(n.To, ",")+": "+n.Subject)
	}
	want := []string{"to ann@customer.example", "to bob@elsewhere.example: Your message was not accepted"}
	for _, w := range want {
		found := false
		for _, g := range got {
			if strings.Contains(g, w) {
				found = true
			}
		}
		if !found {
			t.Errorf("got notices %q, want one %q", got, w)
		}
	}
	if len(got) != 2 {
		t.Errorf("got %d notices %q, want 2 (none to the auto-reply's sender)", len(got), got)
	}
}

func TestLongBodiesAreCutOnTheConversationAndKeptWhole(t *testing.T) {
	e := newEnv(t, nil)
	body := strings.Repeat("Zeile mit Umlauten äöü und mehr Text. ", 4000) // ~150 KB
	raw := "Message-ID: <long@example.com>\r\nFrom: a@example.com\r\nSubject: long\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n"
	e.deliver([]byte(raw))
	r := e.start(pipeline.Config{})
	runJob(t, r, e)
	ctx := context.Background()
	reqs, err := e.store.ListRequests(ctx, "", 0)
	if err != nil || len(reqs) != 1 {
		t.Fatalf("got %d requests, %v", len(reqs), err)
	}
	convs, _ := e.store.Conversations(ctx, reqs[0].ID)
	c := convs[0]
	if len(c.Text) > 32<<10 || !c.Truncated || !utf8.ValidString(c.Text) || len(reqs[0].Description) > 32<<10 {
		t.Errorf("got text %d bytes (valid %v), truncated %v, description %d bytes", len(c.Text), utf8.ValidString(c.Text), c.Truncated, len(reqs[0].Description))
	}
	rc, err := e.blobs.Get(ctx, c.NormKey)
	if err != nil {
		t.Fatalf("the whole message is not in the blob store under %q: %v", c.NormKey, err)
	}
	defer rc.Close()
	whole, _ := io.ReadAll(rc)
	if strings.Count(string(whole), "Zeile mit Umlauten äöü") < 3999 {
		t.Errorf("the normalized message holds %d bytes, want the whole text", len(whole))
	}
}
