package fetch

import (
	"fmt"
)

// LeaseHeldError is returned when another run holds the job.
type LeaseHeldError struct{ JobID string }

func (e *LeaseHeldError) Error() string {
	return fmt.Sprintf("fetch: job %s: another run holds the job's lease", e.JobID)
}
