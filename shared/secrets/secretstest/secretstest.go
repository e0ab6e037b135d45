// Package secretstest holds a secrets.Resolver for tests: the secrets a
// test names, in a map.
package secretstest

import (
	"context"

	"mailconnector/shared/secrets"
)

// Map resolves a reference to its entry, and an unknown one to
// secrets.ErrNotFound. It is read-only: a test that needs write-back
// wraps it with its own lock.
type Map map[string]secrets.Credentials

var _ secrets.Resolver = Map(nil)

// Resolve returns the credentials stored under ref.
func (m Map) Resolve(_ context.Context, ref string) (secrets.Credentials, error) {
	c, ok := m[ref]
	if !ok {
		return c, secrets.ErrNotFound
	}
	return c, nil
}
