// Package metrics writes CloudWatch metrics through the embedded metric
// format: one JSON log line per observation, which CloudWatch Logs turns
// into metrics without any API call from the function.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
package metrics

import (
	"encoding/json"
	"io"
	"sort"
	"sync"
	"time"
)

// Namespace of every metric the connector emits.
const Namespace = "MailConnector"

// The metric names.
const (
	MessagesFetched               = "MessagesFetched"
	MessagesProcessed             = "MessagesProcessed"
	MessagesRejected              = "MessagesRejected"
	MessagesFailed                = "MessagesFailed"
	BytesFetched                  = "BytesFetched"
	RunDuration                   = "RunDuration"
	Backlog                       = "Backlog"
	ConsecutiveConnectionFailures = "ConsecutiveConnectionFailures"
)

// Units.
const (
	Count        = "Count"
	Bytes        = "Bytes"
	Milliseconds = "Milliseconds"
)

// Value is one metric value.
type Value struct {
	Name  string
	Unit  string
	Value float64
}

// Writer writes EMF lines.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

// New returns a Writer on w (os.Stdout in Lambda).
func New(w io.Writer) *Writer { return &Writer{w: w, now: time.Now} }

// Put writes values with the JobId dimension.
func (m *Writer) Put(jobID string, values ...Value) error {
	if m == nil || len(values) == 0 {
		return nil
	}
	defs := make([]map[string]string, 0, len(values))
	doc := map[string]any{"JobId": jobID}
	sort.Slice(values, func(i, j int) bool { return values[i].Name < values[j].Name })
	for _, v := range values {
		defs = append(defs, map[string]string{"Name": v.Name, "Unit": v.Unit})
		doc[v.Name] = v.Value
	}
	doc["_aws"] = map[string]any{
		"Timestamp": m.now().UnixMilli(),
		"CloudWatchMetrics": []map[string]any{{
			"Namespace":  Namespace,
			"Dimensions": [][]string{{"JobId"}},
			"Metrics":    defs,
		}},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, err = m.w.Write(append(b, '\n'))
	return err
}
