package preprocess

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"

	"mailconnector/shared/job"
	"mailconnector/shared/message"
)

func processString(tb testing.TB, raw string, opts *Options) *message.Message {
	tb.Helper()
	m, err := Process(context.Background(), strings.NewReader(raw), opts)
	if err != nil {
		tb.Fatalf("Process: %v", err)
	}
	return m
}

func TestHeaders(t *testing.T) {
	m := process(t, "testdata/plain_reply_quoted.eml", newMemStore())
	want := &message.Message{
		JobID:      "test",
		Subject:    "Re: [REQ-1042] Printer on 3rd floor not working",
		From:       message.Address{Name: "Anna Schmidt", Address: "anna.schmidt@example.org"},
		To:         []message.Address{{Name: "Support", Address: "support@example.com"}},
		Date:       time.Date(2024, 3, 5, 9, 14, 20, 0, time.UTC),
		MessageID:  "CAF3xyz123@mail.example.org",
		InReplyTo:  []string{"req-1042.1709550000@support.example.com"},
		References: []string{"req-1042.1709540000@support.example.com", "req-1042.1709550000@support.example.com"},
	}
	got := &message.Message{
		JobID: m.JobID, Subject: m.Subject, From: m.From, To: m.To, Date: m.Date,
		MessageID: m.MessageID, InReplyTo: m.InReplyTo, References: m.References,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	if got, want := m.Headers["Return-Path"], []string{"<anna.schmidt@example.org>"}; !cmp.Equal(got, want) {
		t.Errorf("Headers[Return-Path]: got %q, want %q", got, want)
	}
	if !strings.Contains(m.Text, "> could you please switch") {
		t.Errorf("Text lost the quoted history: %q", m.Text)
	}

	fr := process(t, "testdata/french_gmail_reply.eml", newMemStore())
	if got, want := fr.From, (message.Address{Name: "Élodie Dupont", Address: "elodie.dupont@gmail.com"}); got != want {
		t.Errorf("From: got %+v, want %+v", got, want)
	}
	if got, want := fr.Headers["Subject"], []string{"Re: Problème d'accès à l'intranet"}; !cmp.Equal(got, want) {
		t.Errorf("Headers[Subject]: got %q, want %q", got, want)
	}

	bad := process(t, "testdata/malformed_subject.eml", newMemStore())
	if bad.MessageID != "broken-id-without-brackets@example.net" {
		t.Errorf("MessageID: got %q, want the raw id", bad.MessageID)
	}
	if !bad.Date.IsZero() {
		t.Errorf("Date: got %v, want zero for an unparseable date", bad.Date)
	}
}

func TestBrokenAddressList(t *testing.T) {
	m := processString(t, "From: \"Broken <x@example.org>\nTo: a@example.org, \"Unclosed <b@example.org>, c@example.org\nSubject: s\n\nbody\n", nil)
	if m.From.Address != "x@example.org" {
		t.Errorf("From: got %q, want x@example.org", m.From.Address)
	}
	var to []string
	for _, a := range m.To {
		to = append(to, a.Address)
	}
	if want := []string{"a@example.org", "b@example.org", "c@example.org"}; !cmp.Equal(to, want) {
		t.Errorf("To: got %q, want %q", to, want)
	}
	if len(m.Warnings) == 0 {
		t.Error("got no warnings for malformed address lists")
	}
}

func TestHTML(t *testing.T) {
	m := process(t, "testdata/mailing_list.eml", newMemStore())
	for _, bad := range []string{"<script", "onload", "javascript:", "<iframe", "pixel.gif", "<style"} {
		if strings.Contains(m.HTML, bad) {
			t.Errorf("sanitized HTML contains %q:\n%s", bad, m.HTML)
		}
	}
	for _, good := range []string{"<li>Faster sync</li>", `href="https://vendor.example/notes"`} {
		if !strings.Contains(m.HTML, good) {
			t.Errorf("sanitized HTML lost %q:\n%s", good, m.HTML)
		}
	}
	rel := process(t, "testdata/inline_image_related.eml", newMemStore())
	if !strings.Contains(rel.HTML, `src="cid:image001.png@01DA85F0.12345670"`) {
		t.Errorf("sanitized HTML lost the inline image:\n%s", rel.HTML)
	}
	if strings.Contains(rel.HTML, "tracker.example") {
		t.Errorf("sanitized HTML kept a remote image:\n%s", rel.HTML)
	}
	if len(rel.Attachments) != 1 || !rel.Attachments[0].Inline || rel.Attachments[0].ContentID != "image001.png@01DA85F0.12345670" {
		t.Errorf("inline attachment: got %+v, want one inline image with its Content-ID", rel.Attachments)
	}
}

func TestSafeName(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "report.pdf", "report.pdf"},
		{"traversal", "../../etc/passwd", "passwd"},
		{"windows path", `C:\Users\admin\..\notes.txt`, "notes.txt"},
		{"control chars", "re\x07port\r\n\x00final.pdf", "reportfinal.pdf"},
		{"rtl override", "invoice\u202egpj.exe", "invoicegpj.exe"},
		{"reserved", "CON.txt", "_CON.txt"},
		{"reserved bare", "nul", "_nul"},
		{"dots only", "..", "attachment.bin"},
		{"hidden", ".htaccess", "htaccess"},
		{"trailing dots", "evil.exe. . ", "evil.exe"},
		{"forbidden chars", `a<b>c:d"e|f?g*h.txt`, "a_b_c_d_e_f_g_h.txt"},
		{"empty", "", "attachment.bin"},
		{"unicode", "Nómina – marzo.txt", "Nómina – marzo.txt"},
		{"long", strings.Repeat("é", 150) + ".docx", strings.Repeat("é", 97) + ".docx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SafeName(tt.in, "attachment.bin")
			if got != tt.want {
				t.Errorf("SafeName(%q): got %q, want %q", tt.in, got, tt.want)
			}
			if len(got) > maxSafeName {
				t.Errorf("SafeName(%q): %d bytes, want at most %d", tt.in, len(got), maxSafeName)
			}
		})
	}
}

