package job

import "testing"

const retentionJobs = `
defaults:
  retention: {rawDays: 14}
jobs:
  - id: plain
    server: {protocol: imap, host: mail.example.com, security: tls, auth: {secret: s}}
  - id: short
    server: {protocol: imap, host: mail.example.com, security: tls, auth: {secret: s}}
    retention: {rawDays: 7, normalizedDays: 90}
  - id: long
    server: {protocol: imap, host: mail.example.com, security: tls, auth: {secret: s}}
    retention: {rawDays: 60}
`

// TestRetention: a job takes its own retention, else the file's
// defaults.retention, else the built-in 30 and 365 days; the longest is
// what a job no longer in the file keeps.
func TestRetention(t *testing.T) {
	f := mustParse(t, retentionJobs)
	tests := []struct {
		name string
		got  Retention
		want Retention
	}{
		{"defaults.retention, then the built-in default", f.RetentionOf("plain"), Retention{RawDays: 14, NormalizedDays: DefaultNormalizedDays}},
		{"its own", f.RetentionOf("short"), Retention{RawDays: 7, NormalizedDays: 90}},
		{"its own raw, the default normalized", f.RetentionOf("long"), Retention{RawDays: 60, NormalizedDays: DefaultNormalizedDays}},
		{"the file's default", f.DefaultRetention(), Retention{RawDays: 14, NormalizedDays: DefaultNormalizedDays}},
		{"the longest", f.LongestRetention(), Retention{RawDays: 60, NormalizedDays: DefaultNormalizedDays}},
		{"a job no longer in the file", f.RetentionOf("gone"), Retention{RawDays: 60, NormalizedDays: DefaultNormalizedDays}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %+v, want %+v", tt.got, tt.want)
			}
		})
	}
	bare := mustParse(t, supJob)
	if got, want := bare.RetentionOf("sup"), (Retention{RawDays: 30, NormalizedDays: 365}); got != want {
		t.Errorf("without retention: got %+v, want %+v", got, want)
	}
}

func TestRetentionErrorsNameTheField(t *testing.T) {
	checkParse(t, []parseCase{
		{"raw days negative", supJob + `    retention: {rawDays: -1}`, `job "sup": retention.rawDays: -1 days is not between 1 and 36500`},
		{"normalized days too many", supJob + `    retention: {normalizedDays: 40000}`, `job "sup": retention.normalizedDays: 40000 days is not between 1 and 36500`},
		{"raw days zero", supJob + `    retention: {rawDays: 0}`, `job "sup": retention.rawDays: must not be zero ("0"); leave it out for the default`},
		{"not a number", supJob + `    retention: {rawDays: month}`, `cannot unmarshal`},
		{"unknown key", supJob + `    retention: {rawDay: 3}`, `unknown key "rawDay" (did you mean "rawDays"?)`},
		{"defaults negative", "defaults:\n  retention: {normalizedDays: -3}\n" + supJob, `defaults.retention.normalizedDays: -3 days is not between 1 and 36500`},
		{"defaults zero", "defaults:\n  retention: {rawDays: 0}\n" + supJob, `defaults.retention.rawDays: must not be zero ("0")`},
		{"defaults unknown key", "defaults:\n  retention: {days: 3}\n" + supJob, `defaults.retention: unknown key "days"`},
		{"at the bounds", supJob + `    retention: {rawDays: 1, normalizedDays: 36500}`, ""},
	})
}

// TestBadDefaultRetentionIsReportedOnce: a bad defaults.retention is one
// error at the file level, not one per job.
func TestBadDefaultRetentionIsReportedOnce(t *testing.T) {
	_, err := Parse([]byte("defaults:\n  retention: {rawDays: -3}\n" + supJob + `  - id: other
    server: {protocol: imap, host: mail.example.com, security: tls, auth: {secret: s}}
`))
	es, ok := err.(Errors)
	if !ok || len(es) != 1 || es[0].Field != "defaults.retention.rawDays" {
		t.Fatalf("got %v, want one error on defaults.retention.rawDays", err)
	}
}
