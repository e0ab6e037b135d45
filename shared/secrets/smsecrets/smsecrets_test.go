package smsecrets

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"mailconnector/shared/redact"
	"mailconnector/shared/secrets"
	"mailconnector/shared/testkit/awstest"
)

var moto *awstest.Moto

func TestMain(m *testing.M) { awstest.Main(m, &moto) }

// The secret values the tests store; no error may show any of them.
const (
	password     = "hunter2-very-secret"
	clientSecret = "cs-very-secret"
	refresh1     = "rt-1-very-secret"
	refresh2     = "rt-2-very-secret"
)

var secretValues = []string{password, clientSecret, refresh1, refresh2}

var names atomic.Int64

// newSecret stores value under a fresh name and returns the name.
func newSecret(tb testing.TB, c *secretsmanager.Client, value string) string {
	tb.Helper()
	name := fmt.Sprintf("mail/job-%d", names.Add(1))
	if _, err := c.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)}); err != nil {
		tb.Fatalf("create secret: %v", err)
	}
	return name
}

func putValue(tb testing.TB, c *secretsmanager.Client, name, value string) {
	tb.Helper()
	if _, err := c.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(value)}); err != nil {
		tb.Fatalf("put secret value: %v", err)
	}
}

// noSecretIn fails when err shows a secret value.
func noSecretIn(tb testing.TB, err error) {
	tb.Helper()
	if err == nil {
		return
	}
	for _, v := range secretValues {
		if strings.Contains(err.Error(), v) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), v) {
			tb.Errorf("error shows a secret value: %v", err)
		}
	}
}

var full = fmt.Sprintf(`{"username":"support@example.com","password":%q,"clientId":"app","clientSecret":%q,"refreshToken":%q,"scopes":["IMAP.AccessAsUser.All"]}`, password, clientSecret, refresh1)

func TestResolve(t *testing.T) {
	c := secretsmanager.NewFromConfig(moto.Config())
	good := newSecret(t, c, full)
	broken := newSecret(t, c, "password="+password)
	wrongType := newSecret(t, c, fmt.Sprintf(`{"password":%q,"scopes":%q}`, password, password))
	tests := []struct {
		name, ref    string
		wantUser     string
		wantNotFound bool
		wantErr      bool
	}{
		{name: "found", ref: good, wantUser: "support@example.com"},
		{name: "missing", ref: "mail/nope", wantNotFound: true, wantErr: true},
		{name: "not JSON", ref: broken, wantErr: true},
		{name: "JSON of the wrong shape", ref: wrongType, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(c, nil)
			got, err := r.Resolve(context.Background(), tt.ref)
			noSecretIn(t, err)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Resolve %s: got error %v, want error %v", tt.ref, err, tt.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tt.ref) {
					t.Errorf("got %v, want the error to name %s", err, tt.ref)
				}
				if errors.Is(err, secrets.ErrNotFound) != tt.wantNotFound {
					t.Errorf("got %v, want errors.Is(ErrNotFound) %v", err, tt.wantNotFound)
				}
				return
			}
			if got.Username != tt.wantUser || got.Password != password || got.RefreshToken != refresh1 || got.ClientSecret != clientSecret || len(got.Scopes) != 1 {
				t.Errorf("got %v (refresh token right: %v), want the stored fields", got, got.RefreshToken == refresh1)
			}
			if s := fmt.Sprintf("%v %+v %#v %s", got, got, got, got); strings.Contains(s, password) || strings.Contains(s, refresh1) {
				t.Errorf("credentials print a secret value: %s", s)
			}
		})
	}
}

