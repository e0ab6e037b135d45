package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"mailconnector/shared/job"
)

// lambdaTaskRoot is where Lambda unpacks a function's code
// ($LAMBDA_TASK_ROOT).
const lambdaTaskRoot = "/var/task"

// jobsAssetName is the jobs file inside every function asset; the functions
// read $LAMBDA_TASK_ROOT/jobs.json unless envnames.JobsFile says otherwise.
const jobsAssetName = "jobs.json"

// placeholderBootstrap stands in for a function binary in a test synth
// (allowMissingBuild=true). Deployed by mistake, it fails every invocation
// with a message that says what to do.
const placeholderBootstrap = `#!/bin/sh
# Mail Connector: PLACEHOLDER, not a function. This stack was synthesized
# with allowMissingBuild=true (tests). Run "make build", then "make deploy".
echo "mail connector: placeholder code (allowMissingBuild=true): run make build, then make deploy" >&2
exit 1
`

// ErrMissingBuild means a function binary is missing from build/.
var ErrMissingBuild = errors.New("run make build first")

// lambdaJobsFile returns the jobs file as the functions get it: the
// validated file as JSON, with each caFile pointing into the asset
// (ca/<jobId>.pem), and the CA files to copy there (asset path → source).
func lambdaJobsFile(f *job.File) ([]byte, map[string]string, error) {
	out := job.File{Jobs: append([]job.Job(nil), f.Jobs...)}
	cas := map[string]string{}
	for i := range out.Jobs {
		j := &out.Jobs[i]
		if j.Server.CAFile == "" {
			continue
		}
		rel := filepath.ToSlash(filepath.Join("ca", j.ID+".pem"))
		cas[rel] = j.Server.CAFile
		j.Server.CAFile = lambdaTaskRoot + "/" + rel
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, nil, fmt.Errorf("marshal jobs file: %w", err)
	}
	return append(b, '\n'), cas, nil
}

// caFunctions are the functions that connect to IMAP and POP3 servers,
// the only users of a job's caFile: fetch. The others (the webhook, which
// is public, among them) get neither the CA files nor caFile in jobs.json.
var caFunctions = map[string]bool{fnFetch: true}

// withoutCAFiles is jobsJSON with every caFile removed.
func withoutCAFiles(jobsJSON []byte) ([]byte, error) {
	var f struct {
		Jobs []map[string]any `json:"jobs"`
	}
	if err := json.Unmarshal(jobsJSON, &f); err != nil {
		return nil, fmt.Errorf("read jobs.json: %w", err)
	}
	for _, j := range f.Jobs {
		if srv, ok := j["server"].(map[string]any); ok {
			delete(srv, "caFile")
		}
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal jobs file: %w", err)
	}
	return append(b, '\n'), nil
}

// stageFunction writes the asset directory of one function: its bootstrap
// from build/<name>/bootstrap (or the placeholder when allowed), jobs.json
// and, for the functions that use them (caFunctions), the jobs' CA files.
// It returns the directory and whether the placeholder was used.
func stageFunction(cfg Config, name string, jobsJSON []byte, cas map[string]string) (string, bool, error) {
	if !caFunctions[name] && len(cas) > 0 {
		var err error
		if jobsJSON, err = withoutCAFiles(jobsJSON); err != nil {
			return "", false, fmt.Errorf("stage %s: %w", name, err)
		}
		cas = nil
	}
	dir := filepath.Join(cfg.StagingDir, name)
	if err := os.RemoveAll(dir); err != nil {
		return "", false, fmt.Errorf("stage %s: %w", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", false, fmt.Errorf("stage %s: %w", name, err)
	}
	src := filepath.Join(cfg.BuildDir, name, "bootstrap")
	placeholder := false
	switch _, err := os.Stat(src); {
	case err == nil:
		if err := copyFile(filepath.Join(dir, "bootstrap"), src, 0o755); err != nil {
			return "", false, fmt.Errorf("stage %s: %w", name, err)
		}
	case errors.Is(err, fs.ErrNotExist) && cfg.AllowMissingBuild:
		placeholder = true
		if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte(placeholderBootstrap), 0o755); err != nil {
			return "", false, fmt.Errorf("stage %s: %w", name, err)
		}
	case errors.Is(err, fs.ErrNotExist):
		return "", false, fmt.Errorf("function %s: %s is missing: %w (or synth with -c allowMissingBuild=true for tests only)", name, src, ErrMissingBuild)
	default:
		return "", false, fmt.Errorf("function %s: %w", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, jobsAssetName), jobsJSON, 0o644); err != nil {
		return "", false, fmt.Errorf("stage %s: %w", name, err)
	}
	for rel, from := range cas {
		to := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return "", false, fmt.Errorf("stage %s: %w", name, err)
		}
		if err := copyFile(to, from, 0o644); err != nil {
			return "", false, fmt.Errorf("stage %s: CA file: %w", name, err)
		}
	}
	return dir, placeholder, nil
}

func copyFile(dst, src string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return os.Chmod(dst, mode)
}
