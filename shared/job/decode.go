package job

import (
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"

	"mailconnector/shared/lazyre"
)

// UnknownKey is a key of the jobs file that no field of the job types
// takes: most often a typo, which would otherwise turn a feature off
// without a word.
type UnknownKey struct {
	Path       string // where the key sits, e.g. jobs[0].server; "" at the top
	Key        string
	Suggestion string // the known key it was likely meant to be, or ""
	Line       int
}

func (e *UnknownKey) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	fmt.Fprintf(&b, "unknown key %q", e.Key)
	if e.Suggestion != "" {
		fmt.Fprintf(&b, " (did you mean %q?)", e.Suggestion)
	}
	return b.String()
}

// UnknownKeys is every unknown key of a jobs file.
type UnknownKeys []*UnknownKey

func (ks UnknownKeys) Error() string { return listProblems(ks) }

// parseNode reads the jobs file as a YAML node tree. A syntax error names
// the line the problem is on: the YAML parser names the line where the
// enclosing block began (for a bad indent, often line 1), so the line
// named is the last one whose addition turns a readable start of the file
// into an unreadable one.
func parseNode(b []byte) (*yaml.Node, error) {
	var doc yaml.Node
	err := yaml.Unmarshal(b, &doc)
	if err == nil {
		return &doc, nil
	}
	msg := yamlLine.ReplaceAllString(err.Error(), "")
	lines := strings.SplitAfter(string(b), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for k := len(lines); k > 1; k-- {
		var n yaml.Node
		if yaml.Unmarshal([]byte(strings.Join(lines[:k-1], "")), &n) == nil {
			return nil, fmt.Errorf("line %d: %s", k, msg)
		}
	}
	return nil, fmt.Errorf("line 1: %s", msg)
}

var yamlLine = lazyre.New(`^yaml: (line \d+: )?`)

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// unknownKeys lists the keys of n that the type t does not take, with
// their path.
func unknownKeys(n *yaml.Node, t reflect.Type, path string) UnknownKeys {
	if n.Kind == yaml.DocumentNode {
		var ks UnknownKeys
		for _, c := range n.Content {
			ks = append(ks, unknownKeys(c, t, path)...)
		}
		return ks
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	var ks UnknownKeys
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		fields := map[string]reflect.Type{}
		var names []string
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			fields[name] = f.Type
			names = append(names, name)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			ft, ok := fields[k.Value]
			if !ok {
				if k.Value != "<<" {
					ks = append(ks, &UnknownKey{Path: path, Key: k.Value, Suggestion: suggestKey(k.Value, names), Line: k.Line})
				}
				continue
			}
			sub := k.Value
			if path != "" {
				sub = path + "." + k.Value
			}
			ks = append(ks, unknownKeys(n.Content[i+1], ft, sub)...)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return nil
		}
		for i, c := range n.Content {
			ks = append(ks, unknownKeys(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	return ks
}

// suggestKey returns the known key closest to key, ignoring case, when it
// is at most two edits away; the first of equally close keys; or "".
func suggestKey(key string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(key), strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b: the fewest
// insertions, deletions and substitutions of one rune that turn a into b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
