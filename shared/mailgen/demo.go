package mailgen

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// Demo returns twelve support messages to support@domain from different
// customers, oldest first: a broken printer, a VPN problem, a password
// reset, an invoice question, a laptop order with a small PDF, an Outlook
// HTML newsletter, a German mail in ISO-8859-1, a Japanese one in
// ISO-2022-JP, an out-of-office auto-reply, a reply that quotes the
// printer mail (In-Reply-To and References), a reply whose subject carries
// [REQ-000001], and a French mail in windows-1252.
func Demo(domain string) []Message {
	if domain == "" {
		domain = "example.com"
	}
	to := "IT Support <support@" + domain + ">"
	cet := time.FixedZone("CET", 3600)
	at := func(day, hour, minute int) time.Time { return time.Date(2026, 3, day, hour, minute, 0, 0, cet) }
	printerID := "CAF8p2qR1.demo01@contoso.example"
	printerDate := at(2, 8, 12)
	printerText := "Hi support,\n\nthe printer on the 3rd floor (HP LaserJet M607, next to the kitchen) has\nstopped printing. The display shows \"49.4C02 error\" and jobs stay in the\nqueue. We already switched it off and on again.\n\nCould someone have a look today? We need to print contracts this afternoon.\n\nThanks,\nAnna Schmidt\nContoso Logistics, Accounts Payable\n+49 40 1234 5678\n"

	specs := []*spec{
		{
			From: "Anna Schmidt", FromAddr: "anna.schmidt@contoso.example", To: to,
			Subject: "Printer on 3rd floor not printing", Date: printerDate, MessageID: printerID,
			Extra: [][2]string{{"X-Mailer", "Microsoft Outlook 16.0"}},
			Text:  printerText,
		},
		{
			From: "Brian O'Connor", FromAddr: "brian.oconnor@fabrikam.example", To: to,
			Subject: "VPN keeps disconnecting when working from home", Date: at(2, 8, 47), MessageID: "20260302084700.4f1c@fabrikam.example",
			Alternative: true,
			Text:        "Hello,\n\nsince this morning the VPN client drops the connection every 5-10 minutes.\nThe error says \"The network connection between your computer and the VPN\nserver was interrupted\". Wi-Fi and everything else works fine.\n\nLaptop asset tag: FAB-0932\nClient version: 5.1.2\n\nBest regards\nBrian\n\n--\nBrian O'Connor | Sales | Fabrikam Ltd.\n",
		},
		{
			From: "Chen Wei", FromAddr: "chen.wei@northwind.example", To: to,
			Subject: "Password reset for SAP account", Date: at(2, 9, 5), MessageID: "ae71c2.demo03@northwind.example",
			Extra: [][2]string{{"X-Mailer", "Apple Mail (2.3774)"}},
			Text:  "Hi,\n\nI locked myself out of SAP after changing my password yesterday. My user\nname is CWEI. Could you please reset it? I can be reached on extension 4711.\n\nThanks a lot,\nChen\n\nSent from my iPhone\n",
		},
		{
			From: "Diana Rossi", FromAddr: "d.rossi@adventure-works.example", To: to, Cc: "Accounts <accounts@adventure-works.example>",
			Subject: "Question about invoice INV-2026-0142", Date: at(2, 9, 31), MessageID: "CAJx9-demo04@mail.adventure-works.example",
			Alternative: true,
			Text:        "Dear support team,\n\nwe received invoice INV-2026-0142 over 1.250,00 € but our purchase order\nPO-88231 was for 1.000,00 €. The difference seems to be a setup fee we did\nnot agree to.\n\nCould you please send a corrected invoice?\n\nKind regards,\nDiana Rossi\nAdventure Works – Purchasing\n",
		},
		{
			From: "Erik Johansson", FromAddr: "erik.johansson@tailspin.example", To: to,
			Subject: "Laptop order for new hire starting Monday", Date: at(2, 10, 2), MessageID: "5e0d9b7a.demo05@tailspin.example",
			Alternative: true,
			Text:        "Hi,\n\nwe have a new colleague, Maja Lind, starting on Monday in the finance team.\nCould you prepare a laptop with the standard finance image and Office?\n\nCost center 4410. The vendor's quote is attached.\n\nThanks,\nErik\n",
			Attachment:  &attachment{Name: "quote-ThinkPad-T14.pdf", ContentType: "application/pdf", Data: demoPDF()},
		},
		{
			From: "Fiona Clarke", FromAddr: "fiona.clarke@wingtip.example", To: to,
			Subject: "Weekly IT update: maintenance window on Saturday", Date: at(2, 10, 40), MessageID: "DB9PR04MB8412.demo06@DB9PR04MB8412.eurprd04.prod.outlook.com",
			Extra: [][2]string{
				{"X-Mailer", "Microsoft Outlook 16.0"},
				{"Thread-Topic", "Weekly IT update: maintenance window on Saturday"},
				{"Thread-Index", "AdqM3Zq1w8kV0yT9RkqYxkq1Jt0b2A=="},
				{"X-MS-Has-Attach", ""},
				{"Content-Language", "en-GB"},
			},
			Alternative: true,
			Text:        "Weekly IT update\n\nMaintenance window: Saturday 7 March, 22:00-02:00 CET.\nAffected: file servers, intranet, VPN.\n\nPlease save your work and log off before you leave on Friday.\n\nFiona Clarke\nIT Communications | Wingtip Toys\n",
			HTML:        outlookHTML,
		},
		{
			From: "Günther Müller", FromAddr: "g.mueller@beispiel-gmbh.example", To: to, Charset: "iso-8859-1",
			Subject: "Drucker im 2. Stock druckt nur leere Seiten", Date: at(2, 11, 15), MessageID: "4b2a.demo07@beispiel-gmbh.example",
			Extra: [][2]string{{"X-Mailer", "Mozilla Thunderbird 128.3.0"}},
			Text:  "Hallo zusammen,\n\nder Drucker im 2. Stock (Raum 2.14) druckt seit heute früh nur noch leere\nSeiten. Laut Anzeige ist der Toner voll. Wir haben ihn schon aus- und\nwieder eingeschaltet.\n\nKönnt ihr euch das bitte ansehen? Wir müssen heute noch Angebote\nverschicken.\n\nViele Grüße\nGünther Müller\nBeispiel GmbH, Vertrieb\n",
		},
		{
			From: "田中 太郎", FromAddr: "tanaka@example.co.jp", To: to, Charset: "iso-2022-jp",
			Subject: "プリンターが動きません", Date: at(2, 11, 58), MessageID: "20260302115800.7c3e.demo08@example.co.jp",
			Text: "お疲れ様です。田中です。\n\n三階のプリンターが今朝から動きません。\n画面に「用紙詰まり」と表示されますが、紙は詰まっていません。\n\nご確認をお願いいたします。\n\n田中 太郎\n",
		},
		{
			From: "Brian O'Connor", FromAddr: "brian.oconnor@fabrikam.example", To: to,
			Subject: "Automatic reply: VPN keeps disconnecting when working from home", Date: at(2, 12, 30), MessageID: "AM0PR.autoreply.demo09@fabrikam.example",
			InReplyTo: "notification.req-000002@" + domain,
			Extra: [][2]string{
				{"Auto-Submitted", "auto-replied"},
				{"X-Auto-Response-Suppress", "All"},
				{"Precedence", "auto_reply"},
			},
			Text: "Thank you for your message. I am out of the office until Monday, 9 March,\nwith limited access to e-mail. For urgent matters please contact\nsales@fabrikam.example.\n\nBrian O'Connor\n",
		},
		{
			From: "Anna Schmidt", FromAddr: "anna.schmidt@contoso.example", To: to,
			Subject: "Re: Printer on 3rd floor not printing", Date: at(2, 13, 4), MessageID: "CAF8p2qR1.demo10@contoso.example",
			InReplyTo: printerID, References: []string{printerID},
			Extra: [][2]string{{"X-Mailer", "Microsoft Outlook 16.0"}},
			Text:  "Hi,\n\nany update on this? The printer now also refuses scan jobs.\n\nThanks,\nAnna\n\n" + quote(printerDate, "Anna Schmidt", "anna.schmidt@contoso.example", printerText),
		},
		{
			From: "Anna Schmidt", FromAddr: "anna.schmidt@contoso.example", To: to,
			Subject: "Re: [REQ-000001] Printer on 3rd floor not printing", Date: at(3, 9, 20), MessageID: "CAF8p2qR1.demo11@contoso.example",
			InReplyTo: "notification.req-000001@" + domain, References: []string{printerID, "notification.req-000001@" + domain},
			Text: "Hello,\n\nthe technician replaced the fuser this morning and the printer works\nagain. You can close the request.\n\nThanks!\nAnna\n",
		},
		{
			From: "Hélène Dubois", FromAddr: "helene.dubois@litware.example", To: to, Charset: "windows-1252",
			Subject: "Problème d’accès à l’intranet", Date: at(3, 10, 5), MessageID: "01dc8e.demo12@litware.example",
			Extra:       [][2]string{{"X-Mailer", "Microsoft Outlook 16.0"}},
			Alternative: true,
			Text:        "Bonjour,\n\ndepuis ce matin je n’arrive plus à me connecter à l’intranet : le message\n« accès refusé » s’affiche. La facture de 2 300 € doit être validée\naujourd’hui.\n\nMerci d’avance,\nHélène Dubois\n",
		},
	}
	out := make([]Message, 0, len(specs))
	for i, s := range specs {
		var buf bytes.Buffer
		n := 0
		boundary := func() string { n++; return fmt.Sprintf("----=_NextPart_demo%02d_%d", i+1, n) }
		if err := s.write(&buf, boundary); err != nil {
			panic(fmt.Sprintf("mailgen: demo message %d: %v", i+1, err)) // the demo text is fixed: a failure is a bug
		}
		out = append(out, Message{Raw: buf.Bytes(), MessageID: s.MessageID, Subject: s.Subject})
	}
	return out
}

