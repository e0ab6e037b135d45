package fetch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"mailconnector/shared/blob"
	"mailconnector/shared/ledger"
)

// The parts of a mail's error details, each a sealed object under
// ledger.ErrorDetailKey.
const (
	DetailReason  = "reason.txt"
	DetailHeaders = "headers.txt"
	DetailMessage = "message.eml"
)

// sealDetails keeps the details of e, just moved to the error folder, in
// Options.ErrorDetails (sealed at rest): its reason, its header section
// and the raw .eml. Then it removes the plaintext copies (the raw message,
// the normalized one and its attachments), so none stays at rest. A
// retry takes the raw copy back from the sealed one (rawBack).
func (rs *runState) sealDetails(ctx context.Context, e ledger.Entry) error {
	details := rs.s.o.ErrorDetails
	if details == nil || e.RawKey == "" {
		return nil
	}
	rc, err := rs.s.o.Blobs.Get(ctx, e.RawKey)
	if errors.Is(err, blob.ErrNotFound) {
		return nil // sealed already, or never stored
	}
	if err != nil {
		return fmt.Errorf("seal the details of %s: read the raw message: %w", e.Key, err)
	}
	head := &headSniffer{}
	_, err = details.Put(ctx, ledger.ErrorDetailKey(e.JobID, e.Key, DetailMessage), io.TeeReader(rc, head))
	rc.Close()
	if err != nil {
		return fmt.Errorf("seal the details of %s: %w", e.Key, err)
	}
	if _, err := details.Put(ctx, ledger.ErrorDetailKey(e.JobID, e.Key, DetailHeaders), bytes.NewReader(headerSection(head.buf.Bytes()))); err != nil {
		return fmt.Errorf("seal the details of %s: %w", e.Key, err)
	}
	if _, err := details.Put(ctx, ledger.ErrorDetailKey(e.JobID, e.Key, DetailReason), strings.NewReader(reasonText(e))); err != nil {
		return fmt.Errorf("seal the details of %s: %w", e.Key, err)
	}
	return rs.s.dropPlaintext(ctx, e)
}

// dropPlaintext removes the raw and normalized copies of e and its
// attachments. The sealed copies reach the disk first: a blob store that
// syncs in batches (blob.Syncer) could otherwise persist the removal and
// lose the sealed copy to a power cut.
func (s *Service) dropPlaintext(ctx context.Context, e ledger.Entry) error {
	sy, syncs := s.o.Blobs.(blob.Syncer)
	if syncs {
		if err := sy.Sync(ctx); err != nil {
			return fmt.Errorf("store the sealed copy of %s: %w", e.Key, err)
		}
	}
	norm := e.NormKey
	if norm == "" {
		norm = ledger.NormKey(e.JobID, e.Key)
	}
	keys := attachmentKeys(ctx, s.o.Blobs, norm)
	keys = append(keys, norm, e.RawKey)
	for _, k := range keys {
		if err := s.o.Blobs.Delete(ctx, k); err != nil {
			return fmt.Errorf("remove the plaintext copy %s of %s: %w", k, e.Key, err)
		}
	}
	if syncs {
		return sy.Sync(ctx)
	}
	return nil
}

// attachmentKeys are the blob keys of the attachments the normalized
// message at norm names (none if it is absent or unreadable).
func attachmentKeys(ctx context.Context, blobs blob.Store, norm string) []string {
	rc, err := blobs.Get(ctx, norm)
	if err != nil {
		return nil
	}
	defer rc.Close()
	var m struct {
		Attachments []struct {
			BlobKey string `json:"blobKey"`
		} `json:"attachments"`
	}
	if json.NewDecoder(rc).Decode(&m) != nil {
		return nil
	}
	var out []string
	for _, a := range m.Attachments {
		if a.BlobKey != "" {
			out = append(out, a.BlobKey)
		}
	}
	return out
}

// headerSection is the header of a raw message, up to the blank line.
func headerSection(b []byte) []byte {
	for _, sep := range []string{"\r\n\r\n", "\n\n"} {
		if i := bytes.Index(b, []byte(sep)); i >= 0 {
			return b[:i+len(sep)/2]
		}
	}
	return b
}

// reasonText is what reason.txt says.
func reasonText(e ledger.Entry) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Job: %s\nLedger key: %s\nMessage-ID: %s\nOutcome: %s\nReason: %s\nFetched: %s\nDisposition: %s\n",
		e.JobID, e.Key, e.MessageID, e.Outcome(), e.Reason, e.FetchedAt.UTC().Format("2006-01-02 15:04:05Z"), e.Disposition)
	for _, w := range e.Warnings {
		fmt.Fprintf(&b, "Warning: %s\n", w)
	}
	return b.String()
}

// rawBack puts the raw copy of e back from its sealed details when it is
// no longer stored in the clear, so that a retry can process it again.
func (s *Service) rawBack(ctx context.Context, e ledger.Entry) error {
	if s.o.Blobs == nil {
		return nil // a service that only records retries; the stages read the raw copy
	}
	rc, err := s.o.Blobs.Get(ctx, e.RawKey)
	if err == nil {
		rc.Close()
		return nil
	}
	if !errors.Is(err, blob.ErrNotFound) {
		return fmt.Errorf("read the raw copy of %s: %w", e.Key, err)
	}
	if s.o.ErrorDetails == nil {
		return fmt.Errorf("the raw copy of %s is not stored in the clear, and no key was given to open its sealed copy", e.Key)
	}
	sealed, err := s.o.ErrorDetails.Get(ctx, ledger.ErrorDetailKey(e.JobID, e.Key, DetailMessage))
	if err != nil {
		return fmt.Errorf("open the sealed copy of %s: %w", e.Key, err)
	}
	defer sealed.Close()
	if _, err := s.o.Blobs.Put(ctx, e.RawKey, sealed); err != nil {
		return fmt.Errorf("put the raw copy of %s back: %w", e.Key, err)
	}
	if sy, ok := s.o.Blobs.(blob.Syncer); ok {
		return sy.Sync(ctx)
	}
	return nil
}
