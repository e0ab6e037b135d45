// Package mailgen generates realistic support mail, deterministically, for
// the demo, the tests and the benchmarks: Demo returns a dozen hand-written
// messages, Generate streams any number of random ones from a seed, and
// WriteLarge writes one message with an attachment of any size without
// holding it in memory. Every message is RFC 5322 with CRLF line endings
// and MIME (RFC 2045-2047) bodies, except in Hostile, the corpus of
// messages crafted to break a parser, each named with the outcome it must
// end with.
package mailgen

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Message is one generated message.
type Message struct {
	// Raw is the whole message, CRLF line endings.
	Raw []byte
	// MessageID is the Message-ID without angle brackets.
	MessageID string
	// Subject is the decoded subject.
	Subject string
}

// Options tune Generate; nil or zero fields take the defaults. A negative
// ratio means never.
type Options struct {
	// Seed chooses the messages: the same seed and options give the same bytes.
	Seed int64
	// AttachmentRatio is the share of messages with a base64 attachment (default 0.10).
	AttachmentRatio float64
	// MinAttachment and MaxAttachment bound the attachment size in bytes
	// (default 100 KB and 2 MB).
	MinAttachment, MaxAttachment int
	// NonUTF8Ratio is the share of messages in ISO-8859-1, windows-1252,
	// KOI8-R or Shift_JIS (default 0.1).
	NonUTF8Ratio float64
	// ReplyRatio is the share of replies to earlier generated messages,
	// with In-Reply-To, References and a quote (default 0.2).
	ReplyRatio float64
	// Domain of the support mailbox the mail is sent to (default example.com).
	Domain string
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	ratio := func(v *float64, def float64) {
		switch {
		case *v == 0:
			*v = def
		case *v < 0:
			*v = 0
		}
	}
	ratio(&r.AttachmentRatio, 0.10)
	ratio(&r.NonUTF8Ratio, 0.1)
	ratio(&r.ReplyRatio, 0.2)
	if r.MinAttachment <= 0 {
		r.MinAttachment = 100 << 10
	}
	if r.MaxAttachment <= 0 {
		r.MaxAttachment = 2 << 20
	}
	if r.MaxAttachment < r.MinAttachment {
		r.MaxAttachment = r.MinAttachment
	}
	if r.Domain == "" {
		r.Domain = "example.com"
	}
	return r
}

// parent is what a later reply needs of an earlier message.
type parent struct {
	index     int
	id        string
	subject   string
	name      string
	addr      string
	date      time.Time
	quote     []string
	refs      []string
	requestNo int
}

// recentParents bounds the memory Generate keeps for replies.
const recentParents = 64

var baseDate = time.Date(2026, 1, 5, 7, 30, 0, 0, time.UTC)

