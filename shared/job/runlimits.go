package job

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// MaxRunTime bounds limits.maxRunTime: a run is one Lambda invocation,
// and a Lambda runs at most 15 minutes.
const MaxRunTime = 15 * time.Minute

// explicitZeros reports the fieldChecks with noZero written as zero in the
// jobs file doc. Defaults cannot tell them apart from keys left out, so it
// reads the document itself.
func explicitZeros(doc *yaml.Node) Errors {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	jobs := mapValue(doc.Content[0], "jobs")
	if jobs == nil || jobs.Kind != yaml.SequenceNode {
		return nil
	}
	var errs Errors
	for i, j := range jobs.Content {
		id := ""
		if n := mapValue(j, "id"); n != nil {
			id = n.Value
		}
		for _, c := range fieldChecks {
			if !c.noZero {
				continue
			}
			n := j
			for _, key := range strings.Split(c.field, ".") {
				n = mapValue(n, key)
			}
			if n == nil || n.Kind != yaml.ScalarNode || !isZero(n.Value) {
				continue
			}
			errs = append(errs, &FieldError{Job: id, Index: i, Field: c.field,
				Msg: fmt.Sprintf("must not be zero (%q); leave it out for the default", n.Value)})
		}
	}
	return errs
}

// mapValue returns the value of key in the mapping n, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// isZero says whether a scalar is a zero number, duration or size.
func isZero(v string) bool {
	v = strings.TrimSpace(v)
	if d, err := time.ParseDuration(v); err == nil {
		return d == 0
	}
	if n, err := ParseSize(v); err == nil {
		return n == 0
	}
	return strings.Trim(v, "0") == "" && v != ""
}

// checkFolder refuses a folder name with a "." or ".." segment (split at
// "/", the jobs file's delimiter) or a control character: the name reaches
// the server (IMAP, RFC 3501 section 5.1) and a local mailbox store, where
// such a name could point outside the mailbox or confuse the protocol.
func checkFolder(field, name string, add func(field, format string, args ...any)) {
	if name == "" {
		return
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		add(field, "%q holds a control character", name)
		return
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == ".." || seg == "." {
			add(field, "%q has a %q segment: a folder cannot point outside the mailbox", name, seg)
			return
		}
	}
}
