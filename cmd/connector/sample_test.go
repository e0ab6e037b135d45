package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"mailconnector/shared/store"
	"mailconnector/shared/testkit/dovecottest"
)

// sampleProtocols are the Dovecot protocols `connector sample` is tested
// over: the jobs file's server line for a user.
var sampleProtocols = []struct {
	name   string
	server func(user string) string
}{
	{"imap", func(u string) string { return plainServer(plain, dovecottest.IMAP, u) }},
	{"pop3", func(u string) string { return plainServer(plain, dovecottest.POP3, u) }},
}

// sampleMail is a message with a Message-ID, a sender and a subject of
// its own, body lines enough to exceed the POP3 preview, a line that
// POP3 must dot-stuff, and an attachment.
func sampleMail(id, from string, bodyLines int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Message-ID: <%s>\r\nFrom: Sender <%s>\r\nTo: Desk <desk@example.com>\r\nSubject: about %s\r\nDate: Mon, 02 Jun 2025 10:00:00 +0200\r\n", id, from, id)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=sep\r\n\r\n--sep\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	fmt.Fprintf(&b, "The body of %s.\r\n.a line POP3 dot-stuffs\r\n", id)
	for i := 0; i < bodyLines; i++ {
		fmt.Fprintf(&b, "line %d of %s\r\n", i, id)
	}
	fmt.Fprintf(&b, "last line of %s\r\n", id)
	b.WriteString("--sep\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJcfsj6IK\r\n--sep--\r\n")
	return b.Bytes()
}

// sampleJSONOut is what the tests read of `sample --json`.
type sampleJSONOut struct {
	ID        string `json:"id"`
	Source    string `json:"source"`
	MessageID string `json:"messageId"`
	Subject   string `json:"subject"`
	Text      string `json:"text"`
	Saved     *struct {
		File string `json:"file"`
		Size int64  `json:"size"`
	} `json:"saved"`
	Decision *struct {
		Statement string            `json:"statement"`
		Action    string            `json:"action"`
		Fields    map[string]string `json:"fields"`
		Why       []string          `json:"why"`
	} `json:"decision"`
}

func parseSample(t *testing.T, out string) sampleJSONOut {
	t.Helper()
	var got sampleJSONOut
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("sample --json: %v\n%s", err, out)
	}
	return got
}

// readSample runs `connector sample support --json` with the jobs file
// and args, and decodes what it prints into v.
func readSample(t *testing.T, jobs string, v any, args ...string) {
	t.Helper()
	out, _, err := cli(t, append([]string{"sample", "support", "--json", "--jobs", jobs}, args...)...)
	if err != nil {
		t.Fatalf("sample: %v", err)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("sample output: %v\n%s", err, out)
	}
}

// sourceIDs are the ids --uid takes for each Message-ID of the user's
// INBOX, read from Dovecot itself: the IMAP UID, or the POP3 UIDL in
// Dovecot's default pop3_uidl_format %08Xu%08Xv (UID and UIDVALIDITY in
// hex).
func sourceIDs(t *testing.T, user, protocol string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out, err := plain.Doveadm(ctx, "-f", "json", "fetch", "-u", user, "uid hdr.message-id", "mailbox", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]string
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatalf("doveadm fetch: %v\n%s", err, out)
	}
	var validity uint64
	if protocol == "pop3" {
		out, err := plain.Doveadm(ctx, "-f", "flow", "mailbox", "status", "-u", user, "uidvalidity", "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		_, v, ok := strings.Cut(strings.TrimSpace(string(out)), "uidvalidity=")
		if validity, err = strconv.ParseUint(v, 10, 32); !ok || err != nil {
			t.Fatalf("doveadm mailbox status: got %q", out)
		}
	}
	ids := map[string]string{}
	for _, r := range rows {
		id := r["uid"]
		if protocol == "pop3" {
			uid, err := strconv.ParseUint(id, 10, 32)
			if err != nil {
				t.Fatalf("doveadm fetch: uid %q", id)
			}
			id = fmt.Sprintf("%08x%08x", uid, validity)
		}
		ids[strings.Trim(strings.TrimSpace(r["hdr.message-id"]), "<>")] = id
	}
	return ids
}

