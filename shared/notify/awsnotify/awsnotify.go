// Package awsnotify sends notices on AWS: administrator alerts and
// recovery notices to an SNS topic (its subscriptions reach the
// administrators), and notices to a sender through SES v2.
package awsnotify

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"mailconnector/shared/notify"
)

// Notifier sends notices through SNS and SES.
type Notifier struct {
	sns      *sns.Client
	ses      *sesv2.Client
	topicARN string
	from     string
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a Notifier; topicARN receives alerts, from is the sender
// address of notices to senders ("" turns those off).
func New(snsClient *sns.Client, sesClient *sesv2.Client, topicARN, from string) *Notifier {
	return &Notifier{sns: snsClient, ses: sesClient, topicARN: topicARN, from: from}
}

// Notify sends n.
func (n *Notifier) Notify(ctx context.Context, no notify.Notice) error {
	switch no.Kind {
	case notify.Sender:
		return n.email(ctx, no)
	default:
		return n.publish(ctx, no)
	}
}

func (n *Notifier) publish(ctx context.Context, no notify.Notice) error {
	if n.topicARN == "" {
		return errors.New("awsnotify: no alert topic configured")
	}
	subject := no.Subject
	if r := []rune(subject); len(r) > 100 { // SNS's limit for e-mail subjects
		subject = string(r[:99]) + "…"
	}
	_, err := n.sns.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(n.topicARN), Subject: aws.String(subject), Message: aws.String(no.Body),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"jobId": {DataType: aws.String("String"), StringValue: aws.String(no.JobID)},
			"kind":  {DataType: aws.String("String"), StringValue: aws.String(no.Kind)},
		},
	})
	if err != nil {
		return fmt.Errorf("awsnotify: publish %s for job %s: %w", no.Kind, no.JobID, err)
	}
	return nil
}

func (n *Notifier) email(ctx context.Context, no notify.Notice) error {
	if n.from == "" {
		return errors.New("awsnotify: no sender address configured for notices to senders")
	}
	if len(no.To) == 0 {
		return nil
	}
	_, err := n.ses.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(n.from),
		Destination:      &sestypes.Destination{ToAddresses: no.To},
		Content: &sestypes.EmailContent{Simple: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String(no.Subject), Charset: aws.String("UTF-8")},
			Body:    &sestypes.Body{Text: &sestypes.Content{Data: aws.String(no.Body), Charset: aws.String("UTF-8")}},
			// RFC 3834: an automatic message, so autoresponders stay quiet;
			// the connector's own header lets it recognise a notice that
			// comes back to a support mailbox.
			Headers: []sestypes.MessageHeader{
				{Name: aws.String("Auto-Submitted"), Value: aws.String("auto-generated")},
				{Name: aws.String("X-Mail-Connector"), Value: aws.String("notice; job=" + no.JobID)},
			},
		}},
	})
	if err != nil {
		return fmt.Errorf("awsnotify: e-mail notice for job %s: %w", no.JobID, err)
	}
	return nil
}
