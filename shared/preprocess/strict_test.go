package preprocess

import (
	"encoding/base64"
	"strings"
	"testing"

	"mailconnector/shared/job"
)

// pngBytes is the start of a PNG file.
var pngBytes = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\x00\x01\x00\x00\x05\x00\x01\r\n-\xb4\x00\x00\x00\x00IEND\xaeB`\x82"

// withAttachment is a message with one base64 attachment.
func withAttachment(ct, disposition, content string) string {
	return "From: a@example.org\nSubject: s\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee attached\n--b\n" +
		"Content-Type: " + ct + "\nContent-Disposition: " + disposition + "\nContent-Transfer-Encoding: base64\n\n" +
		base64.StdEncoding.EncodeToString([]byte(content)) + "\n--b--\n"
}

func TestAttachmentContentMismatch(t *testing.T) {
	tests := []struct {
		name, ct, disposition, content string
		warn                           string // in the warning when kept
	}{
		{"png declared text/plain", "text/plain", `attachment; filename="notes.txt"`, pngBytes, `"notes.txt" is declared text/plain but its content is image/png`},
		{"png declared pdf", "application/pdf", `attachment; filename="invoice.pdf"`, pngBytes, `"invoice.pdf" is declared application/pdf but its content is image/png`},
		{"png named pdf", "application/octet-stream", `attachment; filename="invoice.pdf"`, pngBytes, `"invoice.pdf" has the extension .pdf but its content is image/png`},
		{"binary declared text", "text/csv", `attachment; filename="data.csv"`, "a,b\x00\x01\x02\x03\x00\xff\xfe", `"data.csv" is declared text/csv but its content is binary data`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := withAttachment(tt.ct, tt.disposition, tt.content)
			m := processString(t, raw, &Options{Job: &job.Job{ID: "j"}, Blobs: newMemStore()})
			if len(m.Attachments) != 1 || m.Attachments[0].Dropped != "" {
				t.Fatalf("by default the attachment is kept: got %+v", m.Attachments)
			}
			if !strings.Contains(strings.Join(m.Warnings, "\n"), tt.warn) {
				t.Errorf("warnings %q: want one with %q", m.Warnings, tt.warn)
			}
			strict := &Options{Job: &job.Job{ID: "j", Attachments: job.Attachments{DropMismatched: true}}, Blobs: newMemStore()}
			m = processString(t, raw, strict)
			if len(m.Attachments) != 1 || !strings.HasPrefix(m.Attachments[0].Dropped, reasonMismatch) || m.Attachments[0].BlobKey != "" {
				t.Errorf("with dropMismatched: got %+v, want it dropped (%s)", m.Attachments, reasonMismatch)
			}
		})
	}
	t.Run("matching content stays quiet", func(t *testing.T) {
		for _, raw := range []string{
			withAttachment("image/png", `attachment; filename="a.png"`, pngBytes),
			withAttachment("text/plain", `attachment; filename="a.txt"`, "plain text\nwith lines\n"),
			withAttachment("application/octet-stream", `attachment; filename="a.txt"`, "plain text\n"),
		} {
			m := processString(t, raw, &Options{Job: &job.Job{ID: "j", Attachments: job.Attachments{DropMismatched: true}}, Blobs: newMemStore()})
			if m.Attachments[0].Dropped != "" || len(m.Warnings) > 0 {
				t.Errorf("got %+v, warnings %q: want it kept without a warning", m.Attachments[0], m.Warnings)
			}
		}
	})
}

func TestAttachmentInvalidNames(t *testing.T) {
	tests := []struct {
		name, filename, want string // want: "" for a valid name
	}{
		{"path", `..\..\windows\evil.txt`, "it is a path"},
		{"reserved", "CON.txt", "a reserved device name"},
		{"rtl override", "invoice\u202Efdp.exe", "control or format characters"},
		{"windows forbidden", "a|b?.txt", "characters Windows forbids"},
		{"trailing dot", "report.pdf.", "a leading or trailing space or a trailing dot"},
		{"too long", strings.Repeat("x", 300) + ".pdf", "longer than 255 bytes"},
		{"valid unicode", "Rechnung März 2024.pdf", ""},
		{"valid plain", "report-2024_v2.pdf", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := withAttachment("application/pdf", "attachment; filename*=UTF-8''"+pctEncode(tt.filename), "%PDF-1.4\n")
			m := processString(t, raw, &Options{Job: &job.Job{ID: "j"}, Blobs: newMemStore()})
			if m.Attachments[0].Dropped != "" {
				t.Fatalf("by default the name is cleaned, not dropped: got %+v", m.Attachments[0])
			}
			m = processString(t, raw, &Options{Job: &job.Job{ID: "j", Attachments: job.Attachments{DropInvalidNames: true}}, Blobs: newMemStore()})
			got := m.Attachments[0].Dropped
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, "invalid file name: "+tt.want) {
				t.Errorf("with dropInvalidNames: dropped %q, want %q", got, tt.want)
			}
		})
	}
}

func pctEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
		}
	}
	return b.String()
}
