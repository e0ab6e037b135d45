package preprocess

import (
	"bytes"
	"strings"
)

// maxReportPart is how much of a report part (delivery status, feedback
// report, the returned message's header) is kept for the bounce parser.
const maxReportPart = 16 << 10

// reportParts are the machine-readable parts of a report (RFC 6522),
// whatever the report-type of the multipart says.
type reportParts struct {
	dsn      []byte // message/delivery-status (RFC 3464)
	feedback []byte // message/feedback-report (RFC 5965)
	original []byte // text/rfc822-headers, or the head of a message/rfc822
}

// isReportPart reports whether an attachment of type ct is read by the
// bounce parser.
func isReportPart(ct string) bool {
	switch ct {
	case "message/delivery-status", "message/global-delivery-status", "message/feedback-report",
		"text/rfc822-headers", "message/rfc822-headers", "message/global-headers":
		return true
	}
	return false
}

// keepReportPart keeps a copy of the start of a report part: the first
// of each kind.
func (p *processor) keepReportPart(ct string, head []byte) {
	keep := func(dst *[]byte) {
		if *dst == nil {
			*dst = bytes.Clone(head[:min(len(head), maxReportPart)])
		}
	}
	switch {
	case ct == "message/delivery-status" || ct == "message/global-delivery-status":
		keep(&p.report.dsn)
	case ct == "message/feedback-report":
		keep(&p.report.feedback)
	case isReportPart(ct) || ct == "message/rfc822" || ct == "message/global":
		keep(&p.report.original)
	case strings.HasPrefix(ct, "text/") && p.report.dsn == nil && bytes.Contains(head, []byte("Final-Recipient")):
		// A delivery status sent as a text attachment (wrong type).
		keep(&p.report.dsn)
	}
}