func TestBlobKeys(t *testing.T) {
	store := newMemStore()
	m := process(t, "testdata/rfc2231_filename.eml", store)
	want := []string{
		"att/test/0-Declaraci%C3%B3n%20de%20la%20renta.pdf",
		"att/test/1-N%C3%B3mina%20de%20marzo%20%E2%80%93%20versi%C3%B3n%20final.txt",
	}
	var got []string
	for _, a := range m.Attachments {
		got = append(got, a.BlobKey)
	}
	if !cmp.Equal(got, want) {
		t.Errorf("BlobKeys: got %q, want %q", got, want)
	}
	rc, err := store.Get(context.Background(), want[1])
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	if string(b) != "Sueldo bruto: 2.500,00 EUR\n" {
		t.Errorf("stored attachment: got %q", b)
	}
}

func TestAttachmentPolicy(t *testing.T) {
	raw, err := os.ReadFile("testdata/hostile_filenames.eml")
	if err != nil {
		t.Fatal(err)
	}
	f := false
	tests := []struct {
		name string
		a    job.Attachments
		want []string // Dropped of each attachment
	}{
		{"defaults", job.Attachments{}, []string{"", "", "", "", ""}},
		{"allow txt", job.Attachments{AllowExtensions: []string{"txt"}},
			[]string{"no extension: not allowed", "extension .pdf is not allowed", "", "extension .exe is not allowed", ""}},
		{"block pdf", job.Attachments{BlockExtensions: []string{".PDF"}}, []string{"", "extension .pdf is blocked", "", "", ""}},
		{"max size", job.Attachments{MaxSize: 14, DropEmpty: &f}, []string{"larger than 14 bytes", "larger than 14 bytes", "", "larger than 14 bytes", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newMemStore()
			m := processString(t, string(raw), &Options{Job: &job.Job{Attachments: tt.a}, Blobs: store, KeyPrefix: "k/"})
			var got []string
			for _, a := range m.Attachments {
				got = append(got, a.Dropped)
			}
			if !cmp.Equal(got, tt.want) {
				t.Errorf("Dropped: got %q, want %q", got, tt.want)
			}
			checkInvariants(t, raw, "k/", m, store)
		})
	}
}

