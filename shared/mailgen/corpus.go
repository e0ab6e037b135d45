package mailgen

// The text the generator draws from. {name} is the sender's first name,
// {n} a small number (a floor), {num} a larger one, {ticket} a short code.

type topic struct {
	subject string
	body    string
}

var topics = []topic{
	{"Printer on floor {n} not printing", "Hi support,\n\nthe printer next to the kitchen on floor {n} shows \"paper jam\" but there is no paper stuck anywhere. We already switched it off and on again.\n\nCould someone have a look today? We need to print contracts this afternoon.\n\nThanks,\n{name}"},
	{"VPN disconnects every few minutes", "Hello,\n\nsince this morning the VPN client drops the connection every 5-10 minutes when I work from home. The error says \"The network connection between your computer and the VPN server was interrupted\".\n\nMy laptop is asset {ticket}. Wi-Fi and everything else works fine.\n\nBest regards\n{name}"},
	{"Password reset needed", "Hi,\n\nI locked myself out of my account after the password change yesterday. Could you please reset it? I can be reached on extension {num}.\n\nThanks a lot,\n{name}"},
	{"Question about invoice {ticket}", "Dear support team,\n\nwe received invoice {ticket} but the amount does not match our purchase order: we ordered {num} licenses, the invoice lists {num} plus a setup fee we did not agree to.\n\nPlease send a corrected invoice.\n\nKind regards,\n{name}"},
	{"New laptop for new hire starting Monday", "Hi,\n\nwe have a new colleague starting on Monday in the finance team. Could you prepare a laptop with the standard finance image and Office?\n\nCost center {num}. The quote from the vendor is attached if you need it.\n\nThanks,\n{name}"},
	{"Outlook crashes when opening shared calendar", "Hello IT,\n\nOutlook freezes and then closes whenever I open the shared calendar \"Meeting rooms\". I tried safe mode, same result.\n\nVersion: Microsoft 365 Apps, build {num}.\n\nRegards,\n{name}"},
	{"Access to the project share", "Hi,\n\nplease give me read and write access to \\\\fileserver\\projects\\{ticket}. My manager approved it, she is in CC.\n\nThank you,\n{name}"},
	{"Monitor flickering", "Hi support,\n\nmy second monitor flickers every few seconds. I swapped the cable already. Desk {num}, building B.\n\nCheers,\n{name}"},
	{"Cannot log in to the HR portal", "Hello,\n\nthe HR portal says \"Your session has expired\" right after login, in Edge and Chrome. I need to submit my vacation request by Friday.\n\nThanks,\n{name}"},
	{"Phone headset not recognised", "Hi,\n\nmy headset is not recognised by Teams anymore since the last update. It still works on my phone.\n\nRegards,\n{name}"},
	{"Request: software installation", "Hello,\n\ncould you please install the statistics package on my workstation {ticket}? I need it for the quarterly report.\n\nBest,\n{name}"},
	{"E-mail to external partner bounces", "Hi,\n\nmails to our partner at partner-{num}.example bounce with \"550 5.7.1 message rejected\". It worked last week.\n\nCan you check?\n\n{name}"},
}

// foreign is text in a language for a charset other than UTF-8.
type foreign struct {
	charset string
	subject string
	body    string
	names   []string // sender display names
}

var foreigns = []foreign{
	{"iso-8859-1", "Drucker im {n}. Stock druckt nur leere Seiten", "Hallo zusammen,\n\nder Drucker im {n}. Stock druckt seit heute früh nur noch leere Seiten. Toner ist laut Anzeige voll.\n\nKönnt ihr euch das bitte ansehen? Wir müssen heute noch Angebote verschicken.\n\nViele Grüße\n{name}", []string{"Jürgen Größer", "Sören Weiß", "Bärbel Köhler"}},
	{"iso-8859-1", "Zugang zum Laufwerk für Frau Müller", "Guten Tag,\n\nbitte richten Sie für unsere neue Kollegin Frau Müller den Zugang zum Abteilungslaufwerk ein. Die Genehmigung liegt vor.\n\nMit freundlichen Grüßen\n{name}", []string{"Günther Müller", "Renée Lefèvre"}},
	{"windows-1252", "Problème d’accès à l’intranet", "Bonjour,\n\ndepuis ce matin je n’arrive plus à me connecter à l’intranet : « accès refusé ». La facture de {num} € doit être validée aujourd’hui.\n\nMerci d’avance,\n{name}", []string{"Hélène Dubois", "François Lefèvre"}},
	{"windows-1252", "Invoice query – €{num} charged twice", "Hello,\n\nwe were charged €{num} twice for the same order — could you please check and refund the duplicate?\n\n“Order {ticket}” is the reference.\n\nThanks,\n{name}", []string{"Seán Ó Briain", "Zoë Martín"}},
	{"koi8-r", "Не работает принтер", "Здравствуйте!\n\nПринтер на {n} этаже не печатает, горит красная лампочка. Перезагрузка не помогла.\n\nС уважением,\n{name}", []string{"Иван Петров", "Анна Смирнова"}},
	{"koi8-r", "Сброс пароля", "Добрый день,\n\nпрошу сбросить пароль от учётной записи. Номер телефона для связи: {num}.\n\nСпасибо,\n{name}", []string{"Ольга Иванова"}},
	{"shift_jis", "パスワードの再設定", "お疲れ様です。\n\nパスワードを忘れてしまい、ログインできません。再設定をお願いできますでしょうか。\n\n内線：{num}\n\nよろしくお願いいたします。\n{name}", []string{"佐藤 花子", "鈴木 一郎"}},
	{"shift_jis", "ノートPCの貸出について", "お疲れ様です。\n\n来週の出張用にノートPCを一台お借りしたいです。資産番号は{ticket}です。\n\nよろしくお願いします。\n{name}", []string{"高橋 健"}},
}

var firstNames = []string{"Anna", "Brian", "Chen", "Diana", "Erik", "Fiona", "George", "Hannah", "Ivan", "Julia", "Kenji", "Laura", "Marco", "Nina", "Omar", "Priya", "Quentin", "Rosa", "Samuel", "Tara"}
var lastNames = []string{"Schmidt", "O'Connor", "Wei", "Rossi", "Johansson", "Clarke", "Miller", "Novak", "Kowalski", "Garcia", "Tanaka", "Dubois", "Bianchi", "Larsen", "Haddad", "Patel", "Moreau", "Silva", "Okafor", "Nguyen"}
var customerDomains = []string{"contoso.example", "fabrikam.example", "northwind.example", "adventure-works.example", "tailspin.example", "wingtip.example", "litware.example", "proseware.example"}

var mailers = []string{"Microsoft Outlook 16.0", "Mozilla Thunderbird 128.3.0", "Apple Mail (2.3774)", ""}

var attachmentKinds = []struct {
	ext, ctype string
	magic      []byte
}{
	{"pdf", "application/pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")},
	{"png", "image/png", []byte("\x89PNG\r\n\x1a\n")},
	{"jpg", "image/jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00")},
	{"zip", "application/zip", []byte("PK\x03\x04")},
	{"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", []byte("PK\x03\x04")},
}

var zones = []struct {
	name   string
	offset int // seconds east of UTC
}{{"CET", 3600}, {"GMT", 0}, {"EST", -5 * 3600}, {"JST", 9 * 3600}, {"IST", 5*3600 + 1800}}