func TestCache(t *testing.T) {
	c := secretsmanager.NewFromConfig(moto.Config())
	ctx := context.Background()
	tests := []struct {
		name      string
		ttl       time.Duration
		advance   time.Duration
		wantFresh bool
	}{
		{name: "within the default 5 minutes", advance: 4 * time.Minute, wantFresh: false},
		{name: "after the default 5 minutes", advance: 5*time.Minute + time.Second, wantFresh: true},
		{name: "shorter TTL", ttl: time.Minute, advance: 2 * time.Minute, wantFresh: true},
		{name: "no caching", ttl: -1, advance: 0, wantFresh: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := newSecret(t, c, `{"username":"old@example.com"}`)
			now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
			r := New(c, &Options{CacheTTL: tt.ttl, Now: func() time.Time { return now }})
			if got, err := r.Resolve(ctx, name); err != nil || got.Username != "old@example.com" {
				t.Fatalf("Resolve: got %v, %v", got, err)
			}
			putValue(t, c, name, `{"username":"new@example.com"}`)
			now = now.Add(tt.advance)
			got, err := r.Resolve(ctx, name)
			if err != nil {
				t.Fatalf("Resolve again: %v", err)
			}
			want := "old@example.com"
			if tt.wantFresh {
				want = "new@example.com"
			}
			if got.Username != want {
				t.Errorf("after %v: got username %s, want %s", tt.advance, got.Username, want)
			}
		})
	}
}

func TestWriteBack(t *testing.T) {
	c := secretsmanager.NewFromConfig(moto.Config())
	ctx := context.Background()
	tests := []struct {
		name        string
		token       string
		wantChanged bool
		wantToken   string
	}{
		{name: "same token: no write", token: refresh1, wantChanged: false, wantToken: refresh1},
		{name: "rotated: written, other fields kept", token: refresh2, wantChanged: true, wantToken: refresh2},
		{name: "no token in the response: no write", token: "", wantChanged: false, wantToken: refresh1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := newSecret(t, c, full)
			r := New(c, nil)
			if _, err := r.Resolve(ctx, name); err != nil { // fills the cache
				t.Fatal(err)
			}
			// Only the refresh token counts: what the caller passes
			// otherwise (here a changed password) is not written.
			changed, err := r.WriteBack(ctx, name, secrets.Credentials{Password: "ignored", RefreshToken: tt.token})
			noSecretIn(t, err)
			if err != nil || changed != tt.wantChanged {
				t.Fatalf("WriteBack: got changed %v, %v; want %v", changed, err, tt.wantChanged)
			}
			for _, rr := range []*Resolver{r, New(c, nil)} { // the cache, and the stored value
				got, err := rr.Resolve(ctx, name)
				if err != nil {
					t.Fatal(err)
				}
				if got.RefreshToken != tt.wantToken || got.Password != password || got.ClientSecret != clientSecret || got.ClientID != "app" || got.Username != "support@example.com" {
					t.Errorf("after WriteBack: got %v (refresh token right: %v, password kept: %v), want the token %v and the other fields kept",
						got, got.RefreshToken == tt.wantToken, got.Password == password, tt.wantChanged)
				}
			}
			versions, err := c.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			want := 1
			if tt.wantChanged {
				want = 2
			}
			if len(versions.Versions) != want {
				t.Errorf("got %d versions, want %d", len(versions.Versions), want)
			}
		})
	}
	t.Run("missing secret", func(t *testing.T) {
		_, err := New(c, nil).WriteBack(ctx, "mail/nope", secrets.Credentials{RefreshToken: refresh2})
		noSecretIn(t, err)
		if !errors.Is(err, secrets.ErrNotFound) {
			t.Errorf("got %v, want ErrNotFound", err)
		}
	})
}

// TestResolvedAndWrittenValuesAreRegistered: what the resolver reads and
// what it writes back is masked by the process's redactor from then on.
func TestResolvedAndWrittenValuesAreRegistered(t *testing.T) {
	const pw, rt = "sm-registered-Pa55word", "sm-written-refresh-token"
	c := secretsmanager.NewFromConfig(moto.Config())
	ref := newSecret(t, c, fmt.Sprintf(`{"username":"u","password":%q}`, pw))
	r := New(c, nil)
	if _, err := r.Resolve(context.Background(), ref); err != nil {
		t.Fatal(err)
	}
	if _, err := r.WriteBack(context.Background(), ref, secrets.Credentials{Username: "u", RefreshToken: rt}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{pw, rt} {
		if got := redact.String("x " + v); got != "x "+redact.Mask {
			t.Errorf("got %q, want %q", got, "x "+redact.Mask)
		}
	}
}