// assertUntouched fails unless the user's messages are all still unseen
// in INBOX and the state holds no ledger entry and no cursor for the job.
func assertUntouched(t *testing.T, user string, want int, state string) {
	t.Helper()
	msgs, err := plain.Messages(user)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != want {
		t.Errorf("got %d messages on the server, want %d", len(msgs), want)
	}
	for _, m := range msgs {
		if m.Seen || m.Deleted || m.Folder != "INBOX" {
			t.Errorf("sample changed %s: %+v", m.MessageID, m)
		}
	}
	st := openState(t, state)
	defer st.Close()
	ctx := context.Background()
	entries, err := st.Messages(ctx, store.MessageQuery{JobID: "support"})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("got %d ledger entries after sample, want none", len(entries))
	}
	if c, err := st.Cursor(ctx, "support"); err != nil || c != "" {
		t.Errorf("got cursor %q (%v) after sample, want none", c, err)
	}
}

// TestSamplePicksTheMessage: the oldest by default, the newest with
// --newest, one by its UID (IMAP) or UIDL (POP3) with --uid, or by its
// ledger key; nothing changes on the server or in the state.
func TestSamplePicksTheMessage(t *testing.T) {
	for _, p := range sampleProtocols {
		t.Run(p.name, func(t *testing.T) {
			raws := [][]byte{sampleMail("one@example.com", "a@example.com", 3), sampleMail("two@example.com", "b@example.com", 3), sampleMail("three@example.com", "c@example.com", 3)}
			u := userWith(t, raws...)
			jobs := writeJobsServer(t, p.server(u), "")
			state := t.TempDir()
			ids := sourceIDs(t, u, p.name)
			if ids["two@example.com"] == "" {
				t.Fatalf("got ids %v from Dovecot, want one for two@example.com", ids)
			}
			tests := []struct {
				name  string
				flags []string
				want  string
			}{
				{"oldest", nil, "one@example.com"},
				{"newest", []string{"--newest"}, "three@example.com"},
				{"uid", []string{"--uid", ids["two@example.com"]}, "two@example.com"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					args := append([]string{"sample", "support", "--json", "--jobs", jobs, "--state", state}, tt.flags...)
					out, _, err := cli(t, args...)
					if err != nil {
						t.Fatalf("sample: %v", err)
					}
					got := parseSample(t, out)
					if got.MessageID != tt.want || got.ID != ids[tt.want] {
						t.Errorf("got %s (id %s), want %s (id %s)", got.MessageID, got.ID, tt.want, ids[tt.want])
					}
					// The id it shows picks the same message again.
					out, _, err = cli(t, "sample", "support", "--json", "--jobs", jobs, "--state", state, "--uid", got.ID)
					if again := parseSample(t, out); err != nil || again.MessageID != tt.want {
						t.Errorf("--uid %s: got %s (%v), want %s", got.ID, again.MessageID, err, tt.want)
					}
				})
			}
			assertUntouched(t, u, len(raws), state)
		})
	}
}

