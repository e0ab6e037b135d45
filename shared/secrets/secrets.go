// Package secrets resolves the credentials a job's secret reference names.
// Values never appear in logs or errors: Credentials prints as redacted,
// and every resolver registers the values it resolves or writes back with
// the process's redactor (Register), which masks them wherever the
// connector writes text.
package secrets

import (
	"context"
	"errors"
	"fmt"

	"mailconnector/shared/redact"
)

// Credentials are what a secret holds. Which fields are set depends on the
// job's authentication method.
type Credentials struct {
	Username     string   `json:"username,omitempty" yaml:"username"`
	Password     string   `json:"password,omitempty" yaml:"password"`
	Domain       string   `json:"domain,omitempty" yaml:"domain"` // NTLM
	ClientID     string   `json:"clientId,omitempty" yaml:"clientId"`
	ClientSecret string   `json:"clientSecret,omitempty" yaml:"clientSecret"`
	TenantID     string   `json:"tenantId,omitempty" yaml:"tenantId"`
	TokenURL     string   `json:"tokenUrl,omitempty" yaml:"tokenUrl"`
	Scopes       []string `json:"scopes,omitempty" yaml:"scopes"`
	RefreshToken string   `json:"refreshToken,omitempty" yaml:"refreshToken"`
	AccessToken  string   `json:"accessToken,omitempty" yaml:"accessToken"`
	// Key is an encryption key, base64: the local master key that seals
	// the error details (the entry error-details of secrets.yaml).
	Key string `json:"key,omitempty" yaml:"key"`
}

// String never shows a secret value.
func (c Credentials) String() string {
	return fmt.Sprintf("credentials{username:%q, secrets redacted}", c.Username)
}

// GoString never shows a secret value.
func (c Credentials) GoString() string { return c.String() }

// Values are c's secret values: the password, the client secret, the
// tokens and the key. Names and addresses (username, clientId, tenantId, tokenUrl,
// scopes) are not secret: errors name them so an administrator can act.
func (c Credentials) Values() []string {
	return []string{c.Password, c.ClientSecret, c.RefreshToken, c.AccessToken, c.Key}
}

// Register hands c's secret values to the process's redactor, so that no
// error, log line, run record or output shows them. Resolvers call it for
// what they resolve and what they write back.
func Register(c Credentials) { redact.Add(c.Values()...) }

// ErrNotFound means no secret has the given name.
var ErrNotFound = errors.New("secrets: secret not found")

// Resolver resolves a secret reference.
type Resolver interface {
	Resolve(ctx context.Context, ref string) (Credentials, error)
}

// Writer stores credentials back under a secret reference: an OAuth2
// provider that rotates refresh tokens hands out a new one with each
// access token, and the old one may stop working. WriteBack replaces the
// credentials ref names with c, keeping every other secret, and writes
// only when something changed (changed reports whether it did). Errors
// name the reference and where it was to be written, never a value.
type Writer interface {
	WriteBack(ctx context.Context, ref string, c Credentials) (changed bool, err error)
}

// ErrReadOnly means the secret cannot be written where it was found (an
// environment variable).
var ErrReadOnly = errors.New("secrets: secret is read-only where it was found")
