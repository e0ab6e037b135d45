//go:build ignore

package main

import (
	"fmt"
	"strings"
)

// lang is how one language writes the parts of a reply.
type lang struct {
	code       string
	body       []string // new texts
	closing    string
	wrote      []string  // wrapped attributions (\n marks a wrap); %s = name, %a = address
	labels     [4]string // From, Sent, To, Subject
	fwd        string    // subject prefix of a forward
	fwdNote    string
	mobile     []string
	original   string // -----Original Message----- in this language
	oldText    string // the quoted history
	thanksName string // closing for signature cases
}

var langs = []lang{
	{code: "en", body: []string{
		"Hi team,\n\nthe invoice 4711 still shows the old address. Can you fix it before Friday?",
		"Hello,\n\nI cannot log in since this morning. The page says my password expired, but the reset link never arrives.",
		"Thanks for the quick answer. It works now, you can close the ticket.",
	}, closing: "Thanks,", wrote: []string{
		"On Tue, Mar 3, 2015 at 10:11 AM, Some Name <\nsome.name@example.com> wrote:",
		"On Tue, Mar 3, 2015 at 10:11 AM, Some Name\n<some.name@example.com> wrote:",
		"On 3 Mar 2015, at 10:11, Some Name <some.name@example.com>\nwrote:",
		"On 03/03/2015 10:11, Some Name wrote:",
		"2015-03-03 10:11 GMT+01:00 Some Name <some.name@example.com>:",
		"On Tuesday, March 3, 2015 10:11:02 AM CET,\nSome Name <some.name@example.com> wrote:",
	}, labels: [4]string{"From:", "Sent:", "To:", "Subject:"}, fwd: "Fwd:", fwdNote: "Please see below, the customer wrote to me directly.",
		mobile:   []string{"Sent from my iPhone", "Sent from TypeApp", "Get Outlook for Android", "Sent from my Galaxy", "Sent from Mail for Windows", "Sent from Yahoo Mail on Android"},
		original: "-----Original Message-----", oldText: "Dear customer,\n\nthank you for your message. We will look into it.\n\nBest regards\nSupport"},
	{code: "de", body: []string{
		"Hallo zusammen,\n\ndie Rechnung 4711 zeigt immer noch die alte Adresse. Könnt ihr das bis Freitag ändern?",
		"Guten Tag,\n\nseit heute früh kann ich mich nicht mehr anmelden. Der Link zum Zurücksetzen kommt nicht an.",
		"Danke für die schnelle Antwort, es funktioniert jetzt.",
	}, closing: "Viele Grüße", wrote: []string{
		"Am Di., 3. März 2015 um 10:11 Uhr schrieb Some Name <\nsome.name@example.com>:",
		"Am 03.03.2015 um 10:11 schrieb Some Name\n<some.name@example.com>:",
		"Some Name <some.name@example.com> schrieb am Di., 3. März 2015,\n10:11:",
	}, labels: [4]string{"Von:", "Gesendet:", "An:", "Betreff:"}, fwd: "WG:", fwdNote: "Bitte schaut euch das an, der Kunde hat mir direkt geschrieben.",
		mobile:   []string{"Von meinem iPhone gesendet", "Gesendet von Outlook für Android", "Gesendet von meinem Samsung Galaxy Smartphone.", "Gesendet mit der WEB.DE Mail App"},
		original: "-----Ursprüngliche Nachricht-----", oldText: "Sehr geehrter Kunde,\n\nvielen Dank für Ihre Nachricht.\n\nMit freundlichen Grüßen\nSupport"},
	{code: "fr", body: []string{
		"Bonjour,\n\nla facture 4711 porte toujours l'ancienne adresse. Pouvez-vous la corriger ?",
		"Bonjour,\n\nje n'arrive plus à me connecter depuis ce matin.",
		"Merci pour la réponse rapide, cela fonctionne maintenant.",
	}, closing: "Cordialement,", wrote: []string{
		"Le mar. 3 mars 2015 à 10:11, Some Name <some.name@example.com> a\nécrit :",
		"Le 03/03/2015 à 10:11, Some Name a écrit :",
		"Le mardi 3 mars 2015 10:11, Some Name <\nsome.name@example.com> a écrit :",
	}, labels: [4]string{"De :", "Envoyé :", "À :", "Objet :"}, fwd: "TR:", fwdNote: "Voir ci-dessous, le client m'a écrit directement.",
		mobile:   []string{"Envoyé de mon iPhone", "Envoyé depuis mon smartphone Samsung Galaxy.", "Envoyé de mon iPad"},
		original: "-----Message d'origine-----", oldText: "Cher client,\n\nmerci pour votre message.\n\nCordialement\nSupport"},
	{code: "es", body: []string{
		"Hola,\n\nla factura 4711 todavía muestra la dirección antigua. ¿Pueden corregirla?",
		"Buenos días,\n\nno puedo iniciar sesión desde esta mañana.",
	}, closing: "Saludos,", wrote: []string{
		"El mar., 3 mar. 2015 a las 10:11, Some Name (<some.name@example.com>)\nescribió:",
		"El 03/03/2015 a las 10:11, Some Name escribió:",
	}, labels: [4]string{"De:", "Enviado el:", "Para:", "Asunto:"}, fwd: "RV:", fwdNote: "Les reenvío el correo del cliente.",
		mobile:   []string{"Enviado desde mi iPhone", "Enviado desde mi smartphone Samsung Galaxy."},
		original: "-----Mensaje original-----", oldText: "Estimado cliente,\n\ngracias por su mensaje.\n\nSaludos\nSoporte"},
	{code: "it", body: []string{
		"Buongiorno,\n\nla fattura 4711 riporta ancora il vecchio indirizzo. Potete correggerla?",
		"Ciao,\n\nnon riesco ad accedere da stamattina.",
	}, closing: "Cordiali saluti", wrote: []string{
		"Il giorno mar 3 mar 2015 alle ore 10:11 Some Name <\nsome.name@example.com> ha scritto:",
		"Il 03/03/2015 10:11, Some Name ha scritto:",
	}, labels: [4]string{"Da:", "Inviato:", "A:", "Oggetto:"}, fwd: "I:", fwdNote: "Vi inoltro la mail del cliente.",
		mobile:   []string{"Inviato da iPhone", "Inviato dal mio dispositivo Samsung"},
		original: "-----Messaggio originale-----", oldText: "Gentile cliente,\n\ngrazie per il messaggio.\n\nSaluti\nSupporto"},
	{code: "pt", body: []string{
		"Olá,\n\na fatura 4711 ainda mostra o endereço antigo. Podem corrigir?",
	}, closing: "Atenciosamente,", wrote: []string{
		"Em ter., 3 de mar. de 2015 às 10:11, Some Name <\nsome.name@example.com> escreveu:",
		"Em 03/03/2015 10:11, Some Name escreveu:",
	}, labels: [4]string{"De:", "Enviado:", "Para:", "Assunto:"}, fwd: "ENC:", fwdNote: "Segue abaixo o e-mail do cliente.",
		mobile:   []string{"Enviado do meu iPhone"},
		original: "-----Mensagem original-----", oldText: "Prezado cliente,\n\nobrigado pela mensagem.\n\nAtenciosamente\nSuporte"},
	{code: "nl", body: []string{
		"Hallo,\n\nfactuur 4711 toont nog steeds het oude adres. Kunnen jullie dat aanpassen?",
	}, closing: "Met vriendelijke groet,", wrote: []string{
		"Op di 3 mrt. 2015 om 10:11 schreef Some Name <\nsome.name@example.com>:",
		"Op 03-03-2015 10:11 schreef Some Name:",
	}, labels: [4]string{"Van:", "Verzonden:", "Aan:", "Onderwerp:"}, fwd: "Doorst:", fwdNote: "Zie hieronder de mail van de klant.",
		mobile:   []string{"Verzonden vanaf mijn iPhone"},
		original: "-----Oorspronkelijk bericht-----", oldText: "Beste klant,\n\nbedankt voor uw bericht.\n\nGroet\nSupport"},
	{code: "sv", body: []string{
		"Hej,\n\nfaktura 4711 visar fortfarande den gamla adressen. Kan ni rätta den?",
	}, closing: "Med vänlig hälsning,", wrote: []string{
		"Den tis 3 mars 2015 kl 10:11 skrev Some Name <\nsome.name@example.com>:",
	}, labels: [4]string{"Från:", "Skickat:", "Till:", "Ämne:"}, fwd: "VB:", fwdNote: "Se nedan, kunden skrev till mig.",
		mobile:   []string{"Skickat från min iPhone"},
		original: "-----Ursprungligt meddelande-----", oldText: "Hej kund,\n\ntack för ditt meddelande.\n\nHälsningar\nSupport"},
	{code: "pl", body: []string{
		"Dzień dobry,\n\nfaktura 4711 nadal pokazuje stary adres. Czy możecie to poprawić?",
	}, closing: "Pozdrawiam,", wrote: []string{
		"W dniu wt., 3.03.2015 o 10:11 Some Name <some.name@example.com>\nnapisał(a):",
	}, labels: [4]string{"Od:", "Wysłano:", "Do:", "Temat:"}, fwd: "PD:", fwdNote: "Przesyłam poniżej wiadomość klienta.",
		mobile:   []string{"Wysłane z mojego iPhone'a"},
		original: "-----Wiadomość oryginalna-----", oldText: "Szanowny kliencie,\n\ndziękujemy za wiadomość.\n\nPozdrawiamy\nWsparcie"},
	{code: "ru", body: []string{
		"Здравствуйте,\n\nв счёте 4711 до сих пор старый адрес. Можете исправить?",
	}, closing: "С уважением,", wrote: []string{
		"вт, 3 мар. 2015 г. в 10:11, Some Name <\nsome.name@example.com>:",
		"03.03.2015 10:11, Some Name пишет:",
	}, labels: [4]string{"От:", "Отправлено:", "Кому:", "Тема:"}, fwd: "Пересл:", fwdNote: "Пересылаю письмо клиента.",
		mobile:   []string{"Отправлено с iPhone"},
		original: "-----Исходное сообщение-----", oldText: "Уважаемый клиент,\n\nспасибо за сообщение.\n\nС уважением\nПоддержка"},
	{code: "ja", body: []string{
		"お世話になっております。\n\n請求書4711の住所が古いままです。修正をお願いできますか。",
	}, closing: "よろしくお願いいたします。", wrote: []string{
		"2015年3月3日(火) 10:11 Some Name <some.name@example.com>:",
	}, labels: [4]string{"差出人:", "送信日時:", "宛先:", "件名:"}, fwd: "転送:", fwdNote: "お客様からのメールを転送します。",
		mobile:   []string{"iPhoneから送信"},
		original: "-----元のメッセージ-----", oldText: "お客様\n\nお問い合わせありがとうございます。\n\nサポート"},
}

