// Package awsnotify sends notices on AWS: notices for the administrators
// (alerts, recoveries, and any notice without recipients) to an SNS topic
// whose subscriptions reach them, and notices to a message's sender
// through SES v2.
package awsnotify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"mailconnector/shared/notify"
)

// ErrNotConfigured means the notice needs a topic or a sender address the
// Notifier was not given.
var ErrNotConfigured = errors.New("awsnotify: not configured")

// maxSubject is SNS's bound on a subject: "less than 100 characters".
const maxSubject = 99

// Notifier sends notices through SNS and SES.
type Notifier struct {
	sns      *sns.Client
	ses      *sesv2.Client
	topicARN string
	from     string
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a Notifier; topicARN receives the administrators' notices,
// from is the sender address of notices to senders (an SES identity; ""
// turns those off).
func New(snsClient *sns.Client, sesClient *sesv2.Client, topicARN, from string) *Notifier {
	return &Notifier{sns: snsClient, ses: sesClient, topicARN: topicARN, from: from}
}

// Notify sends n: a Sender notice with recipients by e-mail, any other to
// the topic.
func (n *Notifier) Notify(ctx context.Context, no notify.Notice) error {
	_, err := n.NotifySent(ctx, no)
	return err
}

// NotifySent sends n as Notify does and returns the Message-ID (without
// angle brackets) the e-mail went out under, "" for a notice published to
// the topic. SES replaces any Message-ID it is given with its own,
// <ID@email.amazonses.com> in us-east-1 and <ID@REGION.amazonses.com>
// elsewhere, ID being what SendEmail returns; no.MessageID is therefore
// not used. It implements rules.SentNotifier, so a reply to the notice
// threads to its request.
func (n *Notifier) NotifySent(ctx context.Context, no notify.Notice) (string, error) {
	if no.Kind == notify.Sender && len(no.To) > 0 {
		return n.email(ctx, no)
	}
	return "", n.publish(ctx, no)
}

// snsSubject makes s a valid SNS subject: one line, no control
// characters, fewer than 100 characters.
func snsSubject(s string) string {
	s = strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)), " ")
	if r := []rune(s); len(r) > maxSubject {
		s = strings.TrimSpace(string(r[:maxSubject-1])) + "…"
	}
	return s
}

func (n *Notifier) publish(ctx context.Context, no notify.Notice) error {
	if n.topicARN == "" {
		return fmt.Errorf("awsnotify: publish %s for job %s: no topic: %w", no.Kind, no.JobID, ErrNotConfigured)
	}
	in := &sns.PublishInput{
		TopicArn: aws.String(n.topicARN), Message: aws.String(no.Body),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"kind": {DataType: aws.String("String"), StringValue: aws.String(no.Kind)},
		},
	}
	if no.Body == "" { // SNS refuses an empty message
		in.Message = aws.String(no.Subject)
	}
	if s := snsSubject(no.Subject); s != "" {
		in.Subject = aws.String(s)
	}
	if no.JobID != "" { // SNS refuses an empty attribute value
		in.MessageAttributes["jobId"] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(no.JobID)}
	}
	if _, err := n.sns.Publish(ctx, in); err != nil {
		return fmt.Errorf("awsnotify: publish %s for job %s: %w", no.Kind, no.JobID, err)
	}
	return nil
}

// msgID is a Message-ID as a header value (RFC 5322 section 3.6.4), or ""
// when id cannot be one (empty, or with brackets, spaces or line breaks).
func msgID(id string) string {
	id = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">")
	if id == "" || strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r == '<' || r == '>' || r > '~' }) {
		return ""
	}
	return "<" + id + ">"
}

// sesMessageID is the Message-ID header SES gives a message it accepted
// as id in region.
func sesMessageID(region, id string) string {
	if region == "" || region == "us-east-1" {
		return id + "@email.amazonses.com"
	}
	return id + "@" + region + ".amazonses.com"
}

func (n *Notifier) email(ctx context.Context, no notify.Notice) (string, error) {
	if n.from == "" {
		return "", fmt.Errorf("awsnotify: e-mail notice for job %s: no sender address: %w", no.JobID, ErrNotConfigured)
	}
	// RFC 3834 section 5: an automatic message, so autoresponders stay
	// quiet; the connector's own header lets it recognise a notice that
	// comes back to a support mailbox.
	headers := []sestypes.MessageHeader{
		{Name: aws.String("Auto-Submitted"), Value: aws.String("auto-generated")},
		{Name: aws.String("X-Mail-Connector"), Value: aws.String("notice; job=" + no.JobID)},
	}
	// RFC 5322 section 3.6.4: the notice answers the sender's message.
	if id := msgID(no.InReplyTo); id != "" {
		headers = append(headers,
			sestypes.MessageHeader{Name: aws.String("In-Reply-To"), Value: aws.String(id)},
			sestypes.MessageHeader{Name: aws.String("References"), Value: aws.String(id)})
	}
	subject := strings.Join(strings.Fields(no.Subject), " ") // no line breaks in a header
	out, err := n.ses.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(n.from),
		Destination:      &sestypes.Destination{ToAddresses: no.To},
		Content: &sestypes.EmailContent{Simple: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String(subject), Charset: aws.String("UTF-8")},
			Body:    &sestypes.Body{Text: &sestypes.Content{Data: aws.String(no.Body), Charset: aws.String("UTF-8")}},
			Headers: headers,
		}},
	})
	if err != nil {
		return "", fmt.Errorf("awsnotify: e-mail notice for job %s to %d recipients: %w", no.JobID, len(no.To), err)
	}
	id := aws.ToString(out.MessageId)
	if id == "" {
		return "", nil
	}
	return sesMessageID(n.ses.Options().Region, id), nil
}
