package preprocess

import (
	"bytes"
	"fmt"
	"mime"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"
)

// contentMismatch says how an attachment's content (sniffed from its first
// bytes) clearly differs from what it claims to be, or "": its declared
// type, binary content declared text/*, or — declared only as
// application/octet-stream — the type its extension names. Generic
// results of sniffing (octet-stream, plain text) are no evidence, except
// that bytes with NUL in them are not text.
func contentMismatch(declared, safeName string, sniffed *mimetype.MIME, head []byte) string {
	if other := otherType(declared, sniffed); other != "" {
		return fmt.Sprintf("is declared %s but its content is %s", declared, other)
	}
	if strings.HasPrefix(declared, "text/") && !isText(sniffed) &&
		(!sniffed.Is("application/octet-stream") || bytes.IndexByte(head, 0) >= 0) {
		what, _, _ := strings.Cut(sniffed.String(), ";")
		if what == "application/octet-stream" {
			what = "binary data"
		}
		return fmt.Sprintf("is declared %s but its content is %s", declared, what)
	}
	if declared == "application/octet-stream" || declared == "" {
		ext := strings.ToLower(path.Ext(safeName))
		t, _, _ := strings.Cut(mime.TypeByExtension(ext), ";")
		if t == "" || t == "application/octet-stream" {
			return ""
		}
		if other := otherType(t, sniffed); other != "" {
			return fmt.Sprintf("has the extension %s but its content is %s", ext, other)
		}
		if strings.HasPrefix(t, "text/") && bytes.IndexByte(head, 0) >= 0 && !isText(sniffed) {
			return fmt.Sprintf("has the extension %s but its content is binary data", ext)
		}
	}
	return ""
}

// isText reports whether sniffing found text.
func isText(m *mimetype.MIME) bool {
	for ; m != nil; m = m.Parent() {
		if m.Is("text/plain") {
			return true
		}
	}
	return false
}

// maxNameBytes is the longest valid file name (most file systems).
const maxNameBytes = 255

// invalidName says why a sender's file name is not a valid file name, or
// "" (an attachment without a name is not invalid: it gets one).
func invalidName(name string) string {
	switch {
	case name == "":
		return ""
	case !utf8.ValidString(name) || strings.ContainsRune(name, utf8.RuneError):
		return "not valid UTF-8"
	case len(name) > maxNameBytes:
		return fmt.Sprintf("longer than %d bytes", maxNameBytes)
	case strings.ContainsAny(name, `/\`) || strings.Contains(name, ".."):
		return "it is a path"
	case strings.IndexFunc(name, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0:
		return "control or format characters (such as a right-to-left override)"
	case strings.ContainsAny(name, `<>:"|?*`):
		return `characters Windows forbids (<>:"|?*)`
	case strings.TrimSpace(name) == "" || strings.Trim(name, ". ") == "":
		return "no name"
	case strings.HasPrefix(name, " ") || strings.HasSuffix(name, " ") || strings.HasSuffix(name, "."):
		return "a leading or trailing space or a trailing dot"
	}
	base, _ := splitExt(name)
	if reservedNames[strings.ToLower(strings.TrimSpace(base))] {
		return "a reserved device name"
	}
	return ""
}
