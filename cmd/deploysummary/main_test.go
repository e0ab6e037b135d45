package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"mailconnector/shared/job"
)

func TestSummary(t *testing.T) {
	f, err := job.Parse([]byte(`jobs:
  - {id: support, server: {protocol: imap, host: imap.example.com, security: tls, auth: {secret: mail/support}}, schedule: {every: 5m, from: "08:00", to: "18:00", occurrence: weekly, days: [mon, tue, wed, thu, fri], timeZone: Europe/Berlin}}
  - {id: legacy, server: {protocol: pop3, host: 127.0.0.1, security: none, auth: {secret: mail/legacy}}, schedule: {every: 1h}}
  - {id: cloud, enabled: false, server: {protocol: imap, host: localhost, security: starttls-if-available, auth: {secret: mail/support}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	check := func(_ context.Context, name string) string {
		if name == "mail/legacy" {
			return "MISSING"
		}
		return "exists"
	}
	if err := summarize(context.Background(), "jobs.yaml", f, check, &out); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"support              imap    every 5 min, Mon–Fri 08:00–18:00 Europe/Berlin\n",
		"(disabled: no schedule)",
		"mail/legacy                    MISSING (jobs legacy)\n",
		"mail/support                   exists (jobs support, cloud)\n",
		"WARNING: job legacy: security: none sends the password and mail in plain text to 127.0.0.1",
		"WARNING: job legacy: host 127.0.0.1 is a loopback address",
		"WARNING: job cloud: host localhost is a loopback address",
		"WARNING: job cloud: security: starttls-if-available falls back to plain text",
	} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("summary lacks %q:\n%s", w, out.String())
		}
	}
	if strings.Contains(out.String(), "WARNING: job support") || strings.Contains(out.String(), "Graph push") {
		t.Errorf("summary warns about support or mentions push:\n%s", out.String())
	}
}