// quote writes the attribution line and the quoted original of a reply.
func quote(date time.Time, name, addr, text string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "On %s, %s <%s> wrote:\n", date.Format("Mon, 2 Jan 2006 at 15:04"), name, addr)
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		b.WriteString(strings.TrimRight("> "+l, " ") + "\n")
	}
	return b.String()
}

// demoPDF is a tiny one-page PDF.
func demoPDF() []byte {
	content := "BT /F1 18 Tf 72 720 Td (Quote Q-2026-118: ThinkPad T14, 1 x 1,249.00 EUR) Tj ET"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

const outlookHTML = `<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:word" xmlns="http://www.w3.org/TR/REC-html40">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta name="Generator" content="Microsoft Word 15 (filtered medium)">
<style><!--
p.MsoNormal, li.MsoNormal, div.MsoNormal {margin:0cm; font-size:11.0pt; font-family:"Calibri",sans-serif;}
span.EmailStyle17 {mso-style-type:personal-compose; font-family:"Calibri",sans-serif; color:windowtext;}
.MsoChpDefault {mso-style-type:export-only;}
@page WordSection1 {size:612.0pt 792.0pt; margin:72.0pt 72.0pt 72.0pt 72.0pt;}
div.WordSection1 {page:WordSection1;}
--></style>
<!--[if gte mso 9]><xml>
<o:shapedefaults v:ext="edit" spidmax="1026" />
</xml><![endif]-->
</head>
<body lang="EN-GB" link="#0563C1" vlink="#954F72" style="word-wrap:break-word">
<div class="WordSection1">
<table class="MsoNormalTable" border="0" cellspacing="0" cellpadding="0" width="600" style="width:450.0pt;background:#1F3864">
<tr><td style="padding:12.0pt 12.0pt 12.0pt 12.0pt">
<p class="MsoNormal"><b><span style="font-size:20.0pt;color:white">Weekly IT update</span></b><o:p></o:p></p>
</td></tr>
</table>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<table class="MsoNormalTable" border="0" cellspacing="0" cellpadding="0" width="600" style="width:450.0pt">
<tr>
<td width="200" style="padding:6.0pt"><p class="MsoNormal"><b>Maintenance window</b><o:p></o:p></p></td>
<td style="padding:6.0pt"><p class="MsoNormal">Saturday 7 March, 22:00&#8211;02:00 CET<o:p></o:p></p></td>
</tr>
<tr>
<td width="200" style="padding:6.0pt"><p class="MsoNormal"><b>Affected</b><o:p></o:p></p></td>
<td style="padding:6.0pt"><p class="MsoNormal">File servers, intranet, VPN<o:p></o:p></p></td>
</tr>
</table>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<p class="MsoNormal">Please save your work and log off before you leave on Friday.<o:p></o:p></p>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<p class="MsoNormal"><span style="color:#1F3864">Fiona Clarke<br>IT Communications | Wingtip Toys</span><o:p></o:p></p>
<p class="MsoNormal"><img width="120" height="40" src="cid:image001.png@01DA8C4E.5B7F3A10" alt="Wingtip Toys"><o:p></o:p></p>
</div>
</body>
</html>
`
