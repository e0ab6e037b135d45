package job

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// MigrateToGraph returns the jobs-file YAML of the graph job equivalent to
// the ews job id of the jobs file src: the same job with the server
// replaced by a graph server reading the same mailbox and folder. Every
// other key (schedule, incoming dispositions and folders, rules, limits)
// is kept as written, comments included. Exchange Online ends EWS on 1
// April 2027; Graph is its way in.
func MigrateToGraph(src []byte, id string) ([]byte, error) {
	f, err := Parse(src)
	if err != nil {
		return nil, err
	}
	j, ok := f.Job(id)
	if !ok {
		return nil, fmt.Errorf("no job %q in the jobs file", id)
	}
	if j.Server.Protocol != EWS {
		return nil, fmt.Errorf("job %s: protocol is %s, not ews", id, j.Server.Protocol)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	jobNode := findJobNode(&doc, id)
	if jobNode == nil {
		return nil, fmt.Errorf("job %s: not found in the YAML", id)
	}
	e := j.Server.EWS
	if e == nil {
		e = &EWSSettings{}
	}
	server := &yaml.Node{Kind: yaml.MappingNode}
	add := func(key, value, comment string) *yaml.Node {
		k := &yaml.Node{Kind: yaml.ScalarNode, Value: key}
		v := &yaml.Node{Kind: yaml.ScalarNode, Value: value, LineComment: comment}
		server.Content = append(server.Content, k, v)
		return v
	}
	add("protocol", "graph", "")
	if e.Mailbox != "" {
		add("mailbox", e.Mailbox, "")
	} else {
		v := add("mailbox", "", "required: the address of the mailbox the ews job signed in to")
		v.Style = yaml.DoubleQuotedStyle
	}
	// The folder and the timeout as written (left out: the defaults).
	for i := 0; i+1 < len(jobNode.Content); i += 2 {
		if jobNode.Content[i].Value != "server" {
			continue
		}
		old := jobNode.Content[i+1]
		for k := 0; k+1 < len(old.Content); k += 2 {
			if key := old.Content[k].Value; key == "folder" || key == "timeout" {
				server.Content = append(server.Content, old.Content[k], old.Content[k+1])
			}
		}
	}
	auth := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Value: "method"}, {Kind: yaml.ScalarNode, Value: "oauth2"},
		{Kind: yaml.ScalarNode, Value: "secret"}, {Kind: yaml.ScalarNode, Value: j.Server.Auth.Secret,
			LineComment: "now an app registration: tenantId, clientId, clientSecret (Mail.ReadWrite), or a delegated sign-in with connector oauth login"},
	}}
	server.Content = append(server.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "auth"}, auth)
	if e.HardDelete {
		server.HeadComment = "ews.hardDelete has no graph equivalent: graph deletes to Deleted Items"
	}
	for i := 0; i+1 < len(jobNode.Content); i += 2 {
		if jobNode.Content[i].Value == "server" {
			jobNode.Content[i+1] = server
		}
	}
	out := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Value: "jobs", HeadComment: fmt.Sprintf("The graph job equivalent to the ews job %s: replace it with this one.", id)},
		{Kind: yaml.SequenceNode, Content: []*yaml.Node{jobNode}},
	}}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// findJobNode is the mapping of job id in the jobs file's node tree.
func findJobNode(doc *yaml.Node, id string) *yaml.Node {
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "jobs" {
			continue
		}
		for _, jn := range root.Content[i+1].Content {
			for k := 0; k+1 < len(jn.Content); k += 2 {
				if jn.Content[k].Value == "id" && jn.Content[k+1].Value == id {
					return jn
				}
			}
		}
	}
	return nil
}
