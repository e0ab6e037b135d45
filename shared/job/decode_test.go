package job

import (
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestParseErrorsANewcomerHits: a YAML error names the line it is on, an
// unknown key names its path and the key it was likely meant to be, and
// protocol mapi says once why it is not offered.
func TestParseErrorsANewcomerHits(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // the whole error
	}{
		{name: "bad indent on line 6", yaml: `jobs:
  - id: a
    server:
      protocol: imap
      host: mail.example.com
     port: 993
`, want: "decode jobs file: line 6: did not find expected key"},
		{name: "bad indent after a flow mapping over two lines", yaml: `jobs:
  - id: a
    server: {protocol: imap,
      host: mail.example.com}
    incoming:
      onSuccess: move
     moveTo: Done
`, want: "decode jobs file: line 7: did not find expected key"},
		{name: "tab on line 4", yaml: "jobs:\n  - id: a\n    server:\n\tprotocol: imap\n", want: "decode jobs file: line 4: found character that cannot start any token"},
		{name: "unknown key with a near one", yaml: `jobs:
  - id: a
    server: {protocol: imap, host: h, securty: tls, auth: {secret: s}}
`, want: "invalid jobs file:\n  jobs[0].server: unknown key \"securty\" (did you mean \"security\"?)"},
		{name: "unknown key without a near one", yaml: `jobs:
  - id: a
    server: {protocol: imap, host: h, security: tls, auth: {secret: s}}
    colour: blue
`, want: "invalid jobs file:\n  jobs[0]: unknown key \"colour\""},
		{name: "unknown key in a list", yaml: `jobs:
  - id: a
    server: {protocol: imap, host: h, security: tls, auth: {secret: s}}
    processing:
      statements:
        - action: create
          when: {any: [{field: subject, op: contains, value: x}, {feild: from, op: contains, value: y}]}
`, want: "invalid jobs file:\n  jobs[0].processing.statements[0].when.any[1]: unknown key \"feild\" (did you mean \"field\"?)"},
		{name: "unknown top-level key", yaml: "job:\n  - id: a\n", want: "invalid jobs file:\n  unknown key \"job\" (did you mean \"jobs\"?)"},
		{name: "mapi", yaml: `jobs:
  - id: a
    server: {protocol: mapi, host: outlook.office365.com, auth: {secret: s}}
`, want: "invalid jobs file:\n  job \"a\": server.protocol: MAPI over HTTP is not supported: it is Outlook's own RPC protocol; Exchange Online and Exchange 2013 and later also serve EWS, Graph and IMAP (see the README, section \"MAPI\")"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestSuggestKey(t *testing.T) {
	known := []string{"protocol", "host", "port", "security", "auth", "timeout"}
	tests := []struct{ key, want string }{
		{"securty", "security"},
		{"prot", "port"},
		{"compression", ""},
		{"hots", "host"},
		{"Port", "port"},
		{"colour", ""},
	}
	for _, tt := range tests {
		if got := suggestKey(tt.key, known); got != tt.want {
			t.Errorf("suggestKey(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}

// TestFieldChecksNameRealFields: every path in the table of field checks
// is a key path of the jobs file.
func TestFieldChecksNameRealFields(t *testing.T) {
	for _, c := range fieldChecks {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte("jobs: [{"+strings.ReplaceAll(c.field, ".", ": {")+": 1"+strings.Repeat("}", strings.Count(c.field, "."))+"}]"), &doc); err != nil {
			t.Fatalf("%s: %v", c.field, err)
		}
		if ks := unknownKeys(&doc, reflect.TypeFor[File](), ""); len(ks) > 0 {
			t.Errorf("field check %s: got %v, want a field of the jobs file", c.field, ks)
		}
	}
}
