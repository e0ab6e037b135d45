package bounce

import (
	"strings"

	"mailconnector/shared/lazyre"
)

// The reasons of a bounce: a small vocabulary, after the one sisimai
// documents, that rules can test (bounce.reason).
const (
	UserUnknown  = "userunknown"  // the mailbox does not exist (5.1.1, 5.1.10)
	MailboxFull  = "mailboxfull"  // over quota (5.2.2, 4.2.2)
	HostUnknown  = "hostunknown"  // the domain has no mail server or does not exist (5.1.2, 5.4.4)
	Suspended    = "suspend"      // the mailbox exists but is disabled (5.2.1)
	SpamDetected = "spamdetected" // refused as spam or for a blocklisted sender
	MesgTooBig   = "mesgtoobig"   // larger than the receiver takes (5.3.4, 5.2.3)
	Policy       = "policy"       // refused by a policy: relaying, authentication (SPF, DKIM, DMARC), access (5.7.x)
	Expired      = "expired"      // given up after retrying for days (4.4.7, 5.4.7)
	NetworkError = "networkerror" // no route, connection refused or lost (4.4.x, 5.4.x)
	SystemError  = "systemerror"  // the receiving system failed (5.3.x, 4.3.x)
	Suppressed   = "suppressed"   // the sending service did not try: the address is on its suppression list
	Delayed      = "delayed"      // not yet delivered, still being retried (Action: delayed)
	Delivered    = "delivered"    // a success notification (Action: delivered, relayed, expanded)
	Feedback     = "feedback"     // a feedback report (RFC 5965): the recipient reported the message
	Undefined    = "undefined"    // none of the above could be told
)

// Reasons lists the vocabulary in documentation order.
var Reasons = []string{UserUnknown, MailboxFull, HostUnknown, Suspended, SpamDetected, MesgTooBig,
	Policy, Expired, NetworkError, SystemError, Suppressed, Delayed, Delivered, Feedback, Undefined}

// reasonText maps the wording of diagnostics to reasons, the most
// specific first. The wording wins over a generic status code (5.0.0,
// 5.5.0, 5.7.1 used for everything).
var reasonText = []struct {
	reason string
	re     *lazyre.Regexp
}{
	{MesgTooBig, lazyre.New(`(?i)(message|mail) (size|is too (big|large)|too (big|large))|size limit|exceeds? (the )?(maximum|max|size|allowed)|too large|message length exceeds|larger than .* allows|サイズ|容量(が|を)?超`)},
	{MailboxFull, lazyre.New(`(?i)mailbox (is )?full|over ?quota|quota (exceeded|exceed)|exceeded (its|the|storage|his|her) (quota|storage|allocation)|insufficient (system )?storage|mailbox (size|storage) limit|disk quota|mail ?box is over|user.s mailbox is full|out of storage|postfach (ist )?voll|boîte (aux lettres )?pleine|buzón lleno|mailbox has exceeded|full mailbox|メールボックスがいっぱい|容量オーバー`)},
	{SpamDetected, lazyre.New(`(?i)\bspam|junk mail|blacklist|blocklist|block ?list|\bdnsbl|\brbl\b|spamhaus|spamcop|barracudacentral|sorbs|listed (at|in|on)|bulk mail|unsolicited|content (was )?(rejected|filter)|reputation|message (was )?(rejected|blocked) (as|because|due)|high probability of|suspicious|virus|malware|phish`)},
	{Suspended, lazyre.New(`(?i)(account|mailbox|user|address) (is |has been )?(disabled|suspended|deactivated|inactive|locked|frozen|closed|expired)|is (not active|inactive|disabled)|no longer (active|in use|available)|account (has been )?(terminated|closed)|mailbox (is )?(unavailable|disabled) \(disabled|deactivated`)},
	{HostUnknown, lazyre.New(`(?i)host (or domain name )?not found|domain (name )?(not found|does not exist|doesn.t exist|unknown)|unknown (host|domain)|host unknown|no mx|no (mail|valid) (server|host|exchanger)|name service error|unrouteable (mail )?domain|unrouteable address|dns (error|failure|lookup failed)|nxdomain|name or service not known|could not (be )?resolve|domain (is )?(invalid|not valid)|non-existent (host|domain)|invalid domain|bad destination (system|mailbox address)? ?domain|mail domain .* (does not|doesn.t) exist`)},
	{UserUnknown, lazyre.New(`(?i)user ?(is )?unknown|unknown (user|recipient|mailbox|address|local part)|no such (user|mailbox|recipient|address|account|local user)|(user|recipient|mailbox|address|account|addressee|e-?mail account)( that you tried to reach)? (does not|doesn.t|did not|didn.t) exist|not (a )?(valid|known) (user|recipient|mailbox)|invalid (recipient|mailbox|user|address)|recipient (address )?(rejected|not found|unknown|invalid)|recipientnotfound|recipnotfound|address (not found|unknown|rejected|couldn.t be found)|couldn.t be found|could not be found|wasn.t found (at|in)|was not found (at|in)|mailbox (unavailable|not found)|user not found|not listed in (domino|the) directory|undeliverable address|no mailbox|account (does not|doesn.t) exist|bad recipient|(unknown|invalid) (e-?mail|account)|is not a valid (e-?mail|mailbox)|unbekannte? (empfänger|benutzer)|existiert nicht|utilisateur inconnu|destinataire inconnu|usuario desconocido|宛先(が|は)?(見つかりません|不明|存在しません)`)},
	{Expired, lazyre.New(`(?i)(delivery|retry) (time|timeout) (expired|exceeded)|expired|too long in (the )?queue|message (is|was) too old|could not be delivered (within|for) \d+|gave up|giving up|given up|retry (limit|period|timeout)|maximum time|time ?out|timed out`)},
	{Policy, lazyre.New(`(?i)polic(y|ies)|not (authorized|permitted|allowed)|relay(ing)? (denied|not permitted|access denied)|access denied|refused|dmarc|\bspf\b|dkim|authentication (required|failed)|not accepted|sender (address )?(rejected|denied|blocked)|blocked|rejected by|prohibited|restricted|denied`)},
	{NetworkError, lazyre.New(`(?i)connection (refused|reset|timed out|lost|closed)|no route to host|network (is )?unreachable|could not connect|unable to connect|lost connection|temporary (failure|problem)|try again later`)},
	{SystemError, lazyre.New(`(?i)system (error|failure|problem)|internal (server )?error|server (error|failure)|local (error|problem)|i/o error|out of memory|configuration error|mail loop|loops? (back|detected)|too many hops`)},
}