// TestSampleSavesTheRawMessage: --save writes the message byte for byte,
// whole also over POP3 (where the preview is cut), 0600; it refuses an
// existing file unless --force.
func TestSampleSavesTheRawMessage(t *testing.T) {
	for _, p := range sampleProtocols {
		t.Run(p.name, func(t *testing.T) {
			raw := sampleMail("long@example.com", "a@example.com", 2*samplePreviewLines)
			u := userWith(t, raw, sampleMail("other@example.com", "b@example.com", 1))
			jobs := writeJobsServer(t, p.server(u), "")
			state := t.TempDir()
			file := filepath.Join(t.TempDir(), "m.eml")
			out, _, err := cli(t, "sample", "support", "--jobs", jobs, "--state", state, "--save", file)
			if err != nil {
				t.Fatalf("sample --save: %v", err)
			}
			checkSaved(t, file, raw)
			if !strings.Contains(out, "  saved:        "+file) {
				t.Errorf("got\n%s\nwant a saved: line naming %s", out, file)
			}
			if wantWhole := p.name == "pop3"; strings.Contains(out, "the whole message, not cut after 200 lines as the preview is") != wantWhole {
				t.Errorf("got\n%s\nwant the note that it is not cut as the preview: %v", out, wantWhole)
			}
			if !strings.Contains(out, "last line of long@example.com") && !strings.Contains(out, "more lines") {
				t.Errorf("got\n%s\nwant the text head", out)
			}
			if strings.Contains(out, "POP3 TOP") {
				t.Errorf("got\n%s\nwant no preview warning: the message was retrieved whole", out)
			}

			// An existing file stays as it is without --force.
			if err := os.WriteFile(file, []byte("keep me"), 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err = cli(t, "sample", "support", "--jobs", jobs, "--state", state, "--save", file)
			if code, msg := exitMsg(err); code != 1 || !strings.Contains(msg, file+" exists; --force overwrites it") {
				t.Errorf("got exit %d %q, want 1 naming the file and --force", code, msg)
			}
			if b, _ := os.ReadFile(file); string(b) != "keep me" {
				t.Errorf("got %q in the existing file, want it untouched", b)
			}
			out, _, err = cli(t, "sample", "support", "--json", "--jobs", jobs, "--state", state, "--save", file, "--force")
			if err != nil {
				t.Fatalf("sample --save --force: %v", err)
			}
			checkSaved(t, file, raw)
			if got := parseSample(t, out); got.Saved == nil || got.Saved.File != file || got.Saved.Size != int64(len(raw)) {
				t.Errorf("got saved %+v, want %s with %d bytes", got.Saved, file, len(raw))
			}
			if left, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".*")); len(left) != 0 {
				t.Errorf("got %v left beside the saved file, want no temporary file", left)
			}
			assertUntouched(t, u, 2, state)
		})
	}
}

func checkSaved(t *testing.T, file string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("got %d bytes saved, want the %d delivered byte for byte:\n%q\nwant\n%q", len(got), len(want), got, want)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("got mode %v, want 0600", mode)
	}
}

// TestSampleRulesShowsTheDecision: --rules dry-runs the job's processing
// statements on the message and shows the one that decided, readable and
// under "decision" in the JSON, whose other keys stay as they were.
func TestSampleRulesShowsTheDecision(t *testing.T) {
	for _, p := range sampleProtocols {
		t.Run(p.name, func(t *testing.T) {
			u := userWith(t, sampleMail("long@example.com", "a@example.com", 2*samplePreviewLines), sampleMail("vip@example.com", "vera@vip.example", 1))
			jobs := writeJobsServer(t, p.server(u), `    processing:
      statements:
        - name: VIP
          when: {field: from, op: equals, value: "*@vip.example"}
          action: create
          set: {priority: High}
        - name: after the attachment
          when: {field: attachmentName, op: contains, value: "report"}
          action: ignore
`)
			state := t.TempDir()
			out, _, err := cli(t, "sample", "support", "--newest", "--rules", "--jobs", jobs, "--state", state)
			if err != nil {
				t.Fatalf("sample --rules: %v", err)
			}
			for _, want := range []string{`  decision:     create by statement "VIP"`, "                - priority: High", "  why:          - "} {
				if !strings.Contains(out, want) {
					t.Errorf("got\n%s\nwant a line with %q", out, want)
				}
			}
			// The oldest has its attachment after the preview's lines on
			// POP3: --rules decides on the whole message.
			out, _, err = cli(t, "sample", "support", "--rules", "--json", "--jobs", jobs, "--state", state)
			if err != nil {
				t.Fatalf("sample --rules --json: %v", err)
			}
			var keys map[string]json.RawMessage
			if err := json.Unmarshal([]byte(out), &keys); err != nil {
				t.Fatalf("sample --json: %v\n%s", err, out)
			}
			var names []string
			for k := range keys {
				names = append(names, k)
			}
			sort.Strings(names)
			if got, want := strings.Join(names, " "), "attachments autoGenerated date decision from id messageId size source subject text to"; got != want {
				t.Errorf("got keys %s, want %s", got, want)
			}
			got := parseSample(t, out)
			if d := got.Decision; d == nil || d.Statement != "after the attachment" || d.Action != "ignore" || len(d.Why) == 0 {
				t.Errorf("got decision %+v, want ignore by \"after the attachment\"", got.Decision)
			}
			assertUntouched(t, u, 2, state)
		})
	}
}

