package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"mailconnector/shared/job"
	"mailconnector/shared/mailbox/mailboxtest"
	"mailconnector/shared/secrets/localsecrets"
	"mailconnector/shared/testkit/ewstest"
)

var ewsN int

// ewsUser adds a mailbox to srv whose secret holds its password.
func ewsUser(t *testing.T, srv *ewstest.Server) (address, secret string) {
	t.Helper()
	ewsN++
	address = fmt.Sprintf("desk%d@contoso.example", ewsN)
	secret = fmt.Sprintf("ews%d", ewsN)
	srv.AddUser(address, "pw-"+secret, address)
	t.Setenv(localsecrets.EnvName(secret), fmt.Sprintf(`{"username":%q,"password":%q}`, address, "pw-"+secret))
	return address, secret
}

func TestEWSJobTestSampleRun(t *testing.T) {
	srv, ca := ewstest.StartTLS(t)
	address, secret := ewsUser(t, srv)
	srv.Deliver(address, "Inbox", mailboxtest.Message("first@ews.example", 200))
	srv.Deliver(address, "Inbox", mailboxtest.Message("second@ews.example", 200))
	t.Setenv(localsecrets.EnvName("ewswrong"), fmt.Sprintf(`{"username":%q,"password":"not-it"}`, address))
	plainURL := srv.URL() + "/EWS/Exchange.asmx"
	tlsURL := srv.TLSURL() + "/EWS/Exchange.asmx"

	tests := []struct {
		name   string
		server string
		code   int
		want   []string
	}{
		{"url", fmt.Sprintf("{protocol: ews, ews: {url: %q}, auth: {secret: %s}}", plainURL, secret), 0,
			[]string{"job support: connection OK", "(ews, security none)", "signed in:    Basic", "messages:     2 (2 unseen)", "RequestServerVersion Exchange2013_SP1", "ServerVersionInfo 15.2.1544"}},
		{"tls with caFile and an old minimum", fmt.Sprintf("{protocol: ews, ews: {url: %q, version: Exchange2016}, caFile: %s, minTLS: \"1.0\", auth: {secret: %s}}", tlsURL, ca, secret), 0,
			[]string{"connection OK", "(ews, security tls)", "RequestServerVersion Exchange2016", "warning:      server.minTLS 1.0 accepts TLS versions with known weaknesses"}},
		{"certificate", fmt.Sprintf("{protocol: ews, ews: {url: %q}, auth: {secret: %s}}", tlsURL, secret), 1, []string{"job support: certificate failed"}},
		{"folder", fmt.Sprintf("{protocol: ews, ews: {url: %q}, folder: Inbox/Nope, auth: {secret: %s}}", plainURL, secret), 1, []string{"job support: folder failed"}},
		{"authentication", fmt.Sprintf("{protocol: ews, ews: {url: %q}, auth: {secret: ewswrong}}", plainURL), 1, []string{"job support: authentication failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code, msg := testConnection(t, tt.server)
			if code != tt.code {
				t.Fatalf("got exit %d (%s)\n%s, want %d", code, msg, out, tt.code)
			}
			for _, w := range tt.want {
				if got := out + msg; !strings.Contains(got, w) {
					t.Errorf("got\n%s\nwant it to contain %q", got, w)
				}
			}
			if strings.Contains(out+msg, "pw-"+secret) {
				t.Errorf("the output shows the password")
			}
		})
	}

	jobs := writeJobsServer(t, fmt.Sprintf("{protocol: ews, ews: {url: %q}, auth: {secret: %s}}", plainURL, secret), "    incoming: {onSuccess: move, moveTo: Inbox/Done}\n")
	out, _, err := cli(t, "sample", "support", "--json", "--jobs", jobs)
	if err != nil {
		t.Fatalf("sample: %v", err)
	}
	var got struct {
		MessageID string `json:"messageId"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.MessageID != "first@ews.example" {
		t.Errorf("sample: got %q (%v), want the oldest message", out, err)
	}
	for _, m := range srv.Messages(address) {
		if m.Read || m.Folder != "Inbox" {
			t.Errorf("after sample: %s is read %v in %s, want untouched", m.MessageID, m.Read, m.Folder)
		}
	}

	out, _, err = cli(t, "run", "--once", "--jobs", jobs, "--state", t.TempDir())
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	if !strings.Contains(out, "2 new requests") {
		t.Errorf("run: got\n%s\nwant 2 new requests", out)
	}
	for _, m := range srv.Messages(address) {
		if m.Folder != "Inbox/Done" {
			t.Errorf("after run: %s in %s, want Inbox/Done", m.MessageID, m.Folder)
		}
	}
}

func TestMigrateToGraph(t *testing.T) {
	jobs := writeJobsServer(t, `{protocol: ews, ews: {url: "https://outlook.office365.com/EWS/Exchange.asmx", mailbox: help@contoso.example}, folder: Inbox/Support, auth: {method: oauth2, secret: desk}}`,
		"    schedule: {every: 15m}\n    incoming: {onSuccess: delete}\n")
	out, _, err := cli(t, "migrate", "support", "--to", "graph", "--jobs", jobs)
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	f, err := job.Parse([]byte(out))
	if err != nil {
		t.Fatalf("the printed job does not load: %v\n%s", err, out)
	}
	j := f.Jobs[0]
	if j.Server.Protocol != job.Graph || j.Server.Mailbox != "help@contoso.example" || j.Server.Folder != "Inbox/Support" || j.Incoming.OnSuccess != job.Delete || j.Schedule.Every.D().String() != "15m0s" {
		t.Errorf("got %+v\n%s", j, out)
	}
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"migrate", "support", "--to", "imap", "--jobs", jobs}, 2, "--to graph is the one target"},
		{[]string{"migrate", "nosuch", "--to", "graph", "--jobs", jobs}, 2, `no job "nosuch"`},
		{[]string{"migrate", "support", "--to", "graph", "--jobs", writeJobsServer(t, "{protocol: imap, host: h, security: tls, auth: {secret: s}}", "")}, 1, "protocol is imap, not ews"},
	} {
		_, _, err := cli(t, tt.args...)
		if code, msg := exitMsg(err); code != tt.code || !strings.Contains(msg, tt.want) {
			t.Errorf("%v: got exit %d %q, want %d %q", tt.args, code, msg, tt.code, tt.want)
		}
	}
}
