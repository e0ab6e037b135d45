package localsecrets

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"mailconnector/shared/lazyre"
	"mailconnector/shared/secrets"
)

// errNoEntry means the file has no entry for the reference.
var errNoEntry = errors.New("no entry in the file")

// fileEntry finds ref's entry in the secrets file data. An error never
// quotes the file: it gives the line (the YAML parser's own messages quote
// the text around a fault, which may be a password).
//
// The file is read whole first. When that fails, each top-level entry (a
// line that starts in the first column, up to the next one) is read on
// its own, so one broken entry fails only the reference that names it: the
// others resolve, and an unknown reference is reported as not found, with
// the lines that could not be read.
func fileEntry(data []byte, ref string) (secrets.Credentials, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err == nil {
		return entryIn(&doc, ref)
	}
	lines := strings.SplitAfter(string(data), "\n")
	var starts []int
	for i, l := range lines {
		if topLevel(l) {
			starts = append(starts, i)
		}
	}
	var broken []string
	for n, start := range starts {
		end := len(lines)
		if n+1 < len(starts) {
			end = starts[n+1]
		}
		// Blank lines in front keep the parser's line numbers true.
		chunk := strings.Repeat("\n", start) + strings.Join(lines[start:end], "")
		var d yaml.Node
		err := yaml.Unmarshal([]byte(chunk), &d)
		if err != nil {
			line := faultLine(lines, start, end, err)
			if key, ok := keyOf(lines[start]); ok && key == ref {
				return secrets.Credentials{}, fmt.Errorf("entry at line %d: not valid YAML at line %d (content withheld)", start+1, line)
			}
			broken = append(broken, "line "+strconv.Itoa(line))
			continue
		}
		c, err := entryIn(&d, ref)
		if errors.Is(err, errNoEntry) {
			continue
		}
		return c, err
	}
	if len(broken) > 0 {
		return secrets.Credentials{}, fmt.Errorf("%w (the file is not valid YAML at %s; if the entry is there, fix it)", errNoEntry, strings.Join(broken, ", "))
	}
	return secrets.Credentials{}, errNoEntry
}

// faultLine is the line of the entry lines[start:end] that err is about:
// the line the parser names, else the first line where a growing prefix of
// the entry stops parsing (an unknown alias, for one, is named by its
// text only).
func faultLine(lines []string, start, end int, err error) int {
	if m := lineRE.FindStringSubmatch(err.Error()); m != nil {
		if n, e := strconv.Atoi(m[1]); e == nil {
			return n
		}
	}
	for l := start + 1; l <= end; l++ {
		var d yaml.Node
		if yaml.Unmarshal([]byte(strings.Join(lines[start:l], "")), &d) != nil {
			return l
		}
	}
	return start + 1
}

// topLevel reports whether l starts a top-level entry.
func topLevel(l string) bool {
	if l == "" || strings.TrimSpace(l) == "" {
		return false
	}
	switch l[0] {
	case ' ', '\t', '#', '\r', '\n':
		return false
	}
	return !strings.HasPrefix(l, "---") && !strings.HasPrefix(l, "...")
}

// keyOf reads the key of a top-level entry's first line.
func keyOf(l string) (string, bool) {
	l = strings.TrimRight(l, "\r\n")
	for i := 0; i < len(l); i++ {
		if l[i] != ':' || (i+1 < len(l) && l[i+1] != ' ' && l[i+1] != '\t') {
			continue
		}
		var k string
		if err := yaml.Unmarshal([]byte(l[:i]), &k); err == nil && k != "" {
			return k, true
		}
	}
	return "", false
}

var lineRE = lazyre.New(`line (\d+)`)

// entryIn decodes ref's entry from a parsed file.
func entryIn(doc *yaml.Node, ref string) (secrets.Credentials, error) {
	if doc.Kind == 0 {
		return secrets.Credentials{}, errNoEntry // an empty file
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return secrets.Credentials{}, errors.New("the file is not a map of secret names to credentials")
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != ref {
			continue
		}
		return decodeEntry(root.Content[i+1])
	}
	return secrets.Credentials{}, errNoEntry
}

// fields are the names a credentials entry may hold.
var fields = func() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeOf(secrets.Credentials{})
	for i := 0; i < t.NumField(); i++ {
		m[strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]] = true
	}
	return m
}()

// decodeEntry decodes one entry; errors name the line and the field, never
// a value.
func decodeEntry(n *yaml.Node) (secrets.Credentials, error) {
	var c secrets.Credentials
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return c, nil
	}
	if n.Kind != yaml.MappingNode {
		return c, fmt.Errorf("entry at line %d is not a map of credentials fields", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !fields[k.Value] {
			return c, fmt.Errorf("line %d, column %d: unknown field %q", k.Line, k.Column, k.Value)
		}
		var probe secrets.Credentials
		one := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{k, n.Content[i+1]}}
		if err := one.Decode(&probe); err != nil {
			v := n.Content[i+1]
			return c, fmt.Errorf("line %d, column %d: field %s has a value of the wrong type (value withheld)", v.Line, v.Column, k.Value)
		}
	}
	if err := n.Decode(&c); err != nil {
		return c, fmt.Errorf("entry at line %d could not be read (value withheld)", n.Line)
	}
	return c, nil
}
