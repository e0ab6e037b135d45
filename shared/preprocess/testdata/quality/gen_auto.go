//go:build ignore

package main

import (
	"fmt"
	"strings"
)

// why is one reason a delivery failed, as the receiving server says it.
type why struct{ reason, status, reply, text string }

var whys = []why{
	{"userunknown", "5.1.1", "550", "<%r>: Recipient address rejected: User unknown in local recipient table"},
	{"mailboxfull", "5.2.2", "552", "<%r>: Mailbox full, quota exceeded"},
	{"spamdetected", "5.7.1", "550", "Message rejected as spam by Content Filtering"},
	{"mesgtoobig", "5.3.4", "552", "Message size exceeds fixed maximum message size"},
	{"suspend", "5.2.1", "550", "The email account that you tried to reach is disabled"},
}

func (w why) line(r string) string {
	return w.reply + " " + w.status + " " + strings.ReplaceAll(w.text, "%r", r)
}

const origID = "req-4711.7@helpdesk.example.com"

// original is the returned message's header.
func original(r string) string {
	return "Return-Path: <support@example.com>\nFrom: Support <support@example.com>\nTo: <" + r + ">\nSubject: [#4711] Your request\nDate: Tue, 3 Mar 2015 09:00:00 +0100\nMessage-ID: <" + origID + ">\n"
}

// mta is one MTA's non-standard (text) bounce: sender, subject, extra
// header fields and body.
type mta struct {
	name, from, subject string
	extra               []string
	body                func(r string, w why) string
}

