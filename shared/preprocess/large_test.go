package preprocess

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mailconnector/shared/job"
)

// lineWriter breaks base64 output into 76-character lines (RFC 2045
// section 6.8).
type lineWriter struct {
	w   *bufio.Writer
	col int
}

func (l *lineWriter) Write(b []byte) (int, error) {
	for _, c := range b {
		if l.col == 76 {
			if _, err := l.w.WriteString("\r\n"); err != nil {
				return 0, err
			}
			l.col = 0
		}
		if err := l.w.WriteByte(c); err != nil {
			return 0, err
		}
		l.col++
	}
	return len(b), nil
}

// bigMessage streams a message with a size-byte pseudo-random attachment
// through a pipe and returns the attachment's SHA-256. Nothing holds the
// whole message.
func bigMessage(size int64) (io.ReadCloser, <-chan string) {
	pr, pw := io.Pipe()
	sum := make(chan string, 1)
	go func() {
		bw := bufio.NewWriterSize(pw, 64<<10)
		fmt.Fprint(bw, "From: big@example.org\r\nTo: support@example.com\r\nSubject: big file\r\n"+
			"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=BIG\r\n\r\n"+
			"--BIG\r\nContent-Type: text/plain\r\n\r\nThe dump.\r\n"+
			"--BIG\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=dump.bin\r\n"+
			"Content-Transfer-Encoding: base64\r\n\r\n")
		h := sha256.New()
		enc := base64.NewEncoder(base64.StdEncoding, &lineWriter{w: bw})
		rng := rand.NewChaCha8([32]byte{1})
		chunk := make([]byte, 32<<10)
		for left := size; left > 0; {
			n := int64(len(chunk))
			if left < n {
				n = left
			}
			rng.Read(chunk[:n])
			h.Write(chunk[:n])
			if _, err := enc.Write(chunk[:n]); err != nil {
				pw.CloseWithError(err)
				return
			}
			left -= n
		}
		enc.Close()
		fmt.Fprint(bw, "\r\n--BIG--\r\n")
		if err := bw.Flush(); err != nil {
			pw.CloseWithError(err)
			return
		}
		sum <- hex.EncodeToString(h.Sum(nil))
		pw.Close()
	}()
	return pr, sum
}

// heapPeak samples HeapInuse until stop is called and returns the peak.
func heapPeak() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak.Load()
	}
}

func TestLargeAttachmentStreams(t *testing.T) {
	const size = 50 << 20
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	r, sum := bigMessage(size)
	defer r.Close()
	store := newMemStore()
	store.hashOnly = true
	stop := heapPeak()
	m, err := Process(context.Background(), r, &Options{
		Job:       &job.Job{Attachments: job.Attachments{MaxSize: 100 << 20}},
		Blobs:     store,
		KeyPrefix: "att/big/",
	})
	peak := stop()
	if err != nil {
		t.Fatalf("Process: %v", err)
	}
	want := <-sum
	if len(m.Attachments) != 1 {
		t.Fatalf("got %d attachments, want 1", len(m.Attachments))
	}
	a := m.Attachments[0]
	if a.Size != size || a.SHA256 != want || a.Dropped != "" {
		t.Errorf("attachment: got size %d sha256 %s dropped %q, want size %d sha256 %s kept", a.Size, a.SHA256, a.Dropped, size, want)
	}
	if got := store.hashes[a.BlobKey]; got != want {
		t.Errorf("stored blob SHA-256: got %s, want %s", got, want)
	}
	if m.VisibleText != "The dump." {
		t.Errorf("VisibleText: got %q, want %q", m.VisibleText, "The dump.")
	}
	growth := int64(peak) - int64(before.HeapInuse)
	t.Logf("HeapInuse before %d MB, peak %d MB", before.HeapInuse>>20, peak>>20)
	if growth > 16<<20 {
		t.Errorf("HeapInuse grew by %d MB while streaming a 50 MB attachment, want under 16 MB", growth>>20)
	}
}

func TestLargeAttachmentTooBig(t *testing.T) {
	r, sum := bigMessage(3 << 20)
	defer r.Close()
	store := newMemStore()
	m, err := Process(context.Background(), r, &Options{
		Job:   &job.Job{Attachments: job.Attachments{MaxSize: 1 << 20}},
		Blobs: store,
	})
	if err != nil {
		t.Fatalf("Process: %v", err)
	}
	want := <-sum
	a := m.Attachments[0]
	if a.Dropped != "larger than 1048576 bytes" || a.Size != 3<<20 || a.SHA256 != want || a.BlobKey != "" {
		t.Errorf("got %+v, want dropped as larger than 1048576 bytes with full size and hash", a)
	}
	if len(store.hashes) != 0 || len(store.deleted) != 1 {
		t.Errorf("store: got %d objects and deletes %q, want none kept and one delete", len(store.hashes), store.deleted)
	}
}

func BenchmarkProcess(b *testing.B) {
	files, err := filepath.Glob("testdata/*.eml")
	if err != nil {
		b.Fatal(err)
	}
	var corpus [][]byte
	var total int64
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		corpus = append(corpus, raw)
		total += int64(len(raw))
	}
	b.Run("testdata", func(b *testing.B) {
		b.SetBytes(total)
		b.ReportAllocs()
		for b.Loop() {
			for _, raw := range corpus {
				if _, err := Process(context.Background(), bytesReader(raw), &Options{Job: testJob()}); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("attachment-8MB", func(b *testing.B) {
		const size = 8 << 20
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			r, sum := bigMessage(size)
			store := newMemStore()
			store.hashOnly = true
			if _, err := Process(context.Background(), r, &Options{Blobs: store}); err != nil {
				b.Fatal(err)
			}
			<-sum
		}
	})
}
