package job

import (
	"strings"
	"testing"
)

// TestExplicitZerosAndUnsafeFolders: a zero the administrator wrote is an
// error naming the field, not a default; maxRunTime is bounded by what a
// Lambda can run; folder names cannot climb out with "..", nor carry NUL
// or control characters.
func TestExplicitZerosAndUnsafeFolders(t *testing.T) {
	const base = `
jobs:
  - id: sup
    server: {protocol: imap, host: mail.example.com, security: tls, auth: {secret: s}}
`
	tests := []struct {
		name string
		yaml string
		want string // substring of the error; "" loads
	}{
		{name: "every 0m", yaml: base + `    schedule: {every: 0m}`, want: `job "sup": schedule.every: must not be zero`},
		{name: "batchSize 0", yaml: base + `    limits: {batchSize: 0}`, want: `job "sup": limits.batchSize: must not be zero`},
		{name: "maxRunTime 0s", yaml: base + `    limits: {maxRunTime: 0s}`, want: `job "sup": limits.maxRunTime: must not be zero`},
		{name: "maxRunTime 9999h", yaml: base + `    limits: {maxRunTime: 9999h}`, want: `job "sup": limits.maxRunTime: 9999h0m0s is over 15m`},
		{name: "maxRunTime 15m", yaml: base + `    limits: {maxRunTime: 15m}`},
		{name: "unset limits", yaml: base},
		{name: "moveTo ../../etc", yaml: base + `    incoming: {onSuccess: move, moveTo: ../../etc}`, want: `job "sup": incoming.moveTo: "../../etc" has a ".." segment`},
		{name: "moveTo Done/..", yaml: base + `    incoming: {onSuccess: move, moveTo: Done/..}`, want: `job "sup": incoming.moveTo:`},
		{name: "moveTo with NUL", yaml: base + `    incoming: {onSuccess: move, moveTo: "Done\0x"}`, want: `job "sup": incoming.moveTo: "Done\x00x" holds a control character`},
		{name: "error folder with newline", yaml: base + `    incoming: {onError: {folder: "Err\nors"}}`, want: `job "sup": incoming.onError.folder:`},
		{name: "error folder ..", yaml: base + `    incoming: {onError: {folder: ..}}`, want: `job "sup": incoming.onError.folder:`},
		{name: "nested folder", yaml: base + `    incoming: {onSuccess: move, moveTo: Done/2026.Q1, onError: {folder: Errors/Mail}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("got %v, want it to load", err)
			case tc.want != "" && err == nil:
				t.Errorf("got no error, want %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Errorf("got %q, want it to contain %q", err, tc.want)
			}
		})
	}
}