var mtas = []mta{
	{"postfix", "MAILER-DAEMON@mx.example.com (Mail Delivery System)", "Undelivered Mail Returned to Sender", nil, func(r string, w why) string {
		return "This is the mail system at host mx.example.com.\n\nI'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients. It's attached below.\n\nFor further assistance, please send mail to postmaster.\n\n                   The mail system\n\n<" + r + ">: host mx.example.org[192.0.2.25] said: " + w.line(r) + " (in reply to RCPT TO command)\n\n--- Original message follows.\n\n" + original(r) + "\nHello"
	}},
	{"sendmail", "Mail Delivery Subsystem <MAILER-DAEMON@mx.example.com>", "Returned mail: see transcript for details", nil, func(r string, w why) string {
		return "The original message was received at Tue, 3 Mar 2015 09:00:01 +0100\nfrom localhost [127.0.0.1]\n\n   ----- The following addresses had permanent fatal errors -----\n<" + r + ">\n    (reason: " + w.line(r) + ")\n\n   ----- Transcript of session follows -----\n... while talking to mx.example.org.:\n>>> RCPT To:<" + r + ">\n<<< " + w.line(r) + "\n\n   ----- Original message follows -----\n" + original(r) + "\nHello"
	}},
	{"exim", "Mail Delivery System <Mailer-Daemon@mx.example.com>", "Mail delivery failed: returning message to sender", []string{"X-Failed-Recipients: %r", "Auto-Submitted: auto-replied"}, func(r string, w why) string {
		return "This message was created automatically by mail delivery software.\n\nA message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  " + r + "\n    host mx.example.org [192.0.2.25]\n    SMTP error from remote mail server after RCPT TO:<" + r + ">:\n    " + w.line(r) + "\n\n------ This is a copy of the message, including all the headers. ------\n\n" + original(r) + "\nHello"
	}},
	{"qmail", "MAILER-DAEMON@mx.example.com", "failure notice", nil, func(r string, w why) string {
		return "Hi. This is the qmail-send program at mx.example.com.\nI'm afraid I wasn't able to deliver your message to the following addresses.\nThis is a permanent error; I've given up. Sorry it didn't work out.\n\n<" + r + ">:\n192.0.2.25 does not like recipient.\nRemote host said: " + w.line(r) + "\nGiving up on 192.0.2.25.\n\n--- Below this line is a copy of the message.\n\n" + original(r) + "\nHello"
	}},
	{"courier", "Courier mail server at mx.example.com <@>", "NOTICE: mail delivery status.", nil, func(r string, w why) string {
		return "This is a delivery status notification from mx.example.com,\nrunning the Courier mail server, version 1.0.\n\nThe original message was received on Tue, 3 Mar 2015 09:00:01 +0100\nfrom localhost [127.0.0.1]\n\n---------------------------------------------------------------------------\n\n                           UNDELIVERABLE MAIL\n\nYour message to the following recipients cannot be delivered:\n\n<" + r + ">:\n    mx.example.org [192.0.2.25]:\n>>> RCPT TO:<" + r + ">\n<<< " + w.line(r) + "\n\n---------------------------------------------------------------------------\n\nThe original message headers are as follows:\n\n" + original(r)
	}},
	{"opensmtpd", "Mailer Daemon <MAILER-DAEMON@mx.example.com>", "Delivery status notification: error", nil, func(r string, w why) string {
		return "Hi!\n\nThis is the MAILER-DAEMON, please DO NOT REPLY to this e-mail.\n\nAn error has occurred while attempting to deliver a message for\nthe following list of recipients:\n\n" + r + ": " + w.line(r) + "\n\nBelow is a copy of the original message:\n\n" + original(r) + "\nHello"
	}},
	{"exchange2003", "System Administrator <postmaster@example.com>", "Undeliverable: [#4711] Your request", nil, func(r string, w why) string {
		return "Your message did not reach some or all of the intended recipients.\n\n      Subject:\t[#4711] Your request\n      Sent:\t3/3/2015 9:00 AM\n\nThe following recipient(s) cannot be reached:\n\n      Some Name on 3/3/2015 9:01 AM\n            The e-mail account does not exist at the organization this message was sent to.\n            <mx.example.com #" + w.status + " smtp;" + w.line(r) + ">\n\n      " + r + " on 3/3/2015 9:01 AM\n"
	}},
	{"exchange2013", "Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@example.com>", "Undeliverable: [#4711] Your request", nil, func(r string, w why) string {
		return "Delivery has failed to these recipients or groups:\n\n" + r + "\nThe email address you entered couldn't be found. Please check the recipient's email address and try to resend the message.\n\nDiagnostic information for administrators:\n\nGenerating server: mx.example.com\n\n" + r + "\nRemote Server returned '" + w.line(r) + "'\n\nOriginal message headers:\n\n" + original(r)
	}},
	{"office365", "Microsoft Outlook <postmaster@contoso.onmicrosoft.com>", "Undeliverable: [#4711] Your request", nil, func(r string, w why) string {
		return "Your message to " + r + " couldn't be delivered.\n\nThe recipient's mailbox rejected the message.\n\nSupport\tOffice 365\tAction Required\n\nHow to Fix It\n\nMore Info for Email Admins\nStatus code: " + w.status + "\n\nThe receiving server said: " + w.line(r) + "\n\nOriginal Message Details\nCreated Date:\t3/3/2015 9:00:00 AM\nSender Address:\tsupport@example.com\nRecipient Address:\t" + r + "\nSubject:\t[#4711] Your request\n\nOriginal message headers:\n\n" + original(r)
	}},
	{"gmail", "Mail Delivery Subsystem <mailer-daemon@googlemail.com>", "Delivery Status Notification (Failure)", nil, func(r string, w why) string {
		return "** Message not delivered **\n\nYour message wasn't delivered to " + r + " because the remote server rejected it.\n\nThe response from the remote server was:\n" + w.line(r) + "\n\n----- Original message -----\n\n" + original(r) + "\nHello"
	}},
	{"yahoo", "MAILER-DAEMON@yahoo.com", "Failure Notice", nil, func(r string, w why) string {
		return "Sorry, we were unable to deliver your message to the following address.\n\n<" + r + ">:\nRemote host said: " + w.line(r) + " [RCPT_TO]\n\n--- Below this line is a copy of the message.\n\n" + original(r) + "\nHello"
	}},
	{"outlookcom", "postmaster@outlook.com", "Undeliverable: [#4711] Your request", nil, func(r string, w why) string {
		return "Delivery has failed to these recipients or groups:\n\n" + r + "\nThe recipient's mailbox rejected the message.\n\nDiagnostic information for administrators:\n\nGenerating server: BY2PR0101MB1111.prod.outlook.com\n\n" + r + "\nRemote Server returned '" + w.line(r) + "'\n\nOriginal message headers:\n\n" + original(r)
	}},
	{"sendgrid", "MAILER-DAEMON <bounce@sendgrid.net>", "Undelivered Mail Returned to Sender", nil, func(r string, w why) string {
		return "This is an automatically generated message from SendGrid.\n\nI'm sorry to have to tell you that your message was not able to be\ndelivered to one of its intended recipients.\n\nIf you require assistance with this, please contact SendGrid support.\n\n" + r + ": " + w.line(r) + "\n\nOriginal message follows.\n\n" + original(r)
	}},
	{"mailgun", "Mailgun <postmaster@mg.example.com>", "Delivery Status Notification (Failure)", []string{"Auto-Submitted: auto-replied"}, func(r string, w why) string {
		return "Delivery to the following recipient failed permanently:\n\n     " + r + "\n\nTechnical details of permanent failure:\n" + w.line(r) + "\n\n----- Original message -----\n\n" + original(r)
	}},
	{"gmx", "Mail Delivery System <mailer-daemon@gmx.net>", "Mail delivery failed: returning message to sender", nil, func(r string, w why) string {
		return "This message was created automatically by mail delivery software.\n\nA message that you sent could not be delivered to one or more of\nits recipients. This is a permanent error. The following address\nfailed:\n\n\"" + r + "\":\n\nSMTP error from remote server after RCPT command:\nhost: mx.example.org\n" + w.line(r) + "\n\n--- The header of the original message is following. ---\n\n" + original(r)
	}},
	{"kddi", "MAILER-DAEMON@ezweb.ne.jp", "Mail System Error - Returned Mail", nil, func(r string, w why) string {
		return "This is a MIME-encapsulated message.\n\nYour mail sent on: Tue, 3 Mar 2015 09:00:00 +0900\n   Could not be delivered to: <" + r + ">\n   " + w.line(r) + "\n\n------ Original message follows ------\n\n" + original(r)
	}},
	{"docomo", "Mail Delivery Subsystem <mailer-daemon@docomo.ne.jp>", "Returned mail: see transcript for details", nil, func(r string, w why) string {
		return "The original message was received at Tue, 3 Mar 2015 09:00:01 +0900\nfrom mfsmax.docomo.ne.jp [192.0.2.1]\n\n   ----- The following addresses had permanent fatal errors -----\n<" + r + ">\n    (reason: " + w.line(r) + ")\n\n   ----- Original message follows -----\n" + original(r)
	}},
	{"ezweb", "MAILER-DAEMON@ezweb.ne.jp", "Mail System Error - Returned Mail", nil, func(r string, w why) string {
		return "The user(s) account is disabled or your mail could not be delivered.\n\n<" + r + ">: " + w.line(r) + "\n\n--- Original message follows ---\n" + original(r)
	}},
	{"mcafee", "Postmaster <postmaster@mx.example.com>", "Delivery Status Notification (Failure)", nil, func(r string, w why) string {
		return "Content-Description: Notification\n\n--- The following addresses had delivery problems ---\n\n<" + r + ">   (" + w.line(r) + ")\n\n--- Original message follows ---\n" + original(r)
	}},
	{"trendmicro", "MAILER-DAEMON@mx.example.com", "Mail could not be delivered", nil, func(r string, w why) string {
		return "The message that you sent was not delivered.\n\nSent <<< RCPT TO:<" + r + ">\nReceived >>> " + w.line(r) + "\n\nUnable to deliver message to <" + r + ">.\n\n--- Original message follows ---\n" + original(r)
	}},
	{"messagelabs", "Mail Delivery System <MAILER-DAEMON@messagelabs.com>", "Mail Delivery Failure", nil, func(r string, w why) string {
		return "This is an automatically generated message. Your mail could not be delivered\nto one or more recipients.\n\nDelivery to the following recipients failed:\n\n  " + r + "\n\nReason: " + w.line(r) + "\n\n--- The header of the original message is following. ---\n\n" + original(r)
	}},
	{"barracuda", "MAILER-DAEMON@barracuda.example.com", "** Address not found **", []string{"Auto-Submitted: auto-generated"}, func(r string, w why) string {
		return "Your message could not be delivered to the following recipient:\n\n" + r + "\n\nThe remote server said: " + w.line(r) + "\n\n--- Below this line is a copy of the message.\n\n" + original(r)
	}},
	{"dma", "MAILER-DAEMON <MAILER-DAEMON@host.example.com>", "Mail delivery failed", nil, func(r string, w why) string {
		return "This is the DragonFly Mail Agent v0.11 at host.example.com.\n\nThere was an error delivering your mail to <" + r + ">.\n\nremote delivery failed: " + w.line(r) + "\n\nMessage headers follow.\n\n" + original(r)
	}},
	{"james", "MAILER-DAEMON@james.example.com", "[BOUNCE]", nil, func(r string, w why) string {
		return "Hi. This is the James mail server at james.example.com.\nI'm afraid I wasn't able to deliver your message to the following addresses.\nThis is a permanent error; I've given up. Sorry it didn't work out.  Below\nI include the list of recipients and the reason why I was unable to deliver\nyour message.\n\nFailed recipient(s):\n" + r + "\n\nError message:\n" + w.line(r) + "\n\n--- Below this line is a copy of the message.\n\n" + original(r)
	}},
	{"imail", "Postmaster <postmaster@imail.example.com>", "Undeliverable Mail", nil, func(r string, w why) string {
		return "Unknown user: " + r + "\n\n" + w.line(r) + "\n\nOriginal message follows.\n\n" + original(r)
	}},
	{"domino", "Postmaster <postmaster@domino.example.com>", "DELIVERY FAILURE: Error transferring to mx.example.org", nil, func(r string, w why) string {
		return "Your message\n\n  Subject: [#4711] Your request\n\nwas not delivered to:\n\n  " + r + "\n\nbecause:\n\n  " + w.line(r) + "\n\nOriginal message headers:\n\n" + original(r)
	}},
	{"mfilter", "MAILER-DAEMON@mfilter.example.jp", "failure notice", nil, func(r string, w why) string {
		return "*** ErrorCode ***\n" + w.line(r) + "\n\n*** Delivery Failed Recipients ***\n" + r + "\n\n*** Original Message ***\n" + original(r)
	}},
	{"x1", "Mail Administrator <postmaster@x1.example.com>", "Returned Mail: Error During Delivery", nil, func(r string, w why) string {
		return "Message delivery to '" + r + "' failed:\n" + w.line(r) + "\n\n------ Original message headers ------\n" + original(r)
	}},
	{"x2", "MAILER-DAEMON@x2.example.com", "Delivery failure", nil, func(r string, w why) string {
		return "Delivery to the following recipients failed.\n\n       " + r + "\n\n" + w.line(r) + "\n\n-- original message headers --\n" + original(r)
	}},
}

