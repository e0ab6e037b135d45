// Package localsecrets implements secrets.Resolver for the local runner:
// a reference resolves from the environment variable
// CONNECTOR_SECRET_<REF> (JSON) or else from <stateDir>/secrets.yaml.
// Errors name the reference and where it was looked for, never a value.
package localsecrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"mailconnector/shared/secrets"
)

// EnvPrefix starts the environment variable that holds a secret.
const EnvPrefix = "CONNECTOR_SECRET_"

// FileName is the secrets file in the state directory.
const FileName = "secrets.yaml"

// Resolver resolves secret references from the environment and a file.
type Resolver struct {
	file   string
	lookup func(string) (string, bool)
}

var _ secrets.Resolver = (*Resolver)(nil)

// New returns a Resolver that reads <stateDir>/secrets.yaml, a YAML map
// from reference to credentials fields (the yaml names of
// secrets.Credentials), after the environment.
func New(stateDir string) *Resolver {
	return &Resolver{file: filepath.Join(stateDir, FileName), lookup: os.LookupEnv}
}

// EnvName is the environment variable that holds ref: EnvPrefix and ref
// upper-cased, with every character other than A-Z and 0-9 turned into "_".
func EnvName(ref string) string {
	var b strings.Builder
	b.WriteString(EnvPrefix)
	for _, r := range strings.ToUpper(ref) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Resolve returns the credentials ref names: the JSON in its environment
// variable, else its entry in the secrets file; else an error wrapping
// secrets.ErrNotFound.
func (r *Resolver) Resolve(ctx context.Context, ref string) (secrets.Credentials, error) {
	if strings.TrimSpace(ref) == "" {
		return secrets.Credentials{}, fmt.Errorf("localsecrets: resolve: empty secret reference: %w", secrets.ErrNotFound)
	}
	env := EnvName(ref)
	if v, ok := r.lookup(env); ok {
		var c secrets.Credentials
		dec := json.NewDecoder(strings.NewReader(v))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return secrets.Credentials{}, fmt.Errorf("localsecrets: resolve %q: environment variable %s is not a JSON credentials object: %s", ref, env, describeJSON(err))
		}
		secrets.Register(c)
		return c, nil
	}
	data, err := readFile(r.file)
	if errors.Is(err, fs.ErrNotExist) {
		return secrets.Credentials{}, fmt.Errorf("localsecrets: resolve %q: not in environment variable %s, and %s does not exist: %w", ref, env, r.file, secrets.ErrNotFound)
	}
	if err != nil {
		return secrets.Credentials{}, fmt.Errorf("localsecrets: resolve %q: %w", ref, err)
	}
	c, err := fileEntry(data, ref)
	if errors.Is(err, errNoEntry) {
		return secrets.Credentials{}, fmt.Errorf("localsecrets: resolve %q: not in environment variable %s nor in %s: %w: %w", ref, env, r.file, err, secrets.ErrNotFound)
	}
	if err != nil {
		return secrets.Credentials{}, fmt.Errorf("localsecrets: resolve %q: read %s: %w", ref, r.file, err)
	}
	secrets.Register(c)
	return c, nil
}

// readFile reads the secrets file, refusing one that group or others may
// read (as fetchmail refuses such a .fetchmailrc): it holds passwords and
// refresh tokens.
func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, &PermissionError{File: name, Mode: perm}
	}
	return io.ReadAll(f)
}

// PermissionError is a secrets file that group or others may read.
type PermissionError struct {
	File string
	Mode fs.FileMode
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("%s is readable by group or others (mode %04o); refusing it: run chmod 600 %s", e.File, uint32(e.Mode), e.File)
}

// describeJSON says what is wrong with JSON without quoting any of it
// (a syntax error would quote the offending character).
func describeJSON(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q must not be a JSON %s", typ.Field, typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return err.Error()[len("json: "):] // a field name, not a value
	case err.Error() == "EOF" || err.Error() == "unexpected EOF":
		return "empty or truncated"
	}
	return "malformed"
}

// describeYAML says where a YAML error is without quoting the text: the
// parser's messages quote what they stumbled on, which may be a password.
func describeYAML(err error) string {
	if m := lineRE.FindStringSubmatch(err.Error()); m != nil {
		return "not valid YAML at line " + m[1] + " (content withheld)"
	}
	return "not valid YAML (content withheld)"
}
