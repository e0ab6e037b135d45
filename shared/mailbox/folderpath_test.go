package mailbox

import (
	"slices"
	"testing"
)

func TestSplitFolderPath(t *testing.T) {
	for _, tt := range []struct {
		path string
		want []string
	}{
		{"", []string{"Inbox"}},
		{"/", []string{"Inbox"}},
		{"Inbox/Support", []string{"Inbox", "Support"}},
		{"/Archive/2026/", []string{"Archive", "2026"}},
		{"INBOX.Support.Done", []string{"INBOX", "Support", "Done"}},
		{"inbox.Support", []string{"inbox", "Support"}},
		{"Support v1.2", []string{"Support v1.2"}},
		{"Inbox/v1.2", []string{"Inbox", "v1.2"}},
	} {
		if got := SplitFolderPath(tt.path); !slices.Equal(got, tt.want) {
			t.Errorf("SplitFolderPath(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}