func dsnFields(r string, w why, action string) string {
	return "Reporting-MTA: dns; mx.example.com\nArrival-Date: Tue, 3 Mar 2015 09:00:01 +0100\n\nFinal-Recipient: rfc822; " + r + "\nOriginal-Recipient: rfc822;" + r + "\nAction: " + action + "\nStatus: " + w.status + "\nRemote-MTA: dns; mx.example.org\nDiagnostic-Code: smtp; " + w.line(r) + "\n"
}

// report builds a multipart/report with a human part, a delivery-status
// part (of type dsType) and the original's header.
func report(from, subject, reportType, human, dsType, fields, orig string) string {
	ct := "multipart/report; boundary=\"R\""
	if reportType != "-" {
		ct = "multipart/report; report-type=" + reportType + "; boundary=\"R\""
	}
	return header(from, subject, "Auto-Submitted: auto-replied", "Content-Type: "+ct) + "\nThis is a MIME-encapsulated message.\n\n--R\nContent-Type: text/plain; charset=us-ascii\n\n" + human +
		"\n\n--R\nContent-Type: " + dsType + "\n\n" + fields + "\n--R\nContent-Type: text/rfc822-headers\n\n" + orig + "\n--R--\n"
}

func autoCases() []tc {
	var out []tc
	for i, m := range mtas {
		for j, w := range whys {
			r := fmt.Sprintf("user%d.%d@example.org", i, j)
			var extra []string
			for _, e := range m.extra {
				extra = append(extra, strings.ReplaceAll(e, "%r", r))
			}
			raw := plain(m.from, m.subject, m.body(r, w), extra...)
			id := origID
			if m.name == "exchange2003" {
				id = "" // its text has no copy of the original
			}
			out = append(out, tc{dir: "auto/bounce-mta", name: m.name + "_" + w.reason, raw: raw, class: "bounce",
				bounce: &want{Recipient: r, Status: w.status, Reason: w.reason, OriginalMessageID: id}})
		}
	}
	// RFC 3464 reports, with the right, a wrong and no report-type, and
	// the status as a text part.
	for j, w := range whys {
		r := fmt.Sprintf("dsn%d@example.org", j)
		human := "This is the mail system at host mx.example.com.\n\nI'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients."
		bw := &want{Recipient: r, Status: w.status, Reason: w.reason, OriginalMessageID: origID}
		for _, v := range []struct{ name, rt, dsType, from string }{
			{"standard", "delivery-status", "message/delivery-status", "MAILER-DAEMON@mx.example.com (Mail Delivery System)"},
			{"wrong_type", "disposition-notification", "message/delivery-status", "MAILER-DAEMON@mx.example.com"},
			{"no_type", "-", "message/delivery-status", "Mail Delivery Subsystem <mailer-daemon@mx.example.com>"},
			{"text_status", "delivery-status", "text/plain", "postmaster@mx.example.com"},
			{"global", "global-delivery-status", "message/global-delivery-status", "MAILER-DAEMON@mx.example.com"},
			{"relay_sender", "delivery-status", "message/delivery-status", "Support Relay <relay@example.net>"},
		} {
			out = append(out, tc{dir: "auto/bounce-dsn", name: v.name + "_" + w.reason, class: "bounce", bounce: bw,
				raw: report(v.from, "Undelivered Mail Returned to Sender", v.rt, human, v.dsType, dsnFields(r, w, "failed"), original(r))})
		}
	}
	// Amazon SES: the DSN by mail and the JSON notification.
	for j, w := range whys {
		r := fmt.Sprintf("ses%d@example.org", j)
		out = append(out, tc{dir: "auto/bounce-dsn", name: "ses_mail_" + w.reason, class: "bounce",
			bounce: &want{Recipient: r, Status: w.status, Reason: w.reason, OriginalMessageID: origID},
			raw: report("MAILER-DAEMON@amazonses.com", "Delivery Status Notification (Failure)", "delivery-status",
				"An error occurred while trying to deliver the mail to the following recipients:\n"+r, "message/delivery-status", dsnFields(r, w, "failed"), original(r))})
		js := `{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General","bouncedRecipients":[{"emailAddress":"` + r + `","action":"failed","status":"` + w.status + `","diagnosticCode":"smtp; ` + w.line(r) + `"}],"timestamp":"2015-03-03T09:00:01.000Z","feedbackId":"0100-abc"},"mail":{"timestamp":"2015-03-03T09:00:00.000Z","source":"support@example.com","messageId":"0100-ses-id","destination":["` + r + `"],"commonHeaders":{"from":["support@example.com"],"to":["` + r + `"],"messageId":"<` + origID + `>","subject":"[#4711] Your request"}}}`
		out = append(out, tc{dir: "auto/bounce-dsn", name: "ses_json_" + w.reason, class: "bounce",
			bounce: &want{Recipient: r, Status: w.status, Reason: w.reason, OriginalMessageID: origID},
			raw:    plain("AWS Notifications <no-reply@sns.amazonaws.com>", "AWS Notification Message", js)})
	}
	// Delays and host-unknown.
	out = append(out, tc{dir: "auto/bounce-dsn", name: "delayed", class: "bounce",
		bounce: &want{Recipient: "slow@example.org", Reason: "delayed", OriginalMessageID: origID},
		raw: report("MAILER-DAEMON@mx.example.com", "Delayed Mail (still being retried)", "delivery-status", "This is the mail system at host mx.example.com.\n\n####################################################################\n# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n####################################################################",
			"message/delivery-status", "Reporting-MTA: dns; mx.example.com\n\nFinal-Recipient: rfc822; slow@example.org\nAction: delayed\nStatus: 4.4.1\nDiagnostic-Code: X-Postfix; connect to mx.example.org[192.0.2.25]:25: Connection timed out\n", original("slow@example.org"))})
	out = append(out, tc{dir: "auto/bounce-dsn", name: "expired", class: "bounce",
		bounce: &want{Recipient: "gone@example.org", Status: "4.4.7", Reason: "expired", OriginalMessageID: origID},
		raw: report("MAILER-DAEMON@mx.example.com", "Undelivered Mail Returned to Sender", "delivery-status", "This is the mail system at host mx.example.com.\n\nI'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.",
			"message/delivery-status", "Reporting-MTA: dns; mx.example.com\n\nFinal-Recipient: rfc822; gone@example.org\nAction: failed\nStatus: 4.4.7\nDiagnostic-Code: X-Postfix; delivery temporarily suspended: connect to mx.example.org: Connection timed out\n", original("gone@example.org"))})
	for i, m := range []string{"postfix", "exim"} {
		r := fmt.Sprintf("nohost%d@example.invalid", i)
		body := "This is the mail system at host mx.example.com.\n\nI'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.\n\n<" + r + ">: Host or domain name not found. Name service error for\n    name=example.invalid type=AAAA: Host not found\n\n--- Original message follows.\n\n" + original(r)
		if m == "exim" {
			body = "This message was created automatically by mail delivery software.\n\nA message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  " + r + "\n    Unrouteable address\n\n------ This is a copy of the message, including all the headers. ------\n\n" + original(r)
		}
		out = append(out, tc{dir: "auto/bounce-mta", name: m + "_hostunknown", class: "bounce",
			bounce: &want{Recipient: r, Reason: "hostunknown", OriginalMessageID: origID},
			raw:    plain("MAILER-DAEMON@mx.example.com (Mail Delivery System)", "Undelivered Mail Returned to Sender", body)})
	}
	out = append(out, feedbackCases()...)
	out = append(out, autoReplyCases()...)
	out = append(out, notBounceCases()...)
	return out
}

