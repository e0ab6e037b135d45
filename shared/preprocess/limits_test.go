package preprocess

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"mailconnector/shared/job"
	"mailconnector/shared/mailgen"
	"mailconnector/shared/message"
)

// processBytes runs Process on raw with the job's limits and an in-memory
// store; it returns the message or the error.
func processBytes(tb testing.TB, raw []byte, j *job.Job, store *memStore) (*message.Message, error) {
	tb.Helper()
	return Process(context.Background(), bytes.NewReader(raw), &Options{Job: j, Blobs: store, KeyPrefix: "att/test/"})
}

func hasWarning(m *message.Message, sub string) bool {
	for _, w := range m.Warnings {
		if strings.Contains(w, sub) {
			return true
		}
	}
	return false
}

func TestHardLimitsFailWithTheLimitNamed(t *testing.T) {
	tests := []struct {
		name   string
		raw    []byte
		limits job.Limits
		want   string // LimitError.Limit
	}{
		{"parts over the default", mailgen.ManyParts(1001), job.Limits{}, "limits.maxParts"},
		{"parts over a job's limit", mailgen.ManyParts(11), job.Limits{MaxParts: 10}, "limits.maxParts"},
		{"400,000 parts", mailgen.ManyParts(400000), job.Limits{}, "limits.maxParts"},
		{"header block", []byte(strings.Repeat("Received: from relay.example.net by mx.example.com\r\n", 2000) + "From: a@example.org\r\n\r\nbody\r\n"), job.Limits{MaxHeaderSize: 64 << 10}, "limits.maxHeaderSize"},
		{"part header", []byte("From: a@example.org\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" + strings.Repeat("X-Part: a part header field\r\n", 4000) + "\r\ntext\r\n--b--\r\n"), job.Limits{MaxHeaderSize: 64 << 10}, "limits.maxHeaderSize"},
		{"decoded size", []byte("From: a@example.org\r\nContent-Type: application/octet-stream\r\n\r\n" + strings.Repeat("0123456789abcdef", 2<<16)), job.Limits{MaxDecodedSize: 1 << 20}, "limits.maxDecodedSize"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newMemStore()
			m, err := processBytes(t, tt.raw, &job.Job{ID: "test", Limits: tt.limits}, store)
			var le *LimitError
			if !errors.As(err, &le) {
				t.Fatalf("got message %v, error %v; want a *LimitError", m != nil, err)
			}
			if le.Limit != tt.want {
				t.Errorf("got limit %q, want %q", le.Limit, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %q, want it to name %s", err, tt.want)
			}
			if len(store.objects) != 0 {
				t.Errorf("got %d attachment blobs left, want none", len(store.objects))
			}
		})
	}
}

func TestAttachmentsPastTheLimitAreNotStored(t *testing.T) {
	store := newMemStore()
	m, err := processBytes(t, mailgen.ManyAttachments(150), &job.Job{ID: "test"}, store)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(store.objects); got != job.DefaultMaxAttachments {
		t.Errorf("got %d stored attachments, want %d", got, job.DefaultMaxAttachments)
	}
	if got := len(m.Attachments); got != job.DefaultMaxAttachments {
		t.Errorf("got %d attachments in the message, want %d", got, job.DefaultMaxAttachments)
	}
	if !hasWarning(m, "50 attachments past limits.maxAttachments (100) not stored") {
		t.Errorf("got warnings %q, want one about the 50 attachments not stored", m.Warnings)
	}
	if !strings.Contains(m.Text, "please see the attached files") {
		t.Errorf("got text %q, want the message's text", m.Text)
	}
}