func quote(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l == "" {
			lines[i] = ">"
		} else {
			lines[i] = "> " + l
		}
	}
	return strings.Join(lines, "\n")
}

func visibleCases() []tc {
	var out []tc
	add := func(cat, name, raw, want string) {
		out = append(out, tc{dir: "visible/" + cat, name: name, raw: raw, want: want})
	}
	n := 0
	for _, l := range langs {
		for bi, body := range l.body {
			// Wrapped attributions above a > quote (top posting).
			for wi, w := range l.wrote {
				n++
				raw := plain("Some Customer <customer@example.org>", "Re: Rechnung 4711", body+"\n\n"+w+"\n"+quote(l.oldText))
				add("quote-header", fmt.Sprintf("%s_%d_%d", l.code, bi, wi), raw, body)
			}
			// Outlook header blocks in the language.
			lb := l.labels
			block := fmt.Sprintf("%s Support <support@example.com>\n%s Tuesday, March 3, 2015 10:11\n%s Some Customer <customer@example.org>\n%s Invoice 4711\n\n%s",
				lb[0], lb[1], lb[2], lb[3], l.oldText)
			add("outlook-block", fmt.Sprintf("%s_%d_underscore", l.code, bi),
				plain("Some Customer <customer@example.org>", "AW: Invoice 4711", body+"\n\n________________________________\n"+block), body)
			add("outlook-block", fmt.Sprintf("%s_%d_original", l.code, bi),
				plain("Some Customer <customer@example.org>", "RE: Invoice 4711", body+"\n\n"+l.original+"\n"+block), body)
			add("outlook-block", fmt.Sprintf("%s_%d_bare", l.code, bi),
				plain("Some Customer <customer@example.org>", "RE: Invoice 4711", body+"\n\n"+block), body)
			blockCc := fmt.Sprintf("%s Support <support@example.com>\n%s Tuesday, March 3, 2015 10:11\n%s Some Customer <customer@example.org>; Other Person\n<other@example.org>\nCc: team@example.com\n%s Invoice 4711\n\n%s",
				lb[0], lb[1], lb[2], lb[3], l.oldText)
			add("outlook-block", fmt.Sprintf("%s_%d_cc", l.code, bi),
				plain("Some Customer <customer@example.org>", "RE: Invoice 4711", body+"\n\n"+blockCc), body)
			// Forwards: the forwarded message is the content, kept.
			fwdBody := l.fwdNote + "\n\n---------- Forwarded message ---------\nFrom: Some Customer <customer@example.org>\nDate: Tue, Mar 3, 2015 at 10:11 AM\nSubject: Invoice 4711\nTo: <sales@example.com>\n\n" + body
			add("forward", fmt.Sprintf("%s_%d_gmail", l.code, bi),
				plain("Agent <agent@example.com>", l.fwd+" Invoice 4711", fwdBody), fwdBody)
			add("forward", fmt.Sprintf("%s_%d_nosubject", l.code, bi),
				plain("Agent <agent@example.com>", "Invoice 4711", fwdBody), fwdBody)
			fwdOutlook := l.fwdNote + "\n\n________________________________\n" + fmt.Sprintf("%s Some Customer <customer@example.org>\n%s Tuesday, March 3, 2015 10:11\n%s Sales <sales@example.com>\n%s Invoice 4711\n\n", lb[0], lb[1], lb[2], lb[3]) + body
			add("forward", fmt.Sprintf("%s_%d_outlook", l.code, bi),
				plain("Agent <agent@example.com>", l.fwd+" Invoice 4711", fwdOutlook), fwdOutlook)
			// Mobile footers.
			for mi, m := range l.mobile {
				add("mobile-footer", fmt.Sprintf("%s_%d_%d", l.code, bi, mi),
					plain("Some Customer <customer@example.org>", "Invoice 4711", body+"\n\n"+m), body)
			}
			// Signatures without "-- ": a closing and a name.
			add("signature", fmt.Sprintf("%s_%d_closing_name", l.code, bi),
				plain("Some Customer <customer@example.org>", "Invoice 4711", body+"\n\n"+l.closing+"\nSome Customer"), body+"\n\n"+l.closing)
			add("signature", fmt.Sprintf("%s_%d_closing_block", l.code, bi),
				plain("Some Customer <customer@example.org>", "Invoice 4711", body+"\n\n"+l.closing+"\nSome Customer\nHead of Accounting | Example Ltd\n+49 30 1234567"), body+"\n\n"+l.closing)
			add("signature", fmt.Sprintf("%s_%d_dashname", l.code, bi),
				plain("Some Customer <customer@example.org>", "Invoice 4711", body+"\n\n-Some Customer"), body)
			add("signature", fmt.Sprintf("%s_%d_delimiter", l.code, bi),
				plain("Some Customer <customer@example.org>", "Invoice 4711", body+"\n\n-- \nSome Customer\nExample Ltd"), body)
			// Mailing-list footers.
			add("list-footer", fmt.Sprintf("%s_%d_mailman", l.code, bi),
				plain("Some Customer <customer@example.org>", "[users] Invoice 4711", body+"\n\n_______________________________________________\nusers mailing list\nusers@lists.example.org\nhttps://lists.example.org/mailman/listinfo/users"), body)
			add("list-footer", fmt.Sprintf("%s_%d_google", l.code, bi),
				plain("Some Customer <customer@example.org>", "Invoice 4711", body+"\n\n--\nYou received this message because you are subscribed to the Google Groups \"users\" group.\nTo unsubscribe from this group and stop receiving emails from it, send an email to users+unsubscribe@googlegroups.com."), body)
			// Inline replies: each answer keeps the quoted lines it answers.
			q1, q2 := "Which invoice is it?", "Since when does it happen?"
			inline := fmt.Sprintf("%s\n> %s\n\nIt is invoice 4711.\n\n> %s\n\nSince Monday.\n\n> %s", strings.Replace(l.wrote[0], "\n", "", 1), q1, q2, strings.ReplaceAll(l.oldText, "\n", "\n> "))
			add("inline-reply", fmt.Sprintf("%s_%d", l.code, bi),
				plain("Some Customer <customer@example.org>", "Re: Invoice 4711", inline),
				"> "+q1+"\n\nIt is invoice 4711.\n\n> "+q2+"\n\nSince Monday.")
		}
	}
	out = append(out, htmlCases()...)
	out = append(out, mimeCases()...)
	return out
}