func TestNilStoreMeasures(t *testing.T) {
	m := processString(t, mustRead(t, "testdata/rfc2231_filename.eml"), nil)
	if len(m.Attachments) != 2 {
		t.Fatalf("got %d attachments, want 2", len(m.Attachments))
	}
	a := m.Attachments[1]
	if a.BlobKey != "" || a.Size != 27 || a.SHA256 == "" {
		t.Errorf("got BlobKey %q Size %d SHA256 %q, want no key, size 27 and a hash", a.BlobKey, a.Size, a.SHA256)
	}
}

func mustRead(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name, header, want string
	}{
		{"plain", "From: a@example.org\nSubject: Help\n", ""},
		{"auto-submitted", "From: a@example.org\nSubject: Hi\nAuto-Submitted: auto-generated\n", message.AutoReply},
		{"auto-submitted no", "From: a@example.org\nSubject: Hi\nAuto-Submitted: no\n", ""},
		{"x-autoreply", "From: a@example.org\nSubject: Hi\nX-Autoreply: yes\n", message.AutoReply},
		{"x-autorespond", "From: a@example.org\nSubject: Hi\nX-Autorespond: 1\n", message.AutoReply},
		{"suppress oof", "From: a@example.org\nSubject: Hi\nX-Auto-Response-Suppress: DR, OOF\n", message.AutoReply},
		{"suppress dr only", "From: a@example.org\nSubject: Hi\nX-Auto-Response-Suppress: DR\n", ""},
		{"out of office", "From: a@example.org\nSubject: Out of Office: Re: ticket\n", message.AutoReply},
		{"french", "From: a@example.org\nSubject: =?utf-8?q?R=C3=A9ponse_automatique_:_ticket?=\n", message.AutoReply},
		{"spanish", "From: a@example.org\nSubject: Respuesta automática: ticket\n", message.AutoReply},
		{"daemon", "From: MAILER-DAEMON@mx.example.org\nSubject: Delivery Status Notification (Failure)\n", message.Bounce},
		{"postmaster undeliverable", "From: postmaster@example.org\nSubject: Undeliverable: ticket\n", message.Bounce},
		{"report", "From: x@example.org\nSubject: s\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n", message.Bounce},
		{"bounce beats auto-reply", "From: mailer-daemon@example.org\nSubject: Mail delivery failed\nAuto-Submitted: auto-replied\nPrecedence: bulk\n", message.Bounce},
		{"auto-reply beats list", "From: a@example.org\nSubject: Automatic reply: x\nList-Id: <l.example.org>\n", message.AutoReply},
		{"list-id", "From: a@example.org\nSubject: News\nList-Id: <l.example.org>\n", message.List},
		{"list-unsubscribe", "From: a@example.org\nSubject: News\nList-Unsubscribe: <mailto:u@example.org>\n", message.List},
		{"precedence bulk", "From: a@example.org\nSubject: News\nPrecedence: bulk\n", message.List},
		{"precedence junk", "From: a@example.org\nSubject: News\nPrecedence: junk\n", message.List},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := processString(t, tt.header+"\n--b--\nbody\n", nil)
			if m.AutoGenerated != tt.want {
				t.Errorf("got %q, want %q", m.AutoGenerated, tt.want)
			}
		})
	}
}

