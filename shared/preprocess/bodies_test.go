package preprocess

import (
	"strings"
	"testing"
)

// mimeMessage builds a message from a top-level Content-Type and body, with CRLF
// line ends.
func mimeMessage(ct, body string) string {
	raw := "From: anna@customer.example\nTo: support@helpdesk.example\nSubject: Printer\nMIME-Version: 1.0\nContent-Type: " + ct + "\n\n" + body
	return strings.ReplaceAll(raw, "\n", "\r\n")
}

func part(ct, extra, body string) string {
	if extra != "" {
		extra += "\n"
	}
	return "Content-Type: " + ct + "\n" + extra + "\n" + body + "\n"
}

func multipart(boundary string, parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString("--" + boundary + "\n" + p)
	}
	b.WriteString("--" + boundary + "--\n")
	return b.String()
}

const (
	words      = "The printer on the third floor prints only blank pages."
	disclaimer = "This e-mail is confidential and intended for the addressee only."
)

// TestBodySelection picks the body as a mail client shows it (RFC 2046
// sections 5.1.3 and 5.1.4): parts of a multipart/mixed one after another,
// one of a multipart/alternative, attachments apart.
func TestBodySelection(t *testing.T) {
	plain := part("text/plain; charset=utf-8", "", words)
	htmlWords := part("text/html; charset=utf-8", "", "<html><body><p>"+words+"</p></body></html>")
	htmlDisclaimer := part("text/html; charset=utf-8", "", "<html><body><p style=\"color:grey\">"+disclaimer+"</p></body></html>")
	plainDisclaimer := part("text/plain; charset=utf-8", "", disclaimer)
	for _, tt := range []struct {
		name        string
		ct, body    string
		want        []string // in Text and VisibleText, in this order
		notInText   []string
		attachments int
	}{
		{name: "plain then html disclaimer in mixed", ct: `multipart/mixed; boundary="b1"`, body: multipart("b1", plain, htmlDisclaimer), want: []string{words, disclaimer}},
		{name: "plain then plain disclaimer in mixed", ct: `multipart/mixed; boundary="b1"`, body: multipart("b1", plain, plainDisclaimer), want: []string{words, disclaimer}},
		{name: "html then plain disclaimer in mixed", ct: `multipart/mixed; boundary="b1"`, body: multipart("b1", htmlWords, plainDisclaimer), want: []string{words, disclaimer}},
		{name: "alternative then html disclaimer", ct: `multipart/mixed; boundary="b1"`,
			body: multipart("b1", part(`multipart/alternative; boundary="b2"`, "", multipart("b2", plain, htmlWords)), htmlDisclaimer), want: []string{words, disclaimer}},
		{name: "alternative only", ct: `multipart/alternative; boundary="b2"`, body: multipart("b2", plain, htmlWords), want: []string{words}},
		{name: "attached html report stays an attachment", ct: `multipart/mixed; boundary="b1"`,
			body: multipart("b1", plain, part("text/html; charset=utf-8", "Content-Disposition: attachment; filename=report.html", "<p>"+disclaimer+"</p>")),
			want: []string{words}, notInText: []string{disclaimer}, attachments: 1},
		{name: "attached html report without file name", ct: `multipart/mixed; boundary="b1"`,
			body: multipart("b1", plain, part("text/html; charset=utf-8", "Content-Disposition: attachment", "<p>"+disclaimer+"</p>")),
			want: []string{words}, notInText: []string{disclaimer}, attachments: 1},
		{name: "related html then mixed disclaimer", ct: `multipart/mixed; boundary="b1"`,
			body: multipart("b1", part(`multipart/related; boundary="b3"`, "", multipart("b3", htmlWords, part("image/png", "Content-ID: <i1>\nContent-Transfer-Encoding: base64", "iVBORw0KGgo="))), plainDisclaimer),
			want: []string{words, disclaimer}, attachments: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := processString(t, mimeMessage(tt.ct, tt.body), nil)
			for _, field := range []struct{ name, text string }{{"Text", m.Text}, {"VisibleText", m.VisibleText}} {
				at := 0
				for _, w := range tt.want {
					i := strings.Index(field.text[at:], w)
					if i < 0 {
						t.Errorf("%s: got %q, want %q after offset %d", field.name, field.text, w, at)
						break
					}
					at += i + len(w)
				}
				if c := strings.Count(field.text, words); c != 1 {
					t.Errorf("%s: got the customer's words %d times in %q, want once", field.name, c, field.text)
				}
				for _, w := range tt.notInText {
					if strings.Contains(field.text, w) {
						t.Errorf("%s: got %q, want no %q", field.name, field.text, w)
					}
				}
			}
			if got := len(m.Attachments); got != tt.attachments {
				t.Errorf("attachments: got %d (%+v), want %d", got, m.Attachments, tt.attachments)
			}
		})
	}
}
