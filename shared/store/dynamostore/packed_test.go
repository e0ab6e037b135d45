package dynamostore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"mailconnector/shared/ledger"
	"mailconnector/shared/message"
	"mailconnector/shared/request"
)

// itemSize is the size DynamoDB bills an item by: the UTF-8 length of
// each attribute name plus that of its value (strings and binaries by
// their bytes, numbers by their digits, about).
func itemSize(it item) int {
	n := 0
	for k, v := range it {
		n += len(k)
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			n += len(v.Value)
		case *types.AttributeValueMemberB:
			n += len(v.Value)
		case *types.AttributeValueMemberN:
			n += len(v.Value)
		}
	}
	return n
}

// TestLedgerItemUnderOneKB: a processed entry of an ordinary message
// makes an item under 1 KB, one write unit a write (its JSON alone is
// close to 1 KB), and reads back as it was; an item written before,
// with its JSON in "data", still reads.
func TestLedgerItemUnderOneKB(t *testing.T) {
	at := time.Date(2026, 12, 6, 4, 33, 16, 768552213, time.UTC)
	e := ledger.Entry{JobID: "support-desk", Key: "imap/INBOX/1796531596/8", MessageID: "8.1.2b75ea04@mail.contoso.example",
		Source:      ledger.Source{Protocol: "imap", Folder: "INBOX", Validity: 1796531596, UID: 8},
		Fingerprint: ledger.Fingerprint("8.1.2b75ea04@mail.contoso.example", strings.Repeat("6f", 32)), Size: 1450,
		RawKey: "raw/support-desk/7d25c45fa6e4869f4ea3448581a5fed5.eml", NormKey: "norm/support-desk/7d25c45fa6e4869f4ea3448581a5fed5.json",
		State: ledger.Processed, RequestID: "30", Conversation: "c-5be511c6f907766286c8c919", Action: "create",
		From: "kenji.clarke@contoso.example", FromName: "Kenji Clarke", Subject: "VPN disconnects every few minutes",
		Date: at.Add(-24 * time.Hour), Why: []string{"threads to no request", "default: create"}, RunID: "20261206T043316Z-6851fe52",
		Attempts: 1, FetchedAt: at, UpdatedAt: at.Add(time.Second), Disposed: true, Disposition: "markRead", Version: 5}
	s := New(nil, "t", &Options{LedgerTTL: 90 * 24 * time.Hour})
	it, err := s.entryItem(e)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(e)
	if n := itemSize(it); n >= 1024 {
		t.Errorf("item size: got %d bytes (its JSON %d), want under 1024", n, len(b))
	}
	got, err := decodeEntry(it)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(e, got); d != "" {
		t.Errorf("read back (-want +got):\n%s", d)
	}
	old := keyOf(ledgerPK(e.JobID), e.Key)
	old["data"], old["version"] = str(string(b)), num(e.Version)
	if got, err := decodeEntry(old); err != nil || !cmp.Equal(e, got) {
		t.Errorf("an item with its JSON in data: got %v, %v; want it read as written", got, err)
	}
}

// TestRequestDataPacked: a request's JSON is stored deflated on its item,
// and reads back; JSON that does not fit deflated still spills to parts.
func TestRequestDataPacked(t *testing.T) {
	at := time.Date(2026, 12, 6, 4, 33, 16, 0, time.UTC)
	r := request.Request{ID: "30", Number: 30, JobID: "support-desk", Title: "VPN disconnects every few minutes",
		Description: strings.Repeat("The VPN client drops the tunnel every few minutes since this morning. ", 30),
		Requester:   message.Address{Name: "Kenji Clarke", Address: "kenji.clarke@contoso.example"}, Status: request.Open,
		SourceKey: "imap/INBOX/1796531596/8", MessageID: "8.1.2b75ea04@mail.contoso.example", CreatedAt: at, UpdatedAt: at}
	it, parts, err := requestItem(r)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(r)
	if _, ok := it[attrPacked]; !ok || len(parts) != 0 || itemSize(it) >= 1024 {
		t.Errorf("request item: packed %v, %d parts, %d bytes (JSON %d); want packed, no parts, under 1 KB", ok, len(parts), itemSize(it), len(b))
	}
	var got request.Request
	if err := (&Store{}).decodeJoined(context.Background(), it, nil, &got); err != nil || !cmp.Equal(r, got) {
		t.Errorf("read back: got %+v, %v; want %+v", got, err, r)
	}

	// Text that deflate cannot shrink below the item's share spills.
	noise := make([]byte, maxItemData)
	rand.NewChaCha8([32]byte{1}).Read(noise)
	r.Description = base64.StdEncoding.EncodeToString(noise)
	it, parts, err = requestItem(r)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := it[attrPacked]; ok || len(parts) == 0 {
		t.Fatalf("long request: packed %v, %d parts; want it in parts", ok, len(parts))
	}
	byOwner := map[string][]item{getS(it, AttrSK): parts}
	got = request.Request{}
	if err := (&Store{}).decodeJoined(context.Background(), it, byOwner, &got); err != nil || got.Description != r.Description {
		t.Errorf("long request read back: %v, description equal %v", err, got.Description == r.Description)
	}
}