func feedbackCases() []tc {
	var out []tc
	types := []string{"abuse", "fraud", "virus", "other", "not-spam"}
	agents := []string{"Yahoo!-Mail-Feedback/1.0", "AOL SComp", "Hotmail FBL", "SomeGenerator/1.0", "Comcast FBL"}
	for i, ft := range types {
		for k, v := range []string{"standard", "wrong_type", "no_type"} {
			r := fmt.Sprintf("reader%d@example.org", i)
			rt := "feedback-report"
			if v == "wrong_type" {
				rt = "delivery-status"
			}
			ct := "multipart/report; report-type=" + rt + "; boundary=\"F\""
			if v == "no_type" {
				ct = "multipart/report; boundary=\"F\""
			}
			raw := header("Feedback Loop <"+fmt.Sprintf("fbl%d", k)+"@fbl.example.net>", "Abuse report for your message", "Content-Type: "+ct) +
				"\n--F\nContent-Type: text/plain; charset=us-ascii\n\nThis is an email abuse report for an email message received from IP 192.0.2.1 on Tue, 3 Mar 2015 09:00:00 +0100.\n\n--F\nContent-Type: message/feedback-report\n\nFeedback-Type: " + ft + "\nUser-Agent: " + agents[i] + "\nVersion: 1\nOriginal-Mail-From: <support@example.com>\nOriginal-Rcpt-To: <" + r + ">\nArrival-Date: Tue, 3 Mar 2015 09:00:00 +0100\nSource-IP: 192.0.2.1\nReported-Domain: example.com\n\n--F\nContent-Type: message/rfc822\nContent-Disposition: inline\n\n" + original(r) + "\nHello\n--F--\n"
			out = append(out, tc{dir: "auto/feedback", name: ft + "_" + v, raw: raw, class: "feedback",
				bounce: &want{Recipient: r, Reason: "feedback", FeedbackType: ft, OriginalMessageID: origID}})
		}
	}
	for i := 0; i < 3; i++ {
		r := fmt.Sprintf("complainer%d@example.org", i)
		js := `{"notificationType":"Complaint","complaint":{"complainedRecipients":[{"emailAddress":"` + r + `"}],"timestamp":"2015-03-03T09:00:01.000Z","feedbackId":"0100-abc","complaintFeedbackType":"abuse"},"mail":{"messageId":"0100-ses","commonHeaders":{"messageId":"<` + origID + `>"}}}`
		out = append(out, tc{dir: "auto/feedback", name: fmt.Sprintf("ses_complaint_%d", i), raw: plain("AWS Notifications <no-reply@sns.amazonaws.com>", "AWS Notification Message", js), class: "feedback",
			bounce: &want{Recipient: r, Reason: "feedback", FeedbackType: "abuse", OriginalMessageID: origID}})
	}
	return out
}

