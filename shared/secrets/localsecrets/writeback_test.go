package localsecrets

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"mailconnector/shared/secrets"
)

func TestWriteBack(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	file := filepath.Join(dir, FileName)
	orig := "# the support mailboxes\nother:\n  username: other@example.com\n  password: " + secretValue + " # keep me\nmail/support:\n  username: support@example.com\n  clientId: app\n  refreshToken: rt-old\n"
	if err := os.WriteFile(file, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	r := New(dir)
	r.lookup = func(string) (string, bool) { return "", false }

	c, err := r.Resolve(ctx, "mail/support")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("unchanged is not written", func(t *testing.T) {
		changed, err := r.WriteBack(ctx, "mail/support", c)
		if err != nil || changed {
			t.Fatalf("got changed %v err %v, want false nil", changed, err)
		}
		if b, _ := os.ReadFile(file); string(b) != orig {
			t.Errorf("the file changed: %q", b)
		}
	})
	t.Run("a rotated token replaces the entry and keeps the others", func(t *testing.T) {
		c.RefreshToken = "rt-new"
		changed, err := r.WriteBack(ctx, "mail/support", c)
		if err != nil || !changed {
			t.Fatalf("got changed %v err %v, want true nil", changed, err)
		}
		got, err := r.Resolve(ctx, "mail/support")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c, got); diff != "" {
			t.Errorf("resolved after write-back (-want +got):\n%s", diff)
		}
		other, err := r.Resolve(ctx, "other")
		if err != nil || other.Password != secretValue {
			t.Errorf("the other secret: got %v, want it kept", err)
		}
		b, _ := os.ReadFile(file)
		if !strings.Contains(string(b), "# keep me") || !strings.Contains(string(b), "# the support mailboxes") {
			t.Errorf("got %q, want the other entry's comments kept", b)
		}
		if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
			t.Errorf("got mode %v, want 0600", fi.Mode().Perm())
		}
	})
	t.Run("a new entry in a new file", func(t *testing.T) {
		d := t.TempDir()
		r2 := New(d)
		r2.lookup = func(string) (string, bool) { return "", false }
		want := secrets.Credentials{Username: "u", RefreshToken: "rt"}
		if changed, err := r2.WriteBack(ctx, "fresh", want); err != nil || !changed {
			t.Fatalf("got %v %v, want true nil", changed, err)
		}
		if got, err := r2.Resolve(ctx, "fresh"); err != nil || !cmp.Equal(got, want) {
			t.Errorf("got %v %v, want the written credentials", got, err)
		}
	})
	t.Run("never to the environment variable", func(t *testing.T) {
		r3 := New(dir)
		r3.lookup = func(name string) (string, bool) { return `{"refreshToken":"x"}`, name == EnvName("mail/support") }
		_, err := r3.WriteBack(ctx, "mail/support", c)
		if !errors.Is(err, secrets.ErrReadOnly) || !strings.Contains(err.Error(), EnvName("mail/support")) || strings.Contains(err.Error(), "rt-new") {
			t.Errorf("got %v, want ErrReadOnly naming the variable, without the value", err)
		}
	})
}