func htmlCases() []tc {
	var out []tc
	add := func(name, raw, want string) {
		out = append(out, tc{dir: "visible/html-quote", name: name, raw: raw, want: want})
	}
	for _, l := range langs {
		body := l.body[0]
		bh := "<div>" + strings.ReplaceAll(htmlEsc(body), "\n", "<br>") + "</div>"
		old := strings.ReplaceAll(htmlEsc(l.oldText), "\n", "<br>")
		attr := htmlEsc(strings.ReplaceAll(l.wrote[0], "\n", ""))
		lb := l.labels
		hdr := fmt.Sprintf("<b>%s</b> Support &lt;support@example.com&gt;<br><b>%s</b> Tuesday, March 3, 2015 10:11<br><b>%s</b> Some Customer<br><b>%s</b> Invoice 4711", lb[0], lb[1], lb[2], lb[3])
		from := "Some Customer <customer@example.org>"
		add(l.code+"_gmail", html(from, "Re: Invoice", `<div dir="ltr">`+bh+`</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">`+attr+`<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex">`+old+`</blockquote></div>`), body)
		add(l.code+"_outlookcom", html(from, "RE: Invoice", bh+`<hr style="display:inline-block;width:98%" tabindex="-1"><div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt">`+hdr+`</font><div>&nbsp;</div></div><div>`+old+`</div>`), body)
		add(l.code+"_bordertop", html(from, "RE: Invoice", bh+`<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p class="MsoNormal">`+hdr+`</p></div><p class="MsoNormal">`+old+`</p>`), body)
		add(l.code+"_msonormal", html(from, "RE: Invoice", `<div class="WordSection1"><p class="MsoNormal">`+strings.ReplaceAll(htmlEsc(body), "\n", "</p><p class=\"MsoNormal\">")+`</p><p class="MsoNormal">&nbsp;</p><p class="MsoNormal">`+hdr+`</p><p class="MsoNormal">&nbsp;</p><p class="MsoNormal">`+old+`</p></div>`), body)
		add(l.code+"_yahoo", html(from, "Re: Invoice", bh+`<div class="yahoo_quoted" id="yahoo_quoted_123"><div>`+attr+`</div><div><blockquote>`+old+`</blockquote></div></div>`), body)
		add(l.code+"_apple", html(from, "Re: Invoice", bh+`<div><br><blockquote type="cite"><div>`+attr+`</div><br><div>`+old+`</div></blockquote></div>`), body)
		add(l.code+"_thunderbird", html(from, "Re: Invoice", `<p>`+strings.ReplaceAll(htmlEsc(body), "\n", "<br>")+`</p><div class="moz-cite-prefix">`+attr+`<br></div><blockquote type="cite" cite="mid:1@example.com">`+old+`</blockquote>`), body)
		add(l.code+"_zimbra", html(from, "Re: Invoice", `<div style="font-family: arial">`+bh+`<br><hr id="zwchr" data-marker="__DIVIDER__"><div data-marker="__HEADERS__">`+hdr+`<br></div><br><div data-marker="__QUOTED_TEXT__">`+old+`</div></div>`), body)
	}
	return out
}

func mimeCases() []tc {
	var out []tc
	add := func(name, raw, want string) {
		out = append(out, tc{dir: "visible/mime-part", name: name, raw: raw, want: want})
	}
	for _, l := range langs {
		for bi, body := range l.body {
			bh := "<html><body><div>" + strings.ReplaceAll(htmlEsc(body), "\n", "<br>") + "</div></body></html>"
			from := "Some Customer <customer@example.org>"
			for si, stub := range []string{"", "Please view this message in an HTML capable mail client.", "[image: tracking]", " "} {
				add(fmt.Sprintf("%s_%d_stub%d", l.code, bi, si), alt(from, "Invoice", stub, bh, false, false), body)
			}
			add(fmt.Sprintf("%s_%d_base64", l.code, bi), alt(from, "Invoice", body, bh, true, false), body)
			add(fmt.Sprintf("%s_%d_nested", l.code, bi), alt(from, "Invoice", body, bh, false, true), body)
			add(fmt.Sprintf("%s_%d_plainb64", l.code, bi), plainB64(from, "Invoice", body), body)
		}
	}
	return out
}