func autoReplyCases() []tc {
	var out []tc
	add := func(name, raw string) {
		out = append(out, tc{dir: "auto/auto-reply", name: name, raw: raw, class: "auto-reply"})
	}
	subjects := []string{"Out of Office: [#4711] Your request", "Automatic reply: [#4711] Your request", "Abwesenheitsnotiz: [#4711]", "Réponse automatique : [#4711]",
		"Respuesta automática: [#4711]", "Risposta automatica: [#4711]", "Automatisch antwoord: [#4711]", "Automatiskt svar: [#4711]", "自動応答: [#4711]", "Автоматический ответ: [#4711]",
		"Auto: [#4711] Your request", "[Auto-Reply] [#4711]", "Resposta automática: [#4711]", "Automatyczna odpowiedź: [#4711]", "自动回复: [#4711]"}
	for i, s := range subjects {
		add(fmt.Sprintf("subject_%d", i), plain("Some Name <some.name@example.org>", s, "I am out of the office until Monday and will answer after my return."))
	}
	heads := [][]string{{"Auto-Submitted: auto-replied"}, {"Auto-Submitted: auto-generated"}, {"X-Autoreply: yes"}, {"X-Autorespond: yes"}, {"Precedence: auto_reply"},
		{"X-Auto-Response-Suppress: All"}, {"Auto-Submitted: auto-replied (vacation)"}, {"X-Autogenerated: Reply"}}
	for i, h := range heads {
		add(fmt.Sprintf("header_%d", i), plain("Some Name <some.name@example.org>", "Re: [#4711] Your request", "Thank you for your message. I am on vacation until 10 March.", h...))
	}
	add("vacation_sieve", plain("Some Name <some.name@example.org>", "Away from the office", "I will be back on Monday.", "Auto-Submitted: auto-replied (vacation)", "Precedence: bulk"))
	add("read_receipt", header("Some Name <some.name@example.org>", "Read: [#4711] Your request", "Content-Type: multipart/report; report-type=disposition-notification; boundary=\"D\"")+
		"\n--D\nContent-Type: text/plain\n\nYour message was read.\n--D\nContent-Type: message/disposition-notification\n\nFinal-Recipient: rfc822; some.name@example.org\nDisposition: manual-action/MDN-sent-manually; displayed\n--D--\n")
	return out
}

