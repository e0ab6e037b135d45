package job

import (
	"strings"
	"testing"
)

const limitsBase = `
jobs:
  - id: a
    server: {protocol: imap, host: mail.example.com, security: tls, auth: {secret: s}}
`

func TestMessageLimitDefaults(t *testing.T) {
	f := mustParse(t, limitsBase)
	l := f.Jobs[0].Limits
	checks := []struct {
		name      string
		got, want int64
	}{
		{"maxParts", int64(l.MaxParts), DefaultMaxParts},
		{"maxDepth", int64(l.MaxDepth), DefaultMaxDepth},
		{"maxAttachments", int64(l.MaxAttachments), DefaultMaxAttachments},
		{"maxHeaderSize", int64(l.MaxHeaderSize), DefaultMaxHeaderSize},
		{"maxDecodedSize", int64(l.MaxDecodedSize), DefaultMaxDecodedSize},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, c.got, c.want)
		}
	}
}

func TestMessageLimitsValidated(t *testing.T) {
	tests := []struct {
		name   string
		limits string
		want   string // substring of the error, "" for none
	}{
		{"all set", `{maxParts: 50, maxDepth: 10, maxAttachments: 5, maxHeaderSize: 64KB, maxDecodedSize: 10MB}`, ""},
		{"negative parts", `{maxParts: -1}`, `job "a": limits.maxParts: -1 is not between 1 and 100000`},
		{"too many parts", `{maxParts: 1000000}`, `limits.maxParts: 1000000 is not between`},
		{"depth", `{maxDepth: 500}`, `limits.maxDepth: 500 is not between 1 and 100`},
		{"attachments", `{maxAttachments: -3}`, `limits.maxAttachments: -3 is not between`},
		{"header size", `{maxHeaderSize: 1KB}`, `limits.maxHeaderSize: 1024 bytes is not between`},
		{"decoded size", `{maxDecodedSize: 2GB}`, `limits.maxDecodedSize: 2147483648 bytes is not between`},
		{"not a size", `{maxHeaderSize: lots}`, `line 5: "lots" is not a size`},
		{"zero parts", `{maxParts: 0}`, `job "a": limits.maxParts: must not be zero ("0"); leave it out for the default`},
		{"zero depth", `{maxDepth: 0}`, `job "a": limits.maxDepth: must not be zero`},
		{"zero attachments", `{maxAttachments: 0}`, `job "a": limits.maxAttachments: must not be zero`},
		{"zero header size", `{maxHeaderSize: 0KB}`, `job "a": limits.maxHeaderSize: must not be zero ("0KB")`},
		{"zero decoded size", `{maxDecodedSize: 0}`, `job "a": limits.maxDecodedSize: must not be zero`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(limitsBase + "    limits: " + tt.limits + "\n"))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
