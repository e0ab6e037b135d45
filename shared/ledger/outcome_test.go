package ledger_test

import (
	"testing"

	"mailconnector/shared/ledger"
)

func TestOutcome(t *testing.T) {
	tests := []struct {
		name string
		e    ledger.Entry
		want ledger.Outcome
	}{
		{"created", ledger.Entry{State: ledger.Processed, Action: "create", RequestID: "r", Conversation: "c"}, ledger.OutcomeCreated},
		{"created before actions were recorded", ledger.Entry{State: ledger.Processed, RequestID: "r", Conversation: "c"}, ledger.OutcomeCreated},
		{"updated", ledger.Entry{State: ledger.Processed, Action: "update", RequestID: "r", Conversation: "c"}, ledger.OutcomeUpdated},
		{"ignored", ledger.Entry{State: ledger.Processed, Action: "ignore"}, ledger.OutcomeIgnored},
		{"made already", ledger.Entry{State: ledger.Processed, Action: "ignore", RequestID: "r"}, ledger.OutcomeIgnored},
		{"ignored before actions were recorded", ledger.Entry{State: ledger.Processed}, ledger.OutcomeIgnored},
		{"rejected", ledger.Entry{State: ledger.Rejected, Action: "reject"}, ledger.OutcomeRejected},
		{"failed", ledger.Entry{State: ledger.Failed}, ledger.OutcomeFailed},
		{"duplicate", ledger.Entry{State: ledger.Duplicate}, ledger.OutcomeDuplicate},
		{"queued", ledger.Entry{State: ledger.Queued}, ledger.OutcomePending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.Outcome(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}
