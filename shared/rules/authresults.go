package rules

import (
	"strings"

	"mailconnector/shared/lazyre"
	"mailconnector/shared/message"
)

// authResults reads the results of one method ("spf", "dkim", "dmarc")
// from the trusted Authentication-Results headers (trustedResults).
// Several results (two DKIM signatures) give several values; none gives
// "none".
func authResults(m *message.Message, method string, trusted []string) []string {
	var out []string
	for _, r := range trustedResults(m, trusted) {
		if strings.EqualFold(r.method, method) {
			out = append(out, r.result)
		}
	}
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

// authResult is one "method=result ptype.property=value ..." of an
// Authentication-Results header, lower-cased.
type authResult struct {
	method, result string
	props          map[string]string
}

var (
	authComment = lazyre.New(`\([^()]*\)`)
	authEquals  = lazyre.New(`\s*=\s*`)
)

// trustedResults parses the trusted Authentication-Results headers of m
// (RFC 8601 section 2.2: "authserv-id [version] ; method=result
// ptype.property=value ; ..."). Only a trusted header counts (section 5:
// anyone upstream can add one): those whose authserv-id is listed, or
// with no list the topmost one, which the receiving server added. It is
// the one selection of the trusted header, for conditions, the
// allow-list and sender notices.
func trustedResults(m *message.Message, trusted []string) []authResult {
	var headers []string
	for k, vs := range m.Headers {
		if strings.EqualFold(k, "Authentication-Results") {
			headers = vs
			break
		}
	}
	var out []authResult
	for i, v := range headers {
		if len(v) > 4096 {
			v = v[:4096]
		}
		v = authEquals.ReplaceAllString(authComment.ReplaceAllString(strings.ToLower(v), " "), "=")
		parts := strings.Split(v, ";")
		id := strings.Fields(parts[0])
		if len(trusted) == 0 {
			if i > 0 {
				break
			}
		} else if len(id) == 0 || !containsFold(trusted, id[0]) {
			continue
		}
		for _, part := range parts[1:] {
			f := strings.Fields(part)
			if len(f) == 0 {
				continue
			}
			method, result, ok := strings.Cut(f[0], "=")
			if !ok {
				continue
			}
			method, _, _ = strings.Cut(method, "/")
			r := authResult{method: method, result: result, props: map[string]string{}}
			for _, p := range f[1:] {
				if k, v, ok := strings.Cut(p, "="); ok {
					r.props[k] = strings.Trim(v, `"`)
				}
			}
			out = append(out, r)
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
