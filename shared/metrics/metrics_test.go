package metrics

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestPutWritesEmbeddedMetricFormat(t *testing.T) {
	var buf bytes.Buffer
	w := New(&buf)
	w.now = func() time.Time { return time.UnixMilli(1700000000000) }
	if err := w.Put("support", Value{MessagesFetched, Count, 3}, Value{BytesFetched, Bytes, 4096}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		AWS struct {
			Timestamp         int64 `json:"Timestamp"`
			CloudWatchMetrics []struct {
				Namespace  string              `json:"Namespace"`
				Dimensions [][]string          `json:"Dimensions"`
				Metrics    []map[string]string `json:"Metrics"`
			} `json:"CloudWatchMetrics"`
		} `json:"_aws"`
		JobID           string  `json:"JobId"`
		MessagesFetched float64 `json:"MessagesFetched"`
		BytesFetched    float64 `json:"BytesFetched"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("decode %q: %v", buf.String(), err)
	}
	if doc.AWS.Timestamp != 1700000000000 || doc.JobID != "support" || doc.MessagesFetched != 3 || doc.BytesFetched != 4096 {
		t.Errorf("got %+v", doc)
	}
	cw := doc.AWS.CloudWatchMetrics
	if len(cw) != 1 || cw[0].Namespace != Namespace || len(cw[0].Metrics) != 2 || cw[0].Dimensions[0][0] != "JobId" {
		t.Errorf("got metrics directive %+v", cw)
	}
	if got, want := cw[0].Metrics[0]["Name"], BytesFetched; got != want {
		t.Errorf("got first metric %q, want %q (sorted)", got, want)
	}
}

func TestNilWriterIsQuiet(t *testing.T) {
	var w *Writer
	if err := w.Put("x", Value{MessagesFetched, Count, 1}); err != nil {
		t.Fatal(err)
	}
}
