package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"testing"

	"mailconnector/shared/job"
	"mailconnector/shared/ledger"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/queue/memqueue"
	"mailconnector/shared/testkit/localtest"
)

// sizedBox serves one message per UID with the size its Scan tells,
// which need not be the size of what Fetch sends.
type sizedBox struct {
	arrivalBox
	bodies map[uint32][]byte
	told   map[uint32]int64
}

func (b sizedBox) Scan(_ context.Context, cursor string) (*mailbox.Scan, error) {
	s := &mailbox.Scan{Cursor: fmt.Sprint(len(b.bodies))}
	if cursor != "" {
		return s, nil
	}
	for uid := uint32(1); uid <= uint32(len(b.bodies)); uid++ {
		s.Items = append(s.Items, mailbox.Item{Source: ledger.Source{Protocol: "imap", Folder: "INBOX", Validity: 1, UID: uid},
			Size: b.told[uid], Cursor: fmt.Sprint(uid)})
	}
	return s, nil
}

func (b sizedBox) Fetch(_ context.Context, items []mailbox.Item, fn func(mailbox.Item, io.Reader) error) error {
	for _, it := range items {
		if err := fn(it, bytes.NewReader(b.bodies[it.Source.UID])); err != nil {
			return err
		}
	}
	return nil
}

// TestRawMessagesWhateverTheSizeTold: a raw message is stored whole, with
// its size, Message-ID and fingerprint, whether the server told its size
// right, too small (it is read into memory up to the hand-over size and
// the rest streams after) or too large, below and above the hand-over
// size, or not at all.
func TestRawMessagesWhateverTheSizeTold(t *testing.T) {
	j := imapJob(t, "")
	message := func(uid uint32, size int) []byte {
		head := fmt.Sprintf("Message-ID: <m%d@example.com>\r\nFrom: a@example.com\r\nSubject: s\r\n\r\n", uid)
		return append([]byte(head), bytes.Repeat([]byte{'a' + byte(uid)}, size-len(head))...)
	}
	cases := []struct {
		size int
		told int64
	}{
		{100, 100},                       // right, small
		{handOff - 10, handOff - 10},     // right, just under the hand-over
		{3 * handOff, 3 * handOff},       // right, large: streamed
		{3 * handOff, 1000},              // too small: read to the hand-over, then streamed
		{2000, 3 * handOff},              // too large: streamed
		{handOff + 1, 0},                 // not told
		{keepBuffer + 1, keepBuffer + 1}, // a buffer not kept after
		{500, 500},                       // and one that may reuse a kept buffer
	}
	box := sizedBox{bodies: map[uint32][]byte{}, told: map[uint32]int64{}}
	for i, c := range cases {
		uid := uint32(i + 1)
		box.bodies[uid], box.told[uid] = message(uid, c.size), c.told
	}
	blobs := localtest.Blobs(t, t.TempDir())
	st := localtest.Store(t, t.TempDir())
	svc := New(Options{Store: st, Blobs: blobs, Queue: memqueue.New(nil),
		Opener: OpenerFunc(func(context.Context, *job.Job) (mailbox.Session, error) { return box, nil })})
	ctx := context.Background()
	if r, err := svc.Run(ctx, j, RunOptions{Trigger: "manual"}); err != nil || r.Fetched != len(cases) {
		t.Fatalf("run: got %d fetched, %v; want %d", r.Fetched, err, len(cases))
	}
	for i, c := range cases {
		uid := uint32(i + 1)
		want := box.bodies[uid]
		e, err := st.Entry(ctx, j.ID, ledger.Source{Protocol: "imap", Folder: "INBOX", Validity: 1, UID: uid}.Key())
		if err != nil {
			t.Fatalf("message %d (%d bytes, told %d): %v", uid, c.size, c.told, err)
		}
		rc, err := blobs.Get(ctx, e.RawKey)
		if err != nil {
			t.Fatalf("message %d: raw: %v", uid, err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		sum := sha256.Sum256(want)
		msgID := fmt.Sprintf("m%d@example.com", uid)
		switch {
		case !bytes.Equal(got, want):
			t.Errorf("message %d (%d bytes, told %d): stored %d bytes, not the message", uid, c.size, c.told, len(got))
		case e.Size != int64(len(want)) || e.MessageID != msgID || e.Fingerprint != ledger.Fingerprint(msgID, hex.EncodeToString(sum[:])):
			t.Errorf("message %d (%d bytes, told %d): entry size %d, Message-ID %q, fingerprint %q", uid, c.size, c.told, e.Size, e.MessageID, e.Fingerprint)
		}
	}
}
