package localsecrets

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sync"

	"go.yaml.in/yaml/v3"

	"mailconnector/shared/secrets"
)

var _ secrets.Writer = (*Resolver)(nil)

// writeMu serialises write-backs within the process (the local runner is
// one process).
var writeMu sync.Mutex

// WriteBack stores c as the entry ref of <stateDir>/secrets.yaml, keeping
// every other entry (and its comments), and writes only when the entry
// changed. A secret that resolves from its environment variable is never
// written (a process cannot change its parent's environment): WriteBack
// then fails with secrets.ErrReadOnly, naming the variable, so the caller
// can tell the administrator to move the secret into the file.
func (r *Resolver) WriteBack(ctx context.Context, ref string, c secrets.Credentials) (bool, error) {
	env := EnvName(ref)
	if _, ok := r.lookup(env); ok {
		return false, fmt.Errorf("localsecrets: write back %q: it comes from environment variable %s, which the connector cannot update; move it into %s to keep rotated tokens: %w", ref, env, r.file, secrets.ErrReadOnly)
	}
	writeMu.Lock()
	defer writeMu.Unlock()
	data, err := readFile(r.file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("localsecrets: write back %q: %w", ref, err)
	}
	var doc yaml.Node
	if len(bytes.TrimSpace(data)) > 0 {
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return false, fmt.Errorf("localsecrets: write back %q: read %s: %s", ref, r.file, describeYAML(err))
		}
	}
	if doc.Kind == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return false, fmt.Errorf("localsecrets: write back %q: %s is not a map of secret names to credentials", ref, r.file)
	}
	root := doc.Content[0]
	value, err := credentialsNode(c)
	if err != nil {
		return false, fmt.Errorf("localsecrets: write back %q: %w", ref, err)
	}
	found := false
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != ref {
			continue
		}
		var old secrets.Credentials
		if err := root.Content[i+1].Decode(&old); err == nil && reflect.DeepEqual(normal(old), normal(c)) {
			return false, nil
		}
		root.Content[i+1] = value
		found = true
		break
	}
	if !found {
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: ref}, value)
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return false, fmt.Errorf("localsecrets: write back %q: encode: %s", ref, describeYAML(err))
	}
	enc.Close()
	if err := os.MkdirAll(filepath.Dir(r.file), 0o700); err != nil {
		return false, fmt.Errorf("localsecrets: write back %q: %w", ref, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(r.file), ".secrets-*.yaml")
	if err != nil {
		return false, fmt.Errorf("localsecrets: write back %q: %w", ref, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return false, fmt.Errorf("localsecrets: write back %q: %w", ref, err)
	}
	if _, err := tmp.Write(out.Bytes()); err != nil {
		tmp.Close()
		return false, fmt.Errorf("localsecrets: write back %q: write %s: %w", ref, tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return false, fmt.Errorf("localsecrets: write back %q: sync: %w", ref, err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("localsecrets: write back %q: %w", ref, err)
	}
	if err := os.Rename(tmp.Name(), r.file); err != nil {
		return false, fmt.Errorf("localsecrets: write back %q: %w", ref, err)
	}
	return true, nil
}

// normal treats a nil and an empty scope list alike.
func normal(c secrets.Credentials) secrets.Credentials {
	if len(c.Scopes) == 0 {
		c.Scopes = nil
	}
	return c
}

// credentialsNode is c as a YAML map of its non-empty fields, under the
// same names the resolver reads.
func credentialsNode(c secrets.Credentials) (*yaml.Node, error) {
	b, err := json.Marshal(c) // the JSON names are the YAML names, with omitempty
	if err != nil {
		return nil, errors.New("encode credentials")
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, errors.New("encode credentials")
	}
	var n yaml.Node
	if err := n.Encode(m); err != nil {
		return nil, errors.New("encode credentials")
	}
	return &n, nil
}
