package sealed_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"mailconnector/shared/blob"
	"mailconnector/shared/blob/blobtest"
	"mailconnector/shared/blob/sealed"
	"mailconnector/shared/testkit/localtest"
)

func localKeys(tb testing.TB) *sealed.AESKey {
	tb.Helper()
	k, err := sealed.NewAESKey(sealed.NewMasterKey())
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func files(t *testing.T) blob.Store {
	return localtest.Blobs(t, t.TempDir())
}

// TestConformanceOnFiles: a sealed store on file blobs passes the blob
// suite, and keeps no plaintext.
func TestConformanceOnFiles(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return sealed.New(files(t), localKeys(t)) })
	suite(t, func(t *testing.T) (blob.Store, sealed.Keys) { return files(t), localKeys(t) })
}

// suite checks what sealing adds to a blob store: the stored bytes hold
// no plaintext, every size round-trips, and a changed, truncated, moved or
// foreign object fails with ErrTampered.
func suite(t *testing.T, newStore func(t *testing.T) (blob.Store, sealed.Keys)) {
	canary := []byte("CANARY-7f3a-the-body-of-an-error-mail")
	ctx := context.Background()
	get := func(t *testing.T, s blob.Store, key string) ([]byte, error) {
		t.Helper()
		rc, err := s.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	t.Run("NoPlaintextAtRest", func(t *testing.T) {
		under, keys := newStore(t)
		s := sealed.New(under, keys)
		data := bytes.Repeat(canary, 5000) // several chunks
		if _, err := s.Put(ctx, "err/job/a/message.eml", bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		raw, err := get(t, under, "err/job/a/message.eml")
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, canary[:12]) {
			t.Errorf("the stored object holds the plaintext")
		}
		got, err := get(t, s, "err/job/a/message.eml")
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("got %d bytes (err %v), want the %d put", len(got), err, len(data))
		}
	})
	t.Run("Sizes", func(t *testing.T) {
		under, keys := newStore(t)
		s := sealed.New(under, keys)
		for _, n := range []int{0, 1, 64<<10 - 1, 64 << 10, 64<<10 + 1, 3 * 64 << 10} {
			data := bytes.Repeat([]byte{'x'}, n)
			if w, err := s.Put(ctx, "k", bytes.NewReader(data)); err != nil || w != int64(n) {
				t.Fatalf("put %d bytes: wrote %d, err %v", n, w, err)
			}
			if got, err := get(t, s, "k"); err != nil || len(got) != n {
				t.Errorf("%d bytes: got %d (err %v)", n, len(got), err)
			}
		}
	})
	t.Run("Tampered", func(t *testing.T) {
		under, keys := newStore(t)
		s := sealed.New(under, keys)
		data := bytes.Repeat(canary, 3000)
		if _, err := s.Put(ctx, "a", bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		raw, err := get(t, under, "a")
		if err != nil {
			t.Fatal(err)
		}
		flip := bytes.Clone(raw)
		flip[len(flip)-20] ^= 1
		cases := map[string][]byte{
			"a changed byte": flip,
			"cut short":      raw[:len(raw)-100],
			"a lost chunk":   raw[:len(raw)/2],
		}
		for name, b := range cases {
			if _, err := under.Put(ctx, "b", bytes.NewReader(b)); err != nil {
				t.Fatal(err)
			}
			if _, err := get(t, s, "b"); !errors.Is(err, sealed.ErrTampered) {
				t.Errorf("%s: got %v, want ErrTampered", name, err)
			}
		}
		// The same bytes under another key: moved.
		if _, err := under.Put(ctx, "moved", bytes.NewReader(raw)); err != nil {
			t.Fatal(err)
		}
		if _, err := get(t, s, "moved"); !errors.Is(err, sealed.ErrTampered) {
			t.Errorf("moved: got %v, want ErrTampered", err)
		}
		// Another master key.
		if _, err := get(t, sealed.New(under, localKeys(t)), "a"); err == nil {
			t.Errorf("another master key opened the object")
		}
		if _, err := get(t, s, "absent"); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("absent: got %v, want blob.ErrNotFound", err)
		}
	})
}
