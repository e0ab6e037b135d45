package visible

import (
	"strings"

	"mailconnector/shared/lazyre"
)

// --- the text heuristics of the clients

func gmailText(st *textState) {
	if st.forward || st.interleaved {
		return
	}
	cutAtAttribution(st)
}

// appleText removes "Sent from my iPhone" and its kin.
func appleText(st *textState) { st.lines = dropLines(st.lines, appleSignature) }

var appleSignature = lazyre.New(`(?i)^\s*(sent from my (iphone|ipad|apple watch|mac)|von meinem (iphone|ipad) gesendet|envoy[ée] de mon (iphone|ipad)|enviado desde mi (iphone|ipad)|enviado do meu (iphone|ipad)|inviato da (iphone|ipad)|verstuurd vanaf mijn (iphone|ipad)|skickat från min (iphone|ipad)|sendt fra min (iphone|ipad)|wysłane z (mojego )?(iphone|ipad)('a)?|отправлено с (iphone|ipad)|(iphone|ipad)から送信|(从|發自|发自)我的\s?(iphone|ipad)(发送)?)\s*\.?\s*$`)

// thunderbirdText cuts at Thunderbird's -------- Original Message --------.
func thunderbirdText(st *textState) { st.cutHistoryAt(originalMessage) }

var yahooSignature = lazyre.New(`(?i)^\s*(sent from yahoo mail (for|on) (iphone|ipad|android)|yahoo mail: search, organi[sz]e, conquer|gesendet von yahoo mail (für|auf) (iphone|android)|envoy[ée] de yahoo mail (pour|sur) (iphone|android)|enviado desde yahoo mail (para|con) (iphone|android))\s*\.?\s*$`)

func yahooText(st *textState) { st.lines = dropLines(st.lines, yahooSignature) }

var protonSignature = lazyre.New(`(?i)^\s*(sent with proton ?mail( secure email)?|sent from proton mail (mobile|android|ios))\s*\.?\s*$`)

func protonText(st *textState) {
	st.lines = dropLines(st.lines, protonSignature)
	thunderbirdText(st) // ------- Original Message -------
}

// zohoAttribution is Zoho Mail's "---- On Tue, 05 Mar 2024 10:00:00 +0100
// X <x@example.com> wrote ----" and its German and French forms.
var zohoAttribution = lazyre.New(`(?i)^\s*-{3,}\s*(on|am|le|el)\s.*\s` + attributionVerb + `\s*-{3,}\s*$`)

func zohoText(st *textState) { st.cutHistoryAt(zohoAttribution) }

// androidSignature matches the "Sent from" lines of Android mail apps.
var androidSignature = lazyre.New(`(?i)^\s*(` +
	`sent from my (samsung|galaxy|huawei|xiaomi|redmi|oneplus|pixel|android|lg|motorola|sony|oppo|vivo|nokia)\b.{0,60}|` +
	`sent via the samsung .{0,80}|sent from samsung (mobile|email).{0,40}|` +
	`sent from (my )?android( device)?.{0,60}|sent from bluemail|sent with aqua mail for android.{0,60}|` +
	`sent from (gmail mobile|outlook for android|yahoo mail on android|k-9 mail)\b.{0,40}|` +
	`get outlook for android|download outlook for android|` +
	`(von meinem|gesendet von meinem) (samsung|galaxy|huawei|android|smartphone).{0,40}|` +
	`envoy[ée] (de|depuis) (mon|un) (smartphone|appareil|samsung|android).{0,40}|` +
	`enviado desde mi (smartphone|dispositivo|samsung|huawei|android).{0,40}|` +
	`enviado do meu (smartphone|dispositivo|samsung|android).{0,40}|` +
	`inviato da (smartphone|samsung|android).{0,40}|` +
	`verzonden (vanaf|met) (mijn )?(samsung|android|smartphone).{0,40}|` +
	`skickat från (min )?(samsung|android|mobil).{0,40}|sendt fra (min )?(samsung|android|mobil).{0,40}|` +
	`wysłano z (mojego )?(samsung|android|smartfona).{0,40}|отправлено с (моего )?(samsung|android|смартфона|устройства).{0,40}` +
	`)\s*$`)

