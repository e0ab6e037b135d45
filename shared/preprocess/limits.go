package preprocess

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/emersion/go-message/textproto"

	"mailconnector/shared/job"
)

// maxFieldBytes caps one header field of the message; a longer one (a
// 1 MB Subject) is cut with a warning and the rest of the message is read.
const maxFieldBytes = 64 << 10

// limits are the job's per-message limits (job.Limits), defaults applied.
type limits struct {
	parts, depth, attachments int
	header, decoded           int64
}

func newLimits(j *job.Job) limits {
	var l job.Limits
	if j != nil {
		l = j.Limits
	}
	pick := func(v, def int) int {
		if v <= 0 {
			return def
		}
		return v
	}
	return limits{
		parts:       pick(l.MaxParts, job.DefaultMaxParts),
		depth:       pick(l.MaxDepth, job.DefaultMaxDepth),
		attachments: pick(l.MaxAttachments, job.DefaultMaxAttachments),
		header:      int64(pick(int(l.MaxHeaderSize), job.DefaultMaxHeaderSize)),
		decoded:     int64(pick(int(l.MaxDecodedSize), job.DefaultMaxDecodedSize)),
	}
}

// LimitError says that a message is over a hard limit of its job
// (job.Limits): retrying cannot help, the message fails with this reason.
type LimitError struct {
	// Limit is the jobs-file key, e.g. "limits.maxParts".
	Limit string
	// Max is the limit's value.
	Max int64
	// What says what went over it.
	What string
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("preprocess: %s: over %s (%d)", e.What, e.Limit, e.Max)
}

// overLimit records the first hard limit the message went over; it ends
// Process like an input error.
func (p *processor) overLimit(limit string, max int64, format string, args ...any) error {
	if p.limitErr == nil {
		p.limitErr = &LimitError{Limit: limit, Max: max, What: fmt.Sprintf(format, args...)}
	}
	return p.limitErr
}

// countPart counts one more MIME entity against limits.maxParts.
func (p *processor) countPart() error {
	p.parts++
	if p.parts > p.limits.parts {
		return p.overLimit("limits.maxParts", int64(p.limits.parts), "more than %d MIME parts", p.limits.parts)
	}
	return nil
}

// checkPartHeader holds a part's header against limits.maxHeaderSize.
func (p *processor) checkPartHeader(h textproto.Header, path string) error {
	n := int64(0)
	for f := h.Fields(); f.Next(); {
		n += int64(len(f.Key()) + len(f.Value()) + 4)
	}
	if n > p.limits.header {
		return p.overLimit("limits.maxHeaderSize", p.limits.header, "%s: header of %d bytes", partName(path), n)
	}
	return nil
}

// countDecoded counts decoded bytes against limits.maxDecodedSize.
func (p *processor) countDecoded(n int) error {
	p.decoded += int64(n)
	if p.decoded > p.limits.decoded {
		return p.overLimit("limits.maxDecodedSize", p.limits.decoded, "parts decode to more than %d bytes", p.limits.decoded)
	}
	return nil
}

// dropStored deletes the attachments stored so far, when the message
// fails: its raw copy keeps them.
func (p *processor) dropStored() {
	if p.opts.Blobs == nil {
		return
	}
	for _, a := range p.msg.Attachments {
		if a.BlobKey != "" {
			_ = p.opts.Blobs.Delete(p.ctx, a.BlobKey)
		}
	}
}

// readHeaderBlock reads the message's header block (RFC 5322 section
// 2.2) up to the blank line, bounded: a field longer than maxFieldBytes is
// cut (its name goes to cut), and a block that is still larger than max
// bytes is a hard limit. It returns the bytes to parse, ending in the
// blank line.
func (p *processor) readHeaderBlock(br *bufio.Reader) ([]byte, []string, error) {
	var block bytes.Buffer
	var cut []string
	fieldLen, fieldName, cutting := 0, "", false
	for {
		line, isPrefix, err := br.ReadLine()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return block.Bytes(), cut, nil
			}
			return nil, nil, err
		}
		continued := len(line) > 0 && (line[0] == ' ' || line[0] == '\t') && block.Len() > 0
		if !continued {
			if len(line) == 0 {
				block.WriteString("\r\n")
				return block.Bytes(), cut, nil
			}
			fieldName, _, _ = strings.Cut(string(line[:min(len(line), 100)]), ":")
			fieldLen, cutting = 0, false
		}
		for {
			if !cutting {
				room := maxFieldBytes - fieldLen
				if len(line) > room {
					line = line[:room]
					cutting = true
					cut = append(cut, strings.ToLower(strings.TrimSpace(fieldName)))
				}
				block.Write(line)
				fieldLen += len(line)
			}
			if !isPrefix {
				break
			}
			if line, isPrefix, err = br.ReadLine(); err != nil {
				break
			}
		}
		block.WriteString("\r\n")
		if int64(block.Len()) > p.limits.header {
			return nil, nil, p.overLimit("limits.maxHeaderSize", p.limits.header, "header block larger than %d bytes", p.limits.header)
		}
	}
}
