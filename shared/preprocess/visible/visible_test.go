package visible

import (
	"os"
	"strings"
	"testing"

	"mailconnector/shared/job"
	"mailconnector/shared/preprocess/htmltext"
)

func runHeuristics(tb testing.TB, names []string, subject, text string) string {
	tb.Helper()
	var rules []job.PreprocessRule
	for _, n := range names {
		rules = append(rules, job.PreprocessRule{Builtin: n})
	}
	j := &job.Job{Preprocessing: job.Preprocessing{Rules: rules}}
	if names == nil {
		j = nil
	}
	hs, warnings := ForJob(j)
	if len(warnings) > 0 {
		tb.Fatalf("ForJob: %q", warnings)
	}
	return hs.Text(subject, text, "", false)
}

func TestReplyHeaders(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"english", "new\n\nFrom: A <a@example.com>\nSent: Monday\nTo: B\nSubject: x\n\nold", "new"},
		{"german", "neu\n\nVon: A <a@example.com>\nGesendet: Montag\nAn: B\nBetreff: x\n\nalt", "neu"},
		{"french spaced colon", "nouveau\n\nDe : A <a@example.com>\nEnvoyé : lundi\nÀ : B\nObjet : x\n\nancien", "nouveau"},
		{"spanish enviado el", "nuevo\n\nDe: A <a@example.com>\nEnviado el: lunes\nPara: B\nAsunto: x\n\nviejo", "nuevo"},
		{"swedish", "ny\n\nFrån: A <a@example.com>\nSkickat: måndag\nTill: B\nÄmne: x\n\ngammal", "ny"},
		{"polish", "nowy\n\nOd: A <a@example.com>\nWysłano: poniedziałek\nDo: B\nTemat: x\n\nstary", "nowy"},
		{"russian", "новый\n\nОт: A <a@example.com>\nОтправлено: понедельник\nКому: B\nТема: x\n\nстарый", "новый"},
		{"japanese", "新しい\n\n差出人: A <a@example.com>\n送信日時: 2024年3月4日\n宛先: B\n件名: x\n\n古い", "新しい"},
		{"chinese full-width colon", "新的\n\n发件人：A <a@example.com>\n发送时间：2024年3月4日\n收件人：B\n主题：x\n\n旧的", "新的"},
		{"bold markers", "new\n\n*From:* A <a@example.com>\n*Sent:* Monday\n*To:* B\n*Subject:* x\n\nold", "new"},
		{"underscore line goes too", "new\n\n________________________________\nFrom: A\nSent: B\nTo: C\n\nold", "new"},
		{"a lone From line stays", "From: the manual\nit works", "From: the manual\nit works"},
		{"attribution without quotes", "new\n\nOn Mon, Mar 4, 2024 at 6:02 PM Support <s@example.com> wrote:\nold text", "new"},
		{"own text ending in wrote stays", "My colleague wrote:\nthe server is down\nplease help", "My colleague wrote:\nthe server is down\nplease help"},
		{"pasted text after own words stays", "Hi,\n\nmy colleague wrote:\nthe server is down", "Hi,\n\nmy colleague wrote:\nthe server is down"},
		{"original message dutch", "nieuw\n\n-----Oorspronkelijk bericht-----\nVan: a", "nieuw"},
		{"original message japanese", "新しい\n\n-----元のメッセージ-----\n差出人: a", "新しい"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runHeuristics(t, []string{"reply-headers"}, "Re: x", tt.text); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestForwardsKeepTheForwardedMessage(t *testing.T) {
	text := "FYI\n\n-- \nAnn\n\n---------- Forwarded message ---------\nFrom: Vendor <v@example.com>\nDate: Mon\nSubject: Invoice\nTo: ann@example.com\n\nPlease pay.\n> older quote"
	got := runHeuristics(t, nil, "Fwd: Invoice", text)
	want := "FYI\n\n---------- Forwarded message ---------\nFrom: Vendor <v@example.com>\nDate: Mon\nSubject: Invoice\nTo: ann@example.com\n\nPlease pay."
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// The same text as a reply loses the history.
	if got := runHeuristics(t, nil, "Re: Invoice", text); got != "FYI" {
		t.Errorf("reply: got %q, want %q", got, "FYI")
	}
}

func TestInlineReplies(t *testing.T) {
	text := "Hi,\n\nOn Mon, Bob <b@example.org> wrote:\n> Intro.\n>\n> Question one?\nAnswer one.\n> Question two?\n>> older\nAnswer two.\n> Bye\n> Bob\n\n-- \nAnn"
	tests := []struct {
		name  string
		rules []string
		want  string
	}{
		{"defaults", nil, "Hi,\n\n> Question one?\nAnswer one.\n\n> Question two?\nAnswer two."},
		{"without inline-replies the quotes go", []string{"quoted-lines", "signature-delimiter"}, "Hi,\n\nAnswer one.\nAnswer two."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runHeuristics(t, tt.rules, "Re: x", text); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	// One answer below the quote is bottom posting, not interleaving.
	if got := runHeuristics(t, nil, "Re: x", "On Mon, Bob <b@example.org> wrote:\n> q\n\nmy answer"); got != "my answer" {
		t.Errorf("bottom posting: got %q, want %q", got, "my answer")
	}
}

func TestSignatureHeuristics(t *testing.T) {
	tests := []struct {
		name, builtin, in, want string
	}{
		{"android samsung", "android", "ok\n\nSent from my Galaxy", "ok"},
		{"android yahoo", "android", "ok\nSent from Yahoo Mail on Android", "ok"},
		{"android german", "android", "ok\nVon meinem Samsung Galaxy Smartphone gesendet.", "ok"},
		{"android original message block", "android", "ok\n\n-------- Original message --------\nFrom: a\nold", "ok"},
		{"mobile japanese", "mobile-signatures", "ok\niPhoneから送信", "ok"},
		{"mobile chinese", "mobile-signatures", "ok\n发自我的iPhone", "ok"},
		{"mobile swedish", "mobile-signatures", "ok\nSkickat från min iPhone", "ok"},
		{"mobile polish", "mobile-signatures", "ok\nWysłane z mojego iPhone'a", "ok"},
		{"apple italian", "apple", "ok\nInviato da iPhone", "ok"},
		{"yahoo", "yahoo", "ok\nSent from Yahoo Mail for iPhone", "ok"},
		{"proton", "protonmail", "ok\nSent with Proton Mail secure email.", "ok"},
		{"zoho attribution", "zoho", "ok\n---- On Mon, 04 Mar 2024 10:00:00 +0100 A <a@example.com> wrote ----\nold", "ok"},
		{"thunderbird separator", "thunderbird", "ok\n-------- Original Message --------\nold", "ok"},
		{"quoted signature line stays", "mobile-signatures", "ok\n> Sent from my iPhone", "ok\n> Sent from my iPhone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runHeuristics(t, []string{tt.builtin}, "Re: x", tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHTMLHeuristics(t *testing.T) {
	tests := []struct {
		name, builtin, html, want string
	}{
		{"outlook web", "outlook", `<div>new</div><div id="appendonsend"></div><hr><div id="divRplyFwdMsg"><b>From:</b> a</div><div>old</div>`, "new"},
		{"new outlook", "outlook", `<div>new</div><div id="mail-editor-reference-message-container"><div>old</div></div>`, "new"},
		{"outlook desktop german", "outlook", `<p>neu</p><div style="border:none;border-top:solid #E1E1E1 1.0pt"><p><b>Von:</b> a<br><b>Gesendet:</b> b</p></div><p>alt</p>`, "neu"},
		{"reply-headers html", "reply-headers", `<p>nuovo</p><p><b>Da:</b> a@example.com<br><b>Inviato:</b> lunedì<br><b>A:</b> b<br><b>Oggetto:</b> x</p><p>vecchio</p>`, "nuovo"},
		{"gmail", "gmail", `<div>new</div><div class="gmail_signature">sig</div><div class="gmail_quote"><div class="gmail_attr">On x wrote:</div><blockquote>old</blockquote></div>`, "new"},
		{"apple", "apple", `<div>new</div><blockquote type="cite"><div>On 1 Jan, A wrote:</div>old</blockquote>`, "new"},
		{"thunderbird", "thunderbird", `<p>new</p><div class="moz-cite-prefix">On 1.1.24 A wrote:</div><blockquote type="cite">old</blockquote><div class="moz-signature">-- sig</div>`, "new"},
		{"yahoo", "yahoo", `<div>new</div><div id="ymail_android_signature">Sent from Yahoo Mail</div><div class="yahoo_quoted">old</div>`, "new"},
		{"proton", "protonmail", `<div>new</div><div class="protonmail_signature_block">Sent with Proton</div><div class="protonmail_quote">old</div>`, "new"},
		{"zoho", "zoho", `<div>new</div><div class="zmail_extra_hr"></div><div class="zmail_extra">old</div>`, "new"},
		{"generic blockquote via quoted-lines", "quoted-lines", `<p>new</p><p>On Mon, A &lt;a@example.com&gt; wrote:</p><blockquote>old</blockquote>`, "new"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs, _ := ForJob(&job.Job{Preprocessing: job.Preprocessing{Rules: []job.PreprocessRule{{Builtin: tt.builtin}}}})
			if got := hs.Text("Re: x", htmltext.Text(htmltext.Parse(tt.html)), tt.html, true); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBuiltinDocs(t *testing.T) {
	docs := BuiltinDocs()
	if len(docs) != len(job.BuiltinPreprocessRules) {
		t.Fatalf("got %d docs, want %d", len(docs), len(job.BuiltinPreprocessRules))
	}
	for _, d := range docs {
		if d[1] == "" {
			t.Errorf("built-in heuristic %q has no description", d[0])
		}
	}
}

// TestReadmeListsBuiltinRules keeps the README's preprocessing section in
// step with the code.
func TestReadmeListsBuiltinRules(t *testing.T) {
	b, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i := strings.Index(readme, "### `preprocessing`")
	if i < 0 {
		t.Fatal("README has no ### `preprocessing` section")
	}
	section := readme[i:]
	if j := strings.Index(section[4:], "\n### "); j >= 0 {
		section = section[:j+4]
	}
	for _, name := range job.BuiltinPreprocessRules {
		if !strings.Contains(section, "`"+name+"`") {
			t.Errorf("README preprocessing section does not list the built-in rule `%s`", name)
		}
	}
	for _, want := range []string{"regexRemove", "cutBelow", "enabled: false"} {
		if !strings.Contains(section, want) {
			t.Errorf("README preprocessing section does not explain %s", want)
		}
	}
}

func TestBuiltinHeuristicsComplete(t *testing.T) {
	for _, name := range job.BuiltinPreprocessRules {
		if _, ok := builtins[name]; !ok {
			t.Errorf("built-in heuristic %q has no implementation", name)
		}
	}
	if len(builtins) != len(job.BuiltinPreprocessRules) {
		t.Errorf("got %d built-in heuristics, want %d (job.BuiltinPreprocessRules)", len(builtins), len(job.BuiltinPreprocessRules))
	}
}

func TestTextHeuristics(t *testing.T) {
	tests := []struct {
		name      string
		heuristic func(*textState)
		in        string
		want      string
	}{
		{"german attribution", quotedLines, "Danke!\n\nAm 04.03.2024 um 10:00 schrieb Max Mustermann <max@example.de>:\n> alt", "Danke!\n"},
		{"spanish wrapped attribution", quotedLines, "Hola\nEl lun, 1 abr 2024 a las 18:30, Soporte\n(<s@example.com>) escribió:\n> x", "Hola"},
		{"quote without attribution", quotedLines, "see:\n> a\nmine", "see:\nmine"},
		{"outlook english", outlookText, "ok\nFrom: A\nSent: Monday\nTo: B\nSubject: x\nold", "ok"},
		{"outlook needs a block", outlookText, "From: the manual\nit works", "From: the manual\nit works"},
		{"original message", outlookText, "ok\n-----Ursprüngliche Nachricht-----\nVon: a", "ok"},
		{"mobile german", mobileSignatures, "ok\nVon meinem iPhone gesendet", "ok"},
		{"mobile outlook", mobileSignatures, "ok\nGet Outlook for iOS", "ok"},
		{"mobile french", mobileSignatures, "ok\nEnvoyé de mon iPhone", "ok"},
		{"not a mobile signature", mobileSignatures, "I sent from my iPhone yesterday", "I sent from my iPhone yesterday"},
		{"delimiter without space", signatureDelimiter, "ok\n--\nsig", "ok"},
		{"dashes in text stay", signatureDelimiter, "ok\n--- list ---\nmore", "ok\n--- list ---\nmore"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &textState{lines: strings.Split(tt.in, "\n")}
			tt.heuristic(st)
			got := strings.Join(st.lines, "\n")
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
