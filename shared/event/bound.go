package event

import (
	"encoding/json"
	"slices"
	"unicode/utf8"
)

// Bounds of an event. EventBridge refuses an entry over 256 KB, detail,
// detail type and source together
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html);
// MaxSize leaves room for all but the detail.
const (
	MaxSize         = 240 << 10 // the detail's JSON
	MaxSubject      = 1000      // bytes of Subject and Request.Title
	MaxShort        = 1000      // bytes of From, Statement, Reason, the requester and each custom value
	MaxAttachments  = 100       // attachments listed
	MaxParticipants = 100       // participants listed
	MaxFilename     = 255       // bytes of an attachment's filename
)

// Fit returns e cut to fit the bounds above, for any message: a field
// past its bound is cut (on a UTF-8 boundary) and named in Truncated;
// lists keep their first entries and say how many there were
// (AttachmentCount, Request.ParticipantCount). If the JSON is still over
// MaxSize (text that JSON escapes sixfold), the attachments, the
// participants, the custom fields and then the text are dropped whole.
// What was cut stays whole in the normalized message under NormKey.
// Fit of a fitted event changes nothing.
func Fit(e Event) Event {
	cut := func(field string, s *string, n int) {
		if len(*s) <= n {
			return
		}
		*s = cutString(*s, n)
		e.noteTruncated(field)
	}
	cut("subject", &e.Subject, MaxSubject)
	cut("from", &e.From, MaxShort)
	cut("statement", &e.Statement, MaxShort)
	cut("reason", &e.Reason, MaxShort)
	if e.Bounce != nil {
		b := *e.Bounce
		e.Bounce = &b
		cut("bounce", &b.Recipient, MaxShort)
		cut("bounce", &b.Diagnostic, MaxShort)
		cut("bounce", &b.OriginalMessageID, MaxShort)
	}
	if e.Request != nil {
		r := *e.Request
		e.Request = &r
		cut("request.title", &r.Title, MaxSubject)
		cut("request.requester", &r.Requester.Name, MaxShort)
		cut("request.requester", &r.Requester.Address, MaxShort)
		if len(r.Participants) > MaxParticipants {
			r.ParticipantCount = len(r.Participants)
			r.Participants = r.Participants[:MaxParticipants:MaxParticipants]
			e.noteTruncated("request.participants")
		}
		if len(r.Custom) > 0 {
			custom := make(map[string]string, len(r.Custom))
			for k, v := range r.Custom {
				if len(v) > MaxShort {
					v = cutString(v, MaxShort)
					e.noteTruncated("request.custom")
				}
				custom[k] = v
			}
			r.Custom = custom
		}
	}
	if len(e.Text) > MaxText {
		e.Text, e.TextTruncated = cutString(e.Text, MaxText), true
		e.noteTruncated("text")
	}
	if len(e.Attachments) > MaxAttachments {
		e.AttachmentCount = len(e.Attachments)
		e.Attachments = e.Attachments[:MaxAttachments]
		e.noteTruncated("attachments")
	}
	if len(e.Attachments) > 0 {
		atts := slices.Clone(e.Attachments)
		for i := range atts {
			if len(atts[i].Filename) > MaxFilename {
				atts[i].Filename = cutString(atts[i].Filename, MaxFilename)
				e.noteTruncated("attachments")
			}
		}
		e.Attachments = atts
	}
	// Still too large: drop whole lists, then the text.
	drops := []func(){
		func() {
			if len(e.Attachments) > 0 {
				if e.AttachmentCount == 0 {
					e.AttachmentCount = len(e.Attachments)
				}
				e.Attachments = nil
				e.noteTruncated("attachments")
			}
		},
		func() {
			if e.Request != nil && len(e.Request.Participants) > 0 {
				if e.Request.ParticipantCount == 0 {
					e.Request.ParticipantCount = len(e.Request.Participants)
				}
				e.Request.Participants = nil
				e.noteTruncated("request.participants")
			}
		},
		func() {
			if e.Request != nil && len(e.Request.Custom) > 0 {
				e.Request.Custom = nil
				e.noteTruncated("request.custom")
			}
		},
		func() {
			if e.Text != "" {
				e.Text, e.TextTruncated = "", true
				e.noteTruncated("text")
			}
		},
	}
	for _, drop := range drops {
		if size(e) <= MaxSize {
			break
		}
		drop()
	}
	return e
}

func (e *Event) noteTruncated(field string) {
	if !slices.Contains(e.Truncated, field) {
		e.Truncated = append(slices.Clip(e.Truncated), field)
	}
}

func size(e Event) int {
	b, err := json.Marshal(e)
	if err != nil {
		return 0
	}
	return len(b)
}

// cutString cuts s to at most n bytes on a UTF-8 boundary.
func cutString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
