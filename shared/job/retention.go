package job

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// How long a job's message objects are kept when the jobs file is silent:
// the raw MIME 30 days, the normalized message and its attachments a year.
// MaxRetentionDays bounds both (100 years, as an S3 lifecycle rule allows).
const (
	DefaultRawDays        = 30
	DefaultNormalizedDays = 365
	MaxRetentionDays      = 36500
)

// Retention is how long a job's message objects are kept, counted from
// when each object was written. On AWS the bucket's lifecycle rules expire
// them (infra/ builds the rules from the jobs file); locally `connector
// prune`, and the scheduled local runner once a day, remove them, except
// what a message that has no final outcome yet still needs. The ledger,
// requests and conversations are not objects: retention leaves them.
type Retention struct {
	// RawDays keeps the raw MIME message (raw/<job>/) and the protocol
	// traces of the job's runs (traces/<job>/).
	RawDays int `yaml:"rawDays" json:"rawDays,omitempty"`
	// NormalizedDays keeps the normalized message and its attachments
	// (norm/<job>/, att/<job>/).
	NormalizedDays int `yaml:"normalizedDays" json:"normalizedDays,omitempty"`
}

// retentionFields are the keys of a retention block, for the checks of
// the defaults (the jobs' go through fieldChecks).
var retentionFields = []struct {
	key   string
	value func(r *Retention) *int
}{
	{"rawDays", func(r *Retention) *int { return &r.RawDays }},
	{"normalizedDays", func(r *Retention) *int { return &r.NormalizedDays }},
}

// daysBetween says "v days is not between 1 and MaxRetentionDays".
func daysBetween(v int64) string {
	return fmt.Sprintf("%d days is not between 1 and %d", v, MaxRetentionDays)
}

// retentionCheck is the fieldCheck of one retention field of a job.
func retentionCheck(key string, value func(r *Retention) *int) fieldCheck {
	return fieldCheck{field: "retention." + key, min: 1, max: MaxRetentionDays, msg: daysBetween, noZero: true,
		value: func(j *Job) int64 { return int64(*value(&j.Retention)) }}
}

// DefaultRetention is the retention of a job that sets none: the jobs
// file's defaults.retention where it is valid, else DefaultRawDays and
// DefaultNormalizedDays.
func (f *File) DefaultRetention() Retention {
	r := Retention{RawDays: DefaultRawDays, NormalizedDays: DefaultNormalizedDays}
	if f.Defaults == nil || f.Defaults.Retention == nil {
		return r
	}
	for _, fld := range retentionFields {
		if v := *fld.value(f.Defaults.Retention); v >= 1 && v <= MaxRetentionDays {
			*fld.value(&r) = v
		}
	}
	return r
}

// LongestRetention is, for raw and normalized objects each, the longest
// retention of the file's defaults and jobs. The bucket's rules for every
// job expire objects after it (a shorter job adds rules of its own, and S3
// honours the shorter of two overlapping expirations), and so are kept
// the objects of a job no longer in the file.
func (f *File) LongestRetention() Retention {
	r := f.DefaultRetention()
	for i := range f.Jobs {
		j := f.Jobs[i].Retention
		r.RawDays = max(r.RawDays, j.RawDays)
		r.NormalizedDays = max(r.NormalizedDays, j.NormalizedDays)
	}
	return r
}

// RetentionOf is the retention of the job with that id, or
// LongestRetention for an id not in the file.
func (f *File) RetentionOf(id string) Retention {
	if j, ok := f.Job(id); ok {
		return j.Retention
	}
	return f.LongestRetention()
}

// applyRetentionDefaults gives every job the retention it leaves out:
// the file's default (DefaultRetention).
func (f *File) applyRetentionDefaults() {
	def := f.DefaultRetention()
	for i := range f.Jobs {
		r := &f.Jobs[i].Retention
		orDefault(&r.RawDays, def.RawDays)
		orDefault(&r.NormalizedDays, def.NormalizedDays)
	}
}

// checkDefaultRetention checks defaults.retention; a value out of range
// is reported once here, and the jobs take the built-in default instead.
func (f *File) checkDefaultRetention() Errors {
	if f.Defaults == nil || f.Defaults.Retention == nil {
		return nil
	}
	var errs Errors
	for _, fld := range retentionFields {
		// 0 is a key left out; written as 0 it is refused by defaultZeros.
		if v := *fld.value(f.Defaults.Retention); v != 0 && (v < 1 || v > MaxRetentionDays) {
			errs = append(errs, &FieldError{Index: fileLevel, Field: "defaults.retention." + fld.key, Msg: daysBetween(int64(v))})
		}
	}
	return errs
}

// defaultZeros reports a retention field of the defaults written as zero,
// which would otherwise read as left out.
func defaultZeros(doc *yaml.Node) Errors {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	r := mapValue(mapValue(doc.Content[0], "defaults"), "retention")
	var errs Errors
	for _, fld := range retentionFields {
		if n := mapValue(r, fld.key); n != nil && n.Kind == yaml.ScalarNode && isZero(n.Value) {
			errs = append(errs, &FieldError{Index: fileLevel, Field: "defaults.retention." + fld.key,
				Msg: fmt.Sprintf("must not be zero (%q); leave it out for the default", n.Value)})
		}
	}
	return errs
}