func TestPreprocessingRules(t *testing.T) {
	body := "Thanks, fixed.\n\nSent from my iPhone\n\n-- \nJane\n\nOn Tue, Jan 2, 2024 at 9:00 AM Bob\n<bob@example.org> wrote:\n> old\n"
	yes, no := true, false
	tests := []struct {
		name  string
		rules []job.PreprocessRule
		want  string
	}{
		{"defaults", nil, "Thanks, fixed."},
		{"only quoted-lines", []job.PreprocessRule{{Builtin: "quoted-lines"}}, "Thanks, fixed.\n\nSent from my iPhone\n\n--\nJane"},
		{"disabled", []job.PreprocessRule{{Builtin: "quoted-lines", Enabled: &no}, {Builtin: "mobile-signatures", Enabled: &yes}},
			"Thanks, fixed.\n\n--\nJane\n\nOn Tue, Jan 2, 2024 at 9:00 AM Bob\n<bob@example.org> wrote:\n> old"},
		{"unimplemented names are valid", []job.PreprocessRule{{Builtin: "zoho"}, {Builtin: "yahoo"}, {Builtin: "signature-delimiter"}}, "Thanks, fixed.\n\nSent from my iPhone"},
		{"regexRemove", []job.PreprocessRule{{RegexRemove: `(?i)thanks, `}, {Builtin: "signature-delimiter"}}, "fixed.\n\nSent from my iPhone"},
		{"cutBelow", []job.PreprocessRule{{CutBelow: `^Sent from`}}, "Thanks, fixed."},
		{"everything removed falls back", []job.PreprocessRule{{RegexRemove: `(?s).*`}}, strings.TrimSpace(body)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := &Options{Job: &job.Job{Preprocessing: job.Preprocessing{Rules: tt.rules}}}
			m := processString(t, "From: jane@example.org\nSubject: Re: x\n\n"+body, opts)
			if m.VisibleText != tt.want {
				t.Errorf("got %q, want %q", m.VisibleText, tt.want)
			}
		})
	}
}

func TestUnflow(t *testing.T) {
	in := "a long \nline\n> quoted \n> more\n-- \nsig"
	if got, want := unflow(in, false), "a long line\n> quoted more\n-- \nsig"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestErrors(t *testing.T) {
	raw := mustRead(t, "testdata/rfc2231_filename.eml")
	errBoom := errors.New("boom")

	t.Run("reader error", func(t *testing.T) {
		r := io.MultiReader(strings.NewReader(raw[:400]), iotest.ErrReader(errBoom))
		_, err := Process(context.Background(), r, nil)
		if !errors.Is(err, errBoom) {
			t.Errorf("got %v, want an error wrapping %v", err, errBoom)
		}
	})
	t.Run("reader error in header", func(t *testing.T) {
		r := io.MultiReader(strings.NewReader("From: a@example.org\n"), iotest.ErrReader(errBoom))
		_, err := Process(context.Background(), r, nil)
		if !errors.Is(err, errBoom) {
			t.Errorf("got %v, want an error wrapping %v", err, errBoom)
		}
	})
	t.Run("store error", func(t *testing.T) {
		store := newMemStore()
		store.putErr = errBoom
		_, err := Process(context.Background(), strings.NewReader(raw), &Options{Blobs: store})
		if !errors.Is(err, errBoom) {
			t.Errorf("got %v, want an error wrapping %v", err, errBoom)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := Process(ctx, strings.NewReader(raw), nil)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	})
	t.Run("garbage is not an error", func(t *testing.T) {
		m := processString(t, "\x00\x01\x02 just bytes\n", nil)
		if m.Text != "just bytes" || len(m.Warnings) != 1 {
			t.Errorf("got Text %q, Warnings %q; want the raw text and one warning", m.Text, m.Warnings)
		}
	})
	t.Run("empty input", func(t *testing.T) {
		m := processString(t, "", nil)
		if m.Text != "" || m.Attachments == nil {
			t.Errorf("got Text %q, Attachments %v; want empty text and a non-nil list", m.Text, m.Attachments)
		}
	})
}

func TestBodyCap(t *testing.T) {
	big := strings.Repeat("0123456789abcdef\n", MaxBodyBytes/17+10)
	m := processString(t, "From: a@example.org\nSubject: big\n\n"+big, nil)
	if len(m.Text) > MaxBodyBytes {
		t.Errorf("Text: got %d bytes, want at most %d", len(m.Text), MaxBodyBytes)
	}
	if len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], "truncated") {
		t.Errorf("Warnings: got %q, want one truncation warning", m.Warnings)
	}
	if m.Size != int64(len(big)+len("From: a@example.org\nSubject: big\n\n")) {
		t.Errorf("Size: got %d, want the whole message", m.Size)
	}
}