// androidText removes the "Sent from" lines of Android mail apps and cuts
// at Samsung Email's "-------- Original message --------" block.
func androidText(st *textState) {
	st.lines = dropLines(st.lines, androidSignature)
	thunderbirdText(st) // -------- Original message --------
}

// mobileSignature matches the one-line signatures mobile mail apps add.
var mobileSignature = lazyre.New(`(?i)^\s*(` +
	`sent from my \S.{0,40}|sent from (outlook|mail|yahoo mail|samsung|aol|proton ?mail|windows mail|mail for windows|typeapp|bluemail|spark|aqua mail|edison mail|newton mail|airmail)\b.{0,40}|sent from \S+( mail)? for (ios|android|iphone|ipad|mac|windows)\b.{0,20}|` +
	`gesendet von (outlook|yahoo|aol|gmx|web\.de|mail|typeapp|bluemail)\b.{0,30}|inviato (dal|dal mio|con) \S.{0,40}|envoy[ée] (avec|via) \S.{0,40}|enviado con \S.{0,40}|` +
	`get outlook for (ios|android|mac)|download outlook for (ios|android)|sent from outlook for (ios|android|mac)|` +
	`sent with proton ?mail.{0,40}|sent from my blackberry.{0,40}|sent from a mobile device|sent on the go.{0,30}|` +
	`von meinem \S.{0,40} gesendet|gesendet von meinem \S.{0,40}|von (meinem )?(iphone|ipad|smartphone|handy|mobiltelefon) gesendet|gesendet mit der (web\.de|gmx) mail app|` +
	`envoy[ée] (de|depuis) (mon|ma|l'application|un) \S.{0,40}|` +
	`enviado (desde|de) mi \S.{0,40}|enviado do meu \S.{0,40}|enviado desde (outlook|correo|yahoo).{0,40}|` +
	`verzonden (vanaf|met) mijn \S.{0,40}|verstuurd vanaf mijn \S.{0,40}|inviato da \S.{0,40}|` +
	`skickat från min \S.{0,40}|sendt fra min \S.{0,40}|lähetetty (iphonesta|ipadista|android-laitteesta|puhelimesta).{0,30}|` +
	`wysłane z (mojego )?\S.{0,40}|wysłano z (mojego )?\S.{0,40}|odesláno z (mého )?\S.{0,40}|` +
	`отправлено (с|из) \S.{0,40}|(iphone|ipad|android)から送信|(从|發自|发自|寄自)我的\s?\S{1,30}` +
	`)\s*$`)

func dropLines(lines []string, re *lazyre.Regexp) []string {
	out := lines[:0:0]
	for _, l := range lines {
		if !isQuoted(l) && re.MatchString(l) {
			continue
		}
		out = append(out, l)
	}
	return out
}

// mobileSignatures removes lines such as "Sent from my iPhone" and "Get
// Outlook for Android".
func mobileSignatures(st *textState) { st.lines = dropLines(st.lines, mobileSignature) }

// signatureDelimiter cuts the signature: the line "-- " (RFC 3676 section
// 4.3; also "--", as many clients strip the space) and everything below.
// In a forward, only a signature above the forwarded message goes.
func signatureDelimiter(st *textState) {
	for i, l := range st.lines {
		if strings.TrimRight(l, " \t\r") != "--" {
			continue
		}
		if st.forward {
			// Keep the forwarded message: cut the signature only up to
			// the forward separator or header block below it.
			for k := i + 1; k < len(st.lines); k++ {
				if forwardSeparator.MatchString(st.lines[k]) || headerBlockAt(st.lines, k) {
					st.lines = append(st.lines[:i:i], st.lines[k:]...)
					return
				}
			}
			continue
		}
		st.cut(i)
		return
	}
}

// forwardSeparator matches the separator above a forwarded message.
