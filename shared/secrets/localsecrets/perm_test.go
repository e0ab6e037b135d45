package localsecrets

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mailconnector/shared/secrets"
)

// TestFileReadableByOthersIsRefused: a secrets file that group or others
// may read is refused, by Resolve and WriteBack, with the chmod to run.
func TestFileReadableByOthersIsRefused(t *testing.T) {
	tests := []struct {
		name   string
		mode   os.FileMode
		refuse bool
	}{
		{"owner only", 0o600, false},
		{"owner read only", 0o400, false},
		{"group readable", 0o640, true},
		{"world readable", 0o644, true},
		{"group writable", 0o620, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := resolver(t, nil, fileYAML)
			if err := os.Chmod(r.file, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, err := r.Resolve(context.Background(), "mail/support")
			var pe *PermissionError
			if got := errors.As(err, &pe); got != tt.refuse {
				t.Fatalf("got error %v, want refused %v", err, tt.refuse)
			}
			if !tt.refuse {
				return
			}
			want := "run chmod 600 " + filepath.Join(filepath.Dir(r.file), FileName)
			if !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), secretValue) {
				t.Errorf("got %q, want it to name %q and no value", err, want)
			}
			if errors.Is(err, secrets.ErrNotFound) {
				t.Errorf("got %v, want it not to read as a missing secret", err)
			}
			if _, err := r.WriteBack(context.Background(), "mail/support", secrets.Credentials{Password: "new"}); !errors.As(err, &pe) {
				t.Errorf("WriteBack: got %v, want the file refused", err)
			}
		})
	}
}