// Generate produces n messages, calling fn for each in order and stopping
// at the first error fn returns. Messages are multipart/alternative
// (text/plain and text/html), some multipart/mixed with an attachment,
// some in a charset other than UTF-8, some replies; dates increase and
// Message-IDs are unique. Only the message being written and a few
// dozen earlier headers are held in memory.
func Generate(n int, opts *Options, fn func(i int, m Message) error) error {
	o := opts.withDefaults()
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 0x6d61696c67656e))
	pForeign := o.NonUTF8Ratio
	if o.ReplyRatio < 1 {
		pForeign = min(1, o.NonUTF8Ratio/(1-o.ReplyRatio)) // replies are UTF-8
	}
	support := "IT Support <support@" + o.Domain + ">"
	var recent []parent
	date := baseDate
	for i := 0; i < n; i++ {
		date = date.Add(time.Duration(1+rng.IntN(20))*time.Minute + time.Duration(rng.IntN(60))*time.Second)
		z := zones[rng.IntN(len(zones))]
		s := &spec{To: support, Date: date.In(time.FixedZone(z.name, z.offset)), Alternative: true}
		if m := mailers[rng.IntN(len(mailers))]; m != "" {
			s.Extra = append(s.Extra, [2]string{"X-Mailer", m})
		}
		first := firstNames[rng.IntN(len(firstNames))]
		last := lastNames[rng.IntN(len(lastNames))]
		domain := customerDomains[rng.IntN(len(customerDomains))]
		small, large := strconv.Itoa(2+rng.IntN(8)), strconv.Itoa(100+rng.IntN(9900))
		ticket := fmt.Sprintf("%c%c-%04d", 'A'+rng.IntN(26), 'A'+rng.IntN(26), rng.IntN(10000))
		fill := func(t string) string {
			return strings.NewReplacer("{name}", first, "{n}", small, "{num}", large, "{ticket}", ticket).Replace(t)
		}
		s.From = first + " " + last
		s.FromAddr = strings.ToLower(strings.ReplaceAll(first+"."+last, "'", "")) + "@" + domain
		var p parent
		switch {
		case len(recent) > 0 && rng.Float64() < o.ReplyRatio:
			q := recent[rng.IntN(len(recent))]
			if rng.IntN(10) < 7 { // the original sender follows up
				s.From, s.FromAddr = q.name, q.addr
			}
			subject := q.subject
			if rng.IntN(10) < 4 {
				subject = fmt.Sprintf("[REQ-%06d] %s", q.requestNo, subject)
			}
			s.Subject = "Re: " + subject
			followUps := []string{
				"Hi,\n\nany update on this? It is still not working.",
				"Hello,\n\nthanks for the quick reply. I tried that, but the problem is back since this morning.",
				"Hi,\n\nfor your information: a colleague has the same problem now.",
				"Thanks, that fixed it. You can close the request.",
				"Hello,\n\nplease find more details below. It happens every day around 9 am.",
			}
			var b strings.Builder
			b.WriteString(followUps[rng.IntN(len(followUps))])
			b.WriteString("\n\n" + strings.SplitN(s.From, " ", 2)[0] + "\n\n")
			fmt.Fprintf(&b, "On %s, %s <%s> wrote:\n", q.date.Format("Mon, 2 Jan 2006 at 15:04"), q.name, q.addr)
			for _, l := range q.quote {
				b.WriteString(strings.TrimRight("> "+l, " ") + "\n")
			}
			s.Text = b.String()
			s.InReplyTo = q.id
			s.References = append(append([]string(nil), q.refs...), q.id)
			if len(s.References) > 10 {
				s.References = s.References[len(s.References)-10:]
			}
			p.subject, p.requestNo, p.refs = q.subject, q.requestNo, s.References
		case rng.Float64() < pForeign:
			f := foreigns[rng.IntN(len(foreigns))]
			s.Charset = f.charset
			s.From = f.names[rng.IntN(len(f.names))]
			first = strings.SplitN(s.From, " ", 2)[0]
			s.FromAddr = fmt.Sprintf("user%d@%s", rng.IntN(1000), domain)
			s.Subject = fill(f.subject)
			s.Text = fill(f.body) + "\n"
			p.subject, p.requestNo = s.Subject, i+1
		default:
			t := topics[rng.IntN(len(topics))]
			s.Subject = fill(t.subject)
			s.Text = fill(t.body) + "\n"
			p.subject, p.requestNo = s.Subject, i+1
		}
		if rng.Float64() < o.AttachmentRatio {
			k := attachmentKinds[rng.IntN(len(attachmentKinds))]
			size := o.MinAttachment + rng.IntN(o.MaxAttachment-o.MinAttachment+1)
			var seed [32]byte
			for j := 0; j < 4; j++ {
				binary.LittleEndian.PutUint64(seed[j*8:], rng.Uint64())
			}
			s.Attachment = &attachment{
				Name:        fmt.Sprintf("%s-%d.%s", []string{"screenshot", "report", "quote", "export", "scan"}[rng.IntN(5)], 1000+rng.IntN(9000), k.ext),
				ContentType: k.ctype,
				Size:        int64(size),
				Source:      io.MultiReader(bytes.NewReader(k.magic), rand.NewChaCha8(seed)),
			}
		}
		s.MessageID = fmt.Sprintf("%d.%d.%08x@mail.%s", i+1, o.Seed, rng.Uint32(), domain)

		var buf bytes.Buffer
		parts := 0
		boundary := func() string {
			parts++
			return fmt.Sprintf("----=_Part_%d_%d.%08x", i+1, parts, rng.Uint32())
		}
		if err := s.write(&buf, boundary); err != nil {
			return fmt.Errorf("generate message %d: %w", i, err)
		}
		if err := fn(i, Message{Raw: buf.Bytes(), MessageID: s.MessageID, Subject: s.Subject}); err != nil {
			return fmt.Errorf("handle generated message %d: %w", i, err)
		}

		p.index, p.id, p.name, p.addr, p.date = i, s.MessageID, s.From, s.FromAddr, s.Date
		lines := strings.Split(strings.TrimRight(s.Text, "\n"), "\n")
		p.quote = lines[:min(len(lines), 8)]
		if len(recent) < recentParents {
			recent = append(recent, p)
		} else {
			recent[i%recentParents] = p
		}
	}
	return nil
}

// WriteLarge writes one message with a base64 attachment of attachmentSize
// random bytes (from seed), streaming: memory use does not grow with the
// size.
func WriteLarge(w io.Writer, attachmentSize int64, seed int64) error {
	if attachmentSize < 0 {
		return fmt.Errorf("write large message: negative attachment size %d", attachmentSize)
	}
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], uint64(seed))
	s := &spec{
		From:        "Backup Robot",
		FromAddr:    "backup@ops.example",
		To:          "IT Support <support@example.com>",
		Subject:     fmt.Sprintf("Nightly export (%d bytes)", attachmentSize),
		Date:        baseDate,
		MessageID:   fmt.Sprintf("large.%d.%d@ops.example", seed, attachmentSize),
		Text:        "Hello,\n\nattached is the nightly export.\n\nBackup Robot\n",
		Alternative: true,
		Attachment: &attachment{
			Name:        "export.bin",
			ContentType: "application/octet-stream",
			Size:        attachmentSize,
			Source:      rand.NewChaCha8(key),
		},
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	n := 0
	if err := s.write(bw, func() string { n++; return fmt.Sprintf("----=_Large_%d_%d", seed, n) }); err != nil {
		return fmt.Errorf("write large message: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write large message: %w", err)
	}
	return nil
}