func notBounceCases() []tc {
	var out []tc
	add := func(name, raw string, class string) {
		out = append(out, tc{dir: "auto/not-bounce", name: name, raw: raw, class: class})
	}
	cust := "Kim Customer <kim@customer.example>"
	add("subject_undeliverable", plain(cust, "Undeliverable package", "Hello, my package was returned as undeliverable. The tracking number is 123. Can you send it again?"), "")
	add("subject_undeliverable_colon", plain(cust, "Undeliverable: my parcel", "The courier says the parcel is undeliverable. What now?"), "")
	add("subject_delivery_failure", plain(cust, "Delivery failure", "Your delivery failed twice. I was at home all day."), "")
	add("subject_delivery_failed_code", plain(cust, "Delivery failed - error 550", "When I send mail to your team I get an error 550 5.1.1, your message could not be delivered. Can you check?"), "")
	add("subject_returned_mail", plain(cust, "Returned mail from your shop", "I returned the mail order last week, when do I get my money back?"), "")
	add("subject_mail_delivery_failed", plain(cust, "Mail delivery failed when I write to sales", "Hi, whenever I write to sales@example.com I get a message back. Is the address right?"), "")
	add("subject_dsn", plain(cust, "Delivery Status Notification question", "How do I turn off the delivery status notifications in your product?"), "")
	add("reply_quoting_bounce", plain(cust, "Re: Undelivered Mail Returned to Sender", "Why did I get this? I never wrote to that address.\n\nOn Tue, Mar 3, 2015 at 10:11 AM, Mail Delivery System <MAILER-DAEMON@mx.example.com> wrote:\n> This is the mail system at host mx.example.com.\n>\n> I'm sorry to have to inform you that your message could not\n> be delivered to one or more recipients.\n>\n> <someone@example.org>: host mx.example.org said: 550 5.1.1 User unknown"), "")
	add("reply_quoting_bounce_outlook", plain(cust, "AW: Undeliverable: Offer", "Can you check this?\n\nVon: Microsoft Outlook <postmaster@customer.example>\nGesendet: Dienstag, 3. März 2015 10:00\nAn: Kim Customer <kim@customer.example>\nBetreff: Undeliverable: Offer\n\nDelivery has failed to these recipients or groups:\n\nbuyer@example.org\nThe email address you entered couldn't be found.\n\nRemote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'"), "")
	add("forwarded_bounce", plain(cust, "FW: Undelivered Mail Returned to Sender", "My mail to your colleague bounced, please have a look.\n\n---------- Forwarded message ---------\nFrom: Mail Delivery System <MAILER-DAEMON@mx.customer.example>\nDate: Tue, Mar 3, 2015 at 10:11 AM\nSubject: Undelivered Mail Returned to Sender\nTo: <kim@customer.example>\n\nThis is the mail system at host mx.customer.example.\n\nI'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.\n\n<old.colleague@example.com>: host mx.example.com said: 550 5.1.1 User unknown"), "")
	add("postmaster_person", plain("Postmaster <postmaster@customer.example>", "Mail from your server is rejected", "Hello,\n\nI am the mail administrator at customer.example. Since yesterday our users cannot deliver mail to your support address; our server logs show 550 5.7.1 from your MX. Could you check your spam filter?\n\nRegards,\nPat"), "")
	add("postmaster_person_undeliverable", plain("Pat Admin <postmaster@customer.example>", "Undeliverable messages to your domain", "Hi, several messages from us to your team were undeliverable this morning. Is there an outage?"), "")
	add("postmaster_person_reply", plain("Postmaster <postmaster@customer.example>", "Re: [#4711] Mail problem", "Thanks, it works again."), "")
	add("newsletter", plain("Example News <news@news.example>", "Your delivery update: undeliverable addresses cleaned", "This month we cleaned up undeliverable addresses from our list. Message could not be delivered? Read more on our blog.", "List-Unsubscribe: <mailto:unsubscribe@news.example>", "List-Id: <news.news.example>", "Precedence: bulk"), "list")
	add("newsletter_bounce_words", plain("Shop <shop@news.example>", "Mail delivery failed? Not with our new service", "Unable to deliver your message? Our new mail service guarantees delivery.", "List-Unsubscribe: <https://news.example/u>"), "list")
	add("newsletter_from_bounces", plain("Shop News <newsletter@news.example>", "Spring sale", "Everything 20% off.", "Return-Path: <bounces+123@news.example>", "List-Unsubscribe: <https://news.example/u>"), "list")
	add("customer_pastes_error", plain(cust, "Error when sending", "I get this error when I send to you:\n\n550 5.1.1 <support@example.com>: Recipient address rejected: User unknown\n\nWhat is wrong?"), "")
	add("customer_failure_notice_topic", plain(cust, "failure notice from your system", "Your system sent me a failure notice about my order. What does it mean?"), "")
	add("ordinary", plain(cust, "Question about my invoice", "Hello, I have a question about invoice 4711."), "")
	add("ordinary_german", plain(cust, "Unzustellbare Lieferung", "Hallo, meine Lieferung war unzustellbar. Bitte erneut senden."), "")
	add("human_out_of_office_topic", plain(cust, "Out of office settings do not save", "The out of office settings in the portal do not save."), "")
	add("human_auto_reply_topic", plain(cust, "How to set an automatic reply", "How can I set up an automatic reply in your tool?"), "")
	add("customer_undeliverable_html", html(cust, "Undeliverable: invoice 4711", "<p>Hi, the invoice you sent was undeliverable to our accounting address, please resend to accounting@customer.example.</p>"), "")
	add("mailer_daemon_name_in_text", plain(cust, "mailer-daemon messages", "Why do I get messages from MAILER-DAEMON when I write to you?"), "")
	return out
}
