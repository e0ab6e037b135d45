package smsecrets

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"mailconnector/shared/awstest"
	"mailconnector/shared/secrets"
)

var moto *awstest.Moto

func TestMain(m *testing.M) { awstest.Main(m, &moto) }

func TestResolveCacheAndWriteBack(t *testing.T) {
	ctx := context.Background()
	c := secretsmanager.NewFromConfig(moto.Config())
	const value = `{"username":"support@example.com","password":"hunter2-very-secret","clientId":"app","refreshToken":"rt-1"}`
	if _, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("mail/support"), SecretString: aws.String(value)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("mail/broken"), SecretString: aws.String(`password=hunter2-very-secret`)}); err != nil {
		t.Fatal(err)
	}
	r := New(c, nil)
	got, err := r.Resolve(ctx, "mail/support")
	if err != nil || got.Username != "support@example.com" || got.Password != "hunter2-very-secret" || got.RefreshToken != "rt-1" {
		t.Fatalf("got %v, %v", got, err)
	}
	if s := fmt.Sprintf("%v %+v %#v", got, got, got); strings.Contains(s, "hunter2") {
		t.Errorf("credentials print their password: %s", s)
	}

	_, err = r.Resolve(ctx, "mail/nope")
	if !errors.Is(err, secrets.ErrNotFound) || !strings.Contains(err.Error(), "mail/nope") {
		t.Errorf("got %v, want ErrNotFound naming the reference", err)
	}
	_, err = r.Resolve(ctx, "mail/broken")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("got %v, want an error that does not show the value", err)
	}

	changed, err := r.WriteBack(ctx, "mail/support", secrets.Credentials{RefreshToken: "rt-1"})
	if err != nil || changed {
		t.Fatalf("same token: got changed %v, %v; want no write", changed, err)
	}
	changed, err = r.WriteBack(ctx, "mail/support", secrets.Credentials{RefreshToken: "rt-2"})
	if err != nil || !changed {
		t.Fatalf("rotated token: got changed %v, %v; want a write", changed, err)
	}
	fresh, err := New(c, nil).Resolve(ctx, "mail/support")
	if err != nil || fresh.RefreshToken != "rt-2" || fresh.Password != "hunter2-very-secret" || fresh.ClientID != "app" {
		t.Errorf("after write-back: got %v (refresh %q), %v; want the new token and the other fields kept", fresh, fresh.RefreshToken, err)
	}
	versions, err := c.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("mail/support")})
	if err != nil || len(versions.Versions) != 2 {
		t.Errorf("got %d versions, %v; want 2 (one write)", len(versions.Versions), err)
	}
}