// reasonStatus maps RFC 3463 status codes (class dropped) to reasons.
var reasonStatus = map[string]string{
	"1.1": UserUnknown, "1.0": UserUnknown, "1.3": UserUnknown, "1.6": UserUnknown, "1.10": UserUnknown,
	"1.2": HostUnknown, "4.4": HostUnknown,
	"2.1": Suspended,
	"2.2": MailboxFull,
	"2.3": MesgTooBig, "3.4": MesgTooBig,
	"4.7": Expired,
	"4.0": NetworkError, "4.1": NetworkError, "4.2": NetworkError, "4.3": NetworkError, "4.6": NetworkError,
	"3.0": SystemError, "3.1": SystemError, "3.2": SystemError, "3.5": SystemError,
	"7.0": Policy, "7.1": Policy, "7.2": Policy, "7.3": Policy, "7.4": Policy, "7.5": Policy,
	"7.7": Policy, "7.8": Policy, "7.9": Policy, "7.13": Suspended, "7.14": Policy,
	"7.23": Policy, "7.25": Policy, "7.26": Policy, "7.27": HostUnknown,
	"7.6": Policy, "7.15": Policy, "7.16": Policy, "7.17": Suspended, "7.18": Suspended,
}

// specificStatus are codes that say more than any wording can.
var specificStatus = map[string]bool{"1.1": true, "1.10": true, "2.2": true, "1.2": true, "3.4": true, "2.1": true, "4.7": true}

// Classify returns the reason of a bounce from its status code and the
// text that explains it.
func Classify(status, text string) string {
	detail := ""
	if status != "" {
		if _, rest, ok := strings.Cut(status, "."); ok {
			detail = rest
		}
	}
	if specificStatus[detail] {
		return reasonStatus[detail]
	}
	for _, rt := range reasonText {
		if rt.re.MatchString(text) {
			return rt.reason
		}
	}
	if r, ok := reasonStatus[detail]; ok {
		return r
	}
	if strings.HasPrefix(status, "4.") {
		return Delayed
	}
	return Undefined
}