func TestTextIsKeptOrWarned(t *testing.T) {
	tests := []struct {
		name     string
		raw      []byte
		text     string // must be in Text, "" for none
		notText  string // must not be in Text
		warning  string // substring of a warning, "" for none
		from     string
		subject  string // prefix of Subject
		attached string // SafeName of an attachment that must be there
	}{
		{name: "nested 40 deep", raw: mailgen.Nested(40, "innermost forty"), text: "innermost forty"},
		{name: "nested 60 deep", raw: mailgen.Nested(60, "innermost sixty"), warning: "nested deeper than limits.maxDepth (50)"},
		{name: "ASCII labelled utf-16", raw: []byte("From: a@example.org\r\nContent-Type: text/plain; charset=utf-16\r\n\r\nHello, the printer is broken.\r\n"), text: "Hello, the printer is broken.", warning: "cannot be utf-16"},
		{name: "odd length labelled utf-16le", raw: []byte("From: a@example.org\r\nContent-Type: text/plain; charset=UTF-16LE\r\n\r\nOdd.\r\n"), text: "Odd.", warning: "cannot be utf-16le"},
		{name: "real utf-16 with BOM", raw: []byte("From: a@example.org\r\nContent-Type: text/plain; charset=utf-16\r\nContent-Transfer-Encoding: base64\r\n\r\n//5IAGkAIQA=\r\n"), text: "Hi!"},
		{name: "real utf-16le without BOM", raw: []byte("From: a@example.org\r\nContent-Type: text/plain; charset=utf-16le\r\nContent-Transfer-Encoding: base64\r\n\r\nSABpACEA\r\n"), text: "Hi!"},
		{name: "winmail.dat with trailing junk", raw: tnefMail(append(mailgen.TNEF("Body from TNEF", "report.txt", []byte("the report")), "JUNK AFTER THE STREAM"...)),
			text: "Body from TNEF", warning: "winmail.dat", attached: "winmail.dat"},
		{name: "1 MB subject", raw: []byte("Subject: " + strings.Repeat("Long subject ", 80000) + "\r\nFrom: Someone <someone@example.org>\r\nContent-Type: text/plain\r\n\r\nthe body after the subject\r\n"),
			text: "the body after the subject", warning: "subject: longer than", from: "someone@example.org", subject: "Long subject Long subject"},
		{name: "5 MB unfolded field", raw: []byte("From: someone@example.org\r\nX-Junk: " + strings.Repeat("j", 5<<20) + "\r\nSubject: after\r\n\r\nbody after a huge field\r\n"),
			text: "body after a huge field", warning: "x-junk: longer than", from: "someone@example.org", subject: "after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := processBytes(t, tt.raw, &job.Job{ID: "test"}, newMemStore())
			if err != nil {
				t.Fatal(err)
			}
			if tt.text != "" && !strings.Contains(m.Text, tt.text) {
				t.Errorf("got text %.200q, want it to contain %q", m.Text, tt.text)
			}
			if tt.warning != "" && !hasWarning(m, tt.warning) {
				t.Errorf("got warnings %.500q, want one containing %q", m.Warnings, tt.warning)
			}
			if tt.from != "" && m.From.Address != tt.from {
				t.Errorf("got From %q, want %q", m.From.Address, tt.from)
			}
			if !strings.HasPrefix(m.Subject, tt.subject) {
				t.Errorf("got Subject %.80q, want it to start with %q", m.Subject, tt.subject)
			}
			if tt.attached != "" {
				found := false
				for _, a := range m.Attachments {
					found = found || a.SafeName == tt.attached && a.BlobKey != ""
				}
				if !found {
					t.Errorf("got attachments %+v, want %s stored", m.Attachments, tt.attached)
				}
			}
		})
	}
}

func tnefMail(data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("From: a@example.org\r\nContent-Type: multipart/mixed; boundary=t\r\n\r\n--t\r\nContent-Type: application/ms-tnef\r\nContent-Disposition: attachment; filename=winmail.dat\r\n\r\n")
	b.Write(data)
	b.WriteString("\r\n--t--\r\n")
	return b.Bytes()
}

// BenchmarkManyParts preprocesses the 24 MB message of 400,000 tiny parts
// that the default limits.maxParts ends early.
func BenchmarkManyParts(b *testing.B) {
	raw := mailgen.ManyParts(400000)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		_, err := Process(context.Background(), bytes.NewReader(raw), nil)
		var le *LimitError
		if !errors.As(err, &le) {
			b.Fatalf("got %v, want a *LimitError", err)
		}
	}
}
