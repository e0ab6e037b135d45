package prune

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// jobObjects are the directories of a job's message objects: raw,
// normalized, attachments and the sealed error details. Its run traces
// belong to its runs, which stay.
var jobObjects = []string{"raw", "norm", "att", "err"}

// RemoveJob removes every message object of the job from the blob
// directory dir (`connector reset`), and returns what it removed. Nothing
// else may write the job's objects meanwhile (the caller holds the job's
// lease and the state directory).
func RemoveJob(dir, jobID string) (Tally, error) {
	var t Tally
	if jobID == "" || filepath.Base(jobID) != jobID || jobID == "." || jobID == ".." {
		return t, fmt.Errorf("prune: remove the objects of job %q: not a job id", jobID)
	}
	for _, prefix := range jobObjects {
		top := filepath.Join(dir, prefix, jobID)
		err := filepath.WalkDir(top, func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			if info, err := e.Info(); err == nil {
				t.add(info.Size())
			}
			return nil
		})
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil {
			err = os.RemoveAll(top)
		}
		if err != nil {
			return t, fmt.Errorf("prune: remove the objects of job %s: %w", jobID, err)
		}
	}
	return t, nil
}
