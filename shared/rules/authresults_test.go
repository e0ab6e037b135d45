package rules

import (
	"slices"
	"testing"

	"mailconnector/shared/message"
)

// TestAuthResultsAndSenderNoticesReadTheSameHeader: the statements'
// spf/dkim/dmarc conditions and the allow-list (authResults) and the
// sender-notice check (trustedResults) select the same trusted
// Authentication-Results header, so they cannot disagree: a forged
// upstream header counts for neither, a listed authserv-id counts for
// both, and with no header both see nothing.
func TestAuthResultsAndSenderNoticesReadTheSameHeader(t *testing.T) {
	const (
		ours   = "mx.helpdesk.example; spf=pass smtp.mailfrom=bank.example; dkim = pass (ok) header.d=bank.example; dmarc=none header.from=bank.example"
		forged = "evil.example; dmarc=pass header.from=bank.example; dkim/1=pass"
	)
	tests := []struct {
		name    string
		headers map[string][]string
		trusted []string
		want    map[string][]string // method → results
	}{
		{name: "no header", want: map[string][]string{"spf": {"none"}, "dkim": {"none"}, "dmarc": {"none"}}},
		{name: "a forged upstream header below ours", headers: map[string][]string{"Authentication-Results": {ours, forged}},
			want: map[string][]string{"spf": {"pass"}, "dkim": {"pass"}, "dmarc": {"none"}}},
		{name: "a forged header on top, ours trusted by authserv-id", headers: map[string][]string{"Authentication-Results": {forged, ours}},
			trusted: []string{"MX.Helpdesk.Example"}, want: map[string][]string{"spf": {"pass"}, "dkim": {"pass"}, "dmarc": {"none"}}},
		{name: "a forged header on top, no list: the topmost counts", headers: map[string][]string{"Authentication-Results": {forged, ours}},
			want: map[string][]string{"spf": {"none"}, "dkim": {"pass"}, "dmarc": {"pass"}}},
		{name: "a listed authserv-id absent", headers: map[string][]string{"Authentication-Results": {ours}},
			trusted: []string{"other.example"}, want: map[string][]string{"spf": {"none"}, "dkim": {"none"}, "dmarc": {"none"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &message.Message{Headers: tt.headers, From: message.Address{Address: "alerts@bank.example"}}
			trusted := trustedResults(m, tt.trusted)
			for method, want := range tt.want {
				got := authResults(m, method, tt.trusted)
				if !slices.Equal(got, want) {
					t.Errorf("authResults(%s) = %q, want %q", method, got, want)
				}
				var fromTrusted []string
				for _, r := range trusted {
					if r.method == method {
						fromTrusted = append(fromTrusted, r.result)
					}
				}
				if len(fromTrusted) == 0 {
					fromTrusted = []string{"none"}
				}
				if !slices.Equal(got, fromTrusted) {
					t.Errorf("%s: conditions see %q, sender notices see %q", method, got, fromTrusted)
				}
			}
			// The notice check passes exactly when the conditions see an
			// aligned SPF pass or a DMARC pass.
			cond := slices.Contains(authResults(m, "dmarc", tt.trusted), "pass") || slices.Contains(authResults(m, "spf", tt.trusted), "pass")
			if got := senderAuthenticated(m, tt.trusted); got != cond {
				t.Errorf("senderAuthenticated = %v, conditions say %v", got, cond)
			}
		})
	}
}