// TestSampleReadableOutput: by default one aligned "field: value" line
// each, the attachments kept and dropped counted.
func TestSampleReadableOutput(t *testing.T) {
	raw := "Message-ID: <r@example.com>\r\nFrom: Ann <ann@example.com>\r\nTo: desk@example.com\r\nSubject: Printer\r\nDate: Mon, 02 Jun 2025 10:00:00 +0200\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nIt is broken.\r\n" +
		"--b\r\nContent-Type: application/pdf; name=\"r.pdf\"\r\nContent-Disposition: attachment; filename=\"r.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n" +
		"--b\r\nContent-Type: application/x-msdownload; name=\"setup.exe\"\r\nContent-Disposition: attachment; filename=\"setup.exe\"\r\nContent-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--b--\r\n"
	u := userWith(t, []byte(raw))
	jobs := writeJobs(t, plain, u, "    attachments: {blockExtensions: [exe]}\n")
	state := t.TempDir()
	out, _, err := cli(t, "sample", "support", "--jobs", jobs, "--state", state)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"job support: the only message in INBOX\n", "  from:         Ann <ann@example.com>\n", "  to:           desk@example.com\n",
		"  subject:      Printer\n", "  date:         2025-06-02 08:00:00 +0000\n", "  class:        written by a person\n",
		"  attachments:  1 kept, 1 dropped\n", "  text:         | It is broken.\n", "r.pdf (application/pdf", "setup.exe (application/x-msdownload", "dropped: "} {
		if !strings.Contains(out, want) {
			t.Errorf("got\n%s\nwant %q", out, want)
		}
	}
	field := regexp.MustCompile(`^  ([a-z-]+:)? +`)
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n")[1:] {
		if m := field.FindString(l); len(m) != 16 {
			t.Errorf("got %q, want the value at column 16", l)
		}
	}
	assertUntouched(t, u, 1, state)
}

// TestSampleUsageErrors: flags that contradict each other, and an id the
// folder does not hold.
func TestSampleUsageErrors(t *testing.T) {
	u := userWith(t, sampleMail("only@example.com", "a@example.com", 1))
	jobs := writeJobs(t, plain, u, "")
	pop := writeJobsServer(t, sampleProtocols[1].server(u), "")
	state := t.TempDir()
	file := filepath.Join(t.TempDir(), "none.eml")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"newest and uid", []string{"--newest", "--uid", "1"}, 2, "connector sample: --newest and --uid both choose the message; give one of them\nusage: connector sample JOB"},
		{"force without save", []string{"--force"}, 2, "connector sample: --force only applies to --save FILE.eml"},
		{"empty uid", []string{"--uid", " "}, 2, "--uid needs the message's id"},
		{"unknown uid", []string{"--uid", "999"}, 1, `job support: no message with UID "999" in the folder INBOX (1 message)`},
		{"unknown uidl", []string{"--uid", "nosuch", "--jobs", pop}, 1, `job support: no message with UIDL "nosuch" in the folder INBOX (1 message)`},
		{"unknown uid with save", []string{"--uid", "999", "--save", file}, 1, `no message with UID "999"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"sample", "support", "--jobs", jobs, "--state", state}, tt.args...)
			out, _, err := cli(t, args...)
			code, msg := exitMsg(err)
			if code != tt.code || !strings.Contains(msg, tt.want) {
				t.Errorf("got exit %d %q\n%s\nwant %d with %q", code, msg, out, tt.code, tt.want)
			}
		})
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("got %v for the file of a failed --save, want none left", err)
	}
	assertUntouched(t, u, 1, state)
}
