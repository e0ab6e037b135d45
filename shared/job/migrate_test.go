package job

import (
	"strings"
	"testing"
)

func TestMigrateToGraph(t *testing.T) {
	src := `
jobs:
  - id: other
    server: {protocol: imap, host: h, security: tls, auth: {secret: s}}
  - id: desk
    name: Help desk
    server:
      protocol: ews
      ews: {url: "https://outlook.office365.com/EWS/Exchange.asmx", mailbox: help@contoso.com, hardDelete: true}
      folder: Inbox/Support
      timeout: 45s
      auth: {method: oauth2, secret: desk-ews}
    schedule: {every: 10m, from: "08:00", to: "18:00"} # office hours
    incoming:
      onSuccess: move
      moveTo: Inbox/Done
      onError: {folder: Connector Errors, stopAfter: 5}
`
	out, err := MigrateToGraph([]byte(src), "desk")
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	f, err := Parse(out)
	if err != nil {
		t.Fatalf("the output does not load: %v\n%s", err, got)
	}
	if len(f.Jobs) != 1 {
		t.Fatalf("got %d jobs, want the one", len(f.Jobs))
	}
	j := f.Jobs[0]
	s := j.Server
	if s.Protocol != Graph || s.Mailbox != "help@contoso.com" || s.Folder != "Inbox/Support" || s.Timeout.D().String() != "45s" || s.Auth.Method != AuthOAuth2 || s.Auth.Secret != "desk-ews" || s.EWS != nil {
		t.Errorf("got server %+v", s)
	}
	if j.ID != "desk" || j.Name != "Help desk" || j.Schedule.Every.D().String() != "10m0s" || j.Schedule.From != "08:00" || j.Incoming.OnSuccess != Move || j.Incoming.MoveTo != "Inbox/Done" || j.Incoming.OnError.StopAfter != 5 {
		t.Errorf("got job %+v, want schedule and dispositions kept", j)
	}
	for _, want := range []string{"# office hours", "hardDelete has no graph equivalent", "tenantId, clientId, clientSecret"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}

	// Without ews.mailbox the address is left for the administrator.
	out, err = MigrateToGraph([]byte(ewsJob(`{protocol: ews, host: mail.contoso.com, auth: {method: spa, secret: s}}`)), "x")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `mailbox: "" # required: the address of the mailbox`) {
		t.Errorf("got\n%s\nwant an empty mailbox marked required", out)
	}
	if _, err := MigrateToGraph([]byte(supJob), "sup"); err == nil || !strings.Contains(err.Error(), "job sup: protocol is imap, not ews") {
		t.Errorf("imap job: got %v", err)
	}
}
